"""Every option of heat-upgrade-tests, declared in one place.

``list_opts`` is the ``oslo.config.opts`` entry point, so
``oslo-config-generator --namespace heat_upgrade_tests`` writes a sample
file. Phases run in separate processes (stestr workers, tox envs, grenade
hooks): they find their configuration file through the environment variable
``HEAT_UPGRADE_TESTS_CONFIG`` or oslo.config's usual search path.
"""

import os
import re

from oslo_config import cfg

CONFIG_ENV = 'HEAT_UPGRADE_TESTS_CONFIG'
PROJECT = 'heat-upgrade-tests'
# Everything the project keeps between runs lives under one directory.
CACHE_HOME = os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.join('~', '.cache'),
    PROJECT)

cloud_group = cfg.OptGroup('cloud', title='The cloud under test')
cloud_opts = [
    cfg.StrOpt('cloud', default='devstack',
               help='clouds.yaml entry of a non-admin member; most checks '
                    'run as this user. OS_CLOUD overrides it.'),
    cfg.StrOpt('admin_cloud', default='devstack-admin',
               help='clouds.yaml entry with admin credentials, for the '
                    'checks that need them (OS::Keystone::* is admin-only '
                    'in Heat\'s default policy).'),
    cfg.StrOpt('clouds_file',
               help='Path of the clouds.yaml to read; unset means '
                    'openstacksdk\'s usual search (OS_CLIENT_CONFIG_FILE, '
                    './clouds.yaml, ~/.config/openstack, /etc/openstack).'),
    cfg.StrOpt('from_series',
               help='Release series of the Heat upgraded from (e.g. '
                    '2026.1), or a Heat version (e.g. 26.0.2 or a '
                    'development version such as 27.1.0.dev4), mapped to '
                    'its series. Checks use it for their minimum series '
                    'and their known failures; unset means unknown: no '
                    'minimum is enforced and every known failure is '
                    'assumed to apply (and is reported). The grenade '
                    'hooks set it from heat-manage --version through '
                    'the environment (OS_CLOUD__FROM_SERIES).'),
    cfg.StrOpt('to_series',
               help='Release series (or Heat version) of the Heat '
                    'upgraded to (e.g. 2026.2); for the checks\' known '
                    'failures, as from_series (OS_CLOUD__TO_SERIES).'),
    cfg.StrOpt('image',
               help='ID of the image the server checks boot. Unset: the '
                    'image Glance marks with the property hut_guest (the '
                    'mini-cloud\'s run-time guest), else the cloud\'s '
                    'active CirrOS image (devstack\'s).'),
    cfg.StrOpt('probe_namespace',
               help='Network namespace the data-plane probes (a server\'s '
                    'address, with every API down) are made from; it must '
                    'reach the external network. Unset: from where the '
                    'phases run (devstack\'s host, whose br-ex has the '
                    'public gateway). The mini-cloud creates one and sets '
                    'it.'),
]

phases_group = cfg.OptGroup('phases', title='Phases and cross-phase state')
phases_opts = [
    cfg.StrOpt('state_dir',
               default=os.path.join(CACHE_HOME, 'state'),
               sample_default='~/.cache/heat-upgrade-tests/state',
               help='Directory of the per-check state documents that carry '
                    'what pre-upgrade made to the later phases.'),
    cfg.IntOpt('concurrency', default=2, min=1,
               help='Number of stestr workers for a phase.'),
    cfg.IntOpt('check_order_seed', min=0,
               help='Run the phase\'s checks in the order this seed draws '
                    '(the same seed, the same order) instead of by name. '
                    'A plan that lets the order vary (shuffle_checks) sets '
                    'it from the run\'s --seed, so that a failure that '
                    'depends on which checks run side by side can be '
                    'replayed.'),
    cfg.IntOpt('stacks_per_check', default=1, min=1, max=50,
               help='Stacks each check makes (and carries through every '
                    'phase, each with its own state and test): more for '
                    'a fuller database before a migration, or to see how '
                    'a phase grows with the number of stacks. 1 is the '
                    'check alone. Heat counts a project\'s top-level '
                    'stacks against max_stacks_per_tenant (512 by '
                    'default): the catalogue times this must stay under '
                    'it.'),
    cfg.ListOpt('enabled_checks', default=[],
                help='Names of the checks to run; empty means all.'),
    cfg.ListOpt('disabled_checks', default=[],
                help='Names of checks never to run.'),
    cfg.BoolOpt('swift_serves_at_no_api', default=False,
                help='Whether Swift\'s proxy still serves at the no-api '
                     'moment (Keystone and Heat down), so that objects '
                     'can be read through temporary URLs then. The '
                     'mini-cloud sets it; grenade stops Swift before '
                     'verify_noapi.'),
    cfg.StrOpt('results_dir',
               help='Where each phase leaves its subunit stream and junit '
                    'XML (for Zuul to collect); unset means not kept.'),
]

timeouts_group = cfg.OptGroup('timeouts', title='Bounds of every wait')
timeouts_opts = [
    cfg.IntOpt('stack_timeout', default=300, min=1,
               help='Seconds a stack operation may take before the wait '
                    'fails, naming the stack and its last status.'),
    cfg.FloatOpt('poll_interval', default=2.0, min=0.1,
                 help='Seconds between two polls of a stack\'s status.'),
    cfg.IntOpt('api_timeout', default=30, min=1,
               help='Seconds one API request may take.'),
    cfg.IntOpt('heat_down_probe_timeout', default=5, min=1,
               help='Seconds the during-upgrade phase waits for Heat\'s '
                    'API to answer before counting it down.'),
    cfg.IntOpt('recovery_timeout', default=90, min=0,
               help='Seconds the destroy phase waits for Keystone and '
                    'Heat\'s API to answer again before it refuses: a '
                    'cloud coming back (an engine restarted, Keystone '
                    'restarted) answers within Heat\'s '
                    'rpc_response_timeout (60 by default) plus a margin. '
                    '0: refuse at once.'),
    cfg.IntOpt('no_progress_timeout', default=60, min=1,
               help='Seconds a wait may see no progress of its stack (no '
                    'change of status or time, no new event) before it '
                    'asks whether a heat-engine still serves; none does, '
                    'and the wait fails at once naming the stack, instead '
                    'of running out stack_timeout.'),
    cfg.IntOpt('engine_probe_timeout', default=10, min=1,
               help='Seconds heat-api may take to answer a call only an '
                    'engine can answer (GET /build_info) before no engine '
                    'counts as serving. Keep it below Heat\'s '
                    'rpc_response_timeout (60 by default).'),
]

minicloud_group = cfg.OptGroup(
    'minicloud', title='The devstack-free mini-cloud and its upgrade')
minicloud_opts = [
    cfg.StrOpt('work_dir', default=os.path.join(CACHE_HOME, 'run'),
               sample_default='~/.cache/heat-upgrade-tests/run',
               help='Data, configuration, logs and state of one run; '
                    'emptied at the start of a run.'),
    cfg.StrOpt('cache_dir', default=os.path.join(CACHE_HOME, 'venvs'),
               sample_default='~/.cache/heat-upgrade-tests/venvs',
               help='Virtual environments of Keystone, Swift, Neutron '
                    'and each Heat release; reused while their pins do not '
                    'change.'),
    cfg.StrOpt('from_series', help='Series to upgrade from; unset means '
                                   'the one before to_series.'),
    cfg.StrOpt('to_series', help='Series to upgrade to; unset means the '
                                 'newest series known.'),
    cfg.HostAddressOpt('host', default='127.0.0.1',
                       help='Loopback address every service listens on.'),
    cfg.PortOpt('keystone_port', default=25000),
    cfg.PortOpt('heat_api_port', default=28004),
    cfg.PortOpt('heat_cfn_port', default=28000,
                help='Registered in the catalog; heat-api-cfn is not run.'),
    cfg.PortOpt('mysql_port', default=23306),
    cfg.PortOpt('rabbit_port', default=25673),
    cfg.PortOpt('rabbit_dist_port', default=25674),
    cfg.PortOpt('epmd_port', default=24369,
                help='Private Erlang port mapper, so a system RabbitMQ is '
                     'never disturbed.'),
    cfg.PortOpt('swift_proxy_port', default=28080,
                help='Swift\'s proxy server (object-store endpoint).'),
    cfg.PortOpt('swift_object_port', default=26200),
    cfg.PortOpt('swift_container_port', default=26201),
    cfg.PortOpt('swift_account_port', default=26202),
    cfg.PortOpt('neutron_port', default=29696,
                help='Neutron\'s API (network endpoint), served by uwsgi.'),
    cfg.BoolOpt('compute', default=True,
                help='Run the compute part of the mini-cloud: Nova on a '
                     'private libvirt (guests under QEMU), Placement, '
                     'Glance with a guest built at run time, Neutron on '
                     'ML2/OVN with a private Open vSwitch and OVN, so that '
                     'servers run through the upgrade '
                     '(doc/source/compute.rst). Off: the cloud without '
                     'them (Neutron without agents), about a minute '
                     'faster and 1.3 GiB smaller; the server checks are '
                     'skipped. upgrade --no-compute sets it off.'),
    cfg.PortOpt('placement_port', default=28778,
                help='Placement\'s API, served by uwsgi (compute only).'),
    cfg.PortOpt('glance_port', default=29292,
                help='Glance\'s API (image endpoint), served by uwsgi '
                     '(compute only).'),
    cfg.PortOpt('nova_port', default=28774,
                help='Nova\'s API (compute endpoint), served by uwsgi '
                     '(compute only).'),
    cfg.IntOpt('service_timeout', default=120, min=1,
               help='Seconds a service may take to start or stop.'),
]

heat_tests_group = cfg.OptGroup(
    'heat_tests', title="Heat's own tests (heat-tempest-plugin) before and "
                        "after the upgrade")
heat_tests_opts = [
    cfg.BoolOpt('enabled', default=False,
                help="Run Heat's own API and functional tests "
                     "(heat-tempest-plugin) after pre-upgrade with the old "
                     "Heat and again once the new Heat is up, before "
                     "post-upgrade (mini-cloud plans with both moments). "
                     "A test passing before and failing after fails the "
                     "run; one failing both times is reported only."),
    cfg.StrOpt('test_regex',
               default=r'^heat_tempest_plugin\.tests\.(api|functional)\.',
               help='Which of the plugin\'s tests to run (stestr regex).'),
    cfg.StrOpt('exclude_list_file',
               help='stestr exclude list (one regex a line, # comments); '
                    'default: upgrade/heat-tests-exclude.txt, the tests '
                    'that need services the mini-cloud lacks.'),
    cfg.IntOpt('concurrency', default=2, min=1,
               help='Test workers of each run.'),
    cfg.IntOpt('timeout', default=1200, min=60,
               help='Seconds one run of the tests may take, venv build '
                    'excluded.'),
]

integrity_group = cfg.OptGroup(
    'integrity', title='Database, configuration and compatibility checks')
integrity_opts = [
    cfg.StrOpt('database_connection', secret=True,
               help='SQLAlchemy URL of Heat\'s database (mysql+pymysql://'
                    '...). When set, pre-upgrade ends by recording the rows '
                    'of the checks\' stacks, and post-upgrade starts with '
                    'the database checks (schema head, models, rows) and '
                    'heat-status, before any stack is touched.'),
    cfg.StrOpt('new_heat',
               help='The Heat upgraded to, for the schema check and '
                    'heat-status: a python of its environment (devstack: '
                    'its global venv\'s), a venv, a series, a version or a '
                    'source tree. Unset means the python of the heat-manage '
                    'on PATH.'),
    cfg.ListOpt('heat_config_files', default=['/etc/heat/heat.conf'],
                help='The deployed Heat configuration, read by heat-status, '
                     'the heat.conf validation and the event purge rule; '
                     'files that do not exist are skipped.'),
    cfg.StrOpt('accepted_removals_file',
               help='Reviewed option removals accepted without a '
                    'deprecation; unset means the project\'s '
                    'upgrade/accepted-option-removals.yaml.'),
    cfg.BoolOpt('database_checks', default=True,
                help='With database_connection set: record rows in '
                     'pre-upgrade and check the database in post-upgrade.'),
    cfg.BoolOpt('upgrade_status_check', default=True,
                help='With database_connection set: run heat-status '
                     'upgrade check of new_heat in post-upgrade.'),
]

_GROUPS = [
    (cloud_group, cloud_opts),
    (phases_group, phases_opts),
    (timeouts_group, timeouts_opts),
    (minicloud_group, minicloud_opts),
    (integrity_group, integrity_opts),
    (heat_tests_group, heat_tests_opts),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option on ``conf``, in groups of its own.

    oslo.config copies a registered OptGroup shallowly, so two ConfigOpts
    given the same group object share its options' overrides: one
    ``set_override`` would leak into every other configuration loaded in
    the process. A fresh group per ConfigOpts keeps each one's own.
    """
    for group, opts in _GROUPS:
        conf.register_group(cfg.OptGroup(group.name, title=group.title,
                                         help=group.help))
        conf.register_opts(opts, group=group.name)


def list_opts():
    """The ``oslo.config.opts`` entry point."""
    return [(group, opts) for group, opts in _GROUPS]


def default_config_files() -> list[str]:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return [path for path in env.split(os.pathsep) if path]
    return cfg.find_config_files(project=PROJECT)


def load(args: list[str] | None = None,
         config_files: list[str] | None = None) -> cfg.ConfigOpts:
    """A fresh ConfigOpts with every option registered and parsed."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    files = default_config_files() if config_files is None else config_files
    for path in files:
        if not os.path.exists(path):
            from heat_upgrade_tests import exceptions
            raise exceptions.ConfigError(f'configuration file {path} does '
                                         f'not exist')
    try:
        conf(args or [], project=PROJECT, default_config_files=files)
    except (cfg.Error, ValueError) as exc:
        from heat_upgrade_tests import exceptions
        raise exceptions.ConfigError(f'bad configuration: {exc}')
    _series_from_versions(conf)
    return conf


def _series_from_versions(conf: cfg.ConfigOpts) -> None:
    """Map a Heat version given as ``[cloud]`` from/to_series to its series.

    In the gate the hooks know Heat's version (``heat-manage --version``),
    not its series; the rule is the integrity command's (a development
    version past its major's series belongs to the next one).
    """
    from heat_upgrade_tests import exceptions
    from heat_upgrade_tests import releases
    for opt in ('from_series', 'to_series'):
        value = conf.cloud[opt]
        if not value:
            continue
        if releases.is_series_name(value):
            known = list(releases.load_series())
            # The series after the newest is the development one (what a
            # development version of Heat maps to); others are unknown.
            if value not in known and value != releases.next_series(
                    known[-1], 1):
                raise exceptions.ConfigError(
                    f'[cloud] {opt} = {value}: unknown release series; '
                    f'known: {", ".join(known)}')
            continue
        series = None
        if re.match(r'^\d+\.\d+', value):
            series = releases.series_name_of_version(value)
        if series is None:
            raise exceptions.ConfigError(
                f'[cloud] {opt} = {value}: neither a release series '
                f'(YYYY.N) nor a Heat version of a known series')
        conf.set_override(opt, series, 'cloud')
