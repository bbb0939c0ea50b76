"""Heat's own tests (heat-tempest-plugin), before and after the upgrade.

A second opinion beside the checks: the plugin's API tests (gabbi) and its
functional tests that need only the services the cloud has run once with
the old Heat (after pre-upgrade, the checks' stacks present) and once with
the new Heat up (before post-upgrade). One version of the plugin, the
newest, on both sides: it is branchless and supports every maintained
release. A test that passes before and fails after is an upgrade failure;
one that fails both times is reported and not blamed on the upgrade.

``heat-upgrade-tests heat-tests before|after`` does one run against the
cloud of the configuration (``[cloud]`` clouds.yaml entries, as the phases
use), in a venv of its own built from PyPI (tempest and the plugin, pinned
by ``upgrade/constraints/heat-tests.txt``). tempest.conf is written from
clouds.yaml into a temporary directory (it holds passwords) that is
removed after the run; the subunit and junit results are kept in
``[phases] results_dir/heat-tests/`` (or the state directory) as
``before.*`` and ``after.*``.
"""

import dataclasses
import os
from pathlib import Path
import subprocess
import sys
import tempfile

import openstack
from openstack import exceptions as sdk_exc

from heat_upgrade_tests import exceptions

TEMPEST = 'tempest==47.0.0'
PLUGIN = 'heat-tempest-plugin==3.0.0'
VENV_NAME = 'heat-tests-tempest-47.0.0-plugin-3.0.0'
CONSTRAINTS = 'constraints/heat-tests.txt'
EXCLUDE_LIST = 'heat-tests-exclude.txt'
BEFORE, AFTER = 'before', 'after'
GABBI_GROUP = r'^heat_tempest_plugin\.tests\.api\.test_heat_api\.([a-z]+)_'
SIDES = (BEFORE, AFTER)
# Services the mini-cloud lacks; the plugin's tests that need them skip.
ABSENT = ('nova', 'neutron', 'cinder', 'swift', 'glance', 'aodh',
          'octavia', 'barbican', 'zaqar', 'designate', 'manila')


def venv_spec() -> tuple[str, list[str], Path]:
    """The name, requirements and constraints of the tests' venv."""
    from heat_upgrade_tests import datafiles
    return VENV_NAME, [TEMPEST, PLUGIN], datafiles.upgrade_dir() / CONSTRAINTS


def ensure_venv(conf, log_file: Path) -> Path:
    from heat_upgrade_tests.installs import venvs
    name, reqs, pins = venv_spec()
    return venvs.ensure_venv(Path(conf.minicloud.cache_dir).expanduser(),
                             name, reqs, pins, log_file)


def results_dir(conf) -> Path:
    base = conf.phases.results_dir or conf.phases.state_dir
    return Path(base).expanduser() / 'heat-tests'


@dataclasses.dataclass
class Credentials:
    auth_url: str
    username: str
    password: str
    project_name: str
    user_domain_name: str
    project_domain_name: str
    region: str


def _credentials(conf, name: str) -> Credentials:
    if conf.cloud.clouds_file:
        os.environ['OS_CLIENT_CONFIG_FILE'] = os.path.expanduser(
            conf.cloud.clouds_file)
    try:
        cloud = openstack.config.OpenStackConfig().get_one(cloud=name)
    except sdk_exc.ConfigException as exc:
        raise exceptions.ConfigError(
            f'clouds.yaml has no usable entry {name!r}: '
            f'{str(exc).splitlines()[0]}')
    auth = cloud.auth
    missing = [k for k in ('auth_url', 'username', 'password',
                           'project_name') if not auth.get(k)]
    if missing:
        raise exceptions.ConfigError(
            f'clouds.yaml entry {name!r} has no {", ".join(missing)}: '
            f'Heat\'s tests need password credentials')
    return Credentials(
        auth['auth_url'], auth['username'], auth['password'],
        auth['project_name'],
        auth.get('user_domain_name') or 'Default',
        auth.get('project_domain_name') or 'Default',
        cloud.region_name or 'RegionOne')


def tempest_conf(member: Credentials, admin: Credentials,
                 work: Path) -> str:
    """tempest.conf for the plugin, from the clouds.yaml entries."""
    auth_url = member.auth_url.rstrip('/')
    if not auth_url.endswith('/v3'):
        auth_url += '/v3'
    lines = [
        '[DEFAULT]', f'log_file = {work / "tempest.log"}', '',
        '[oslo_concurrency]', f'lock_path = {work / "locks"}', '',
        '[auth]', 'use_dynamic_credentials = False',
        f'admin_username = {admin.username}',
        f'admin_password = {admin.password}',
        f'admin_project_name = {admin.project_name}',
        f'admin_domain_name = {admin.user_domain_name}', '',
        '[identity]', f'uri_v3 = {auth_url}', 'auth_version = v3',
        f'region = {member.region}', '',
        '[identity-feature-enabled]', 'api_v2 = False', '',
        '[service_available]', 'heat = True',
        *(f'{s} = False' for s in ABSENT), '',
        '[heat_plugin]', f'auth_url = {auth_url}', 'auth_version = 3',
        f'username = {member.username}', f'password = {member.password}',
        f'project_name = {member.project_name}',
        f'admin_username = {admin.username}',
        f'admin_password = {admin.password}',
        f'admin_project_name = {admin.project_name}',
        f'user_domain_name = {member.user_domain_name}',
        f'project_domain_name = {member.project_domain_name}',
        f'region = {member.region}', 'skip_scenario_tests = True',
        'convergence_engine_enabled = True', 'build_timeout = 300', '',
    ]
    return '\n'.join(lines)


def exclude_list(conf) -> Path:
    if conf.heat_tests.exclude_list_file:
        path = Path(conf.heat_tests.exclude_list_file).expanduser()
    else:
        from heat_upgrade_tests import datafiles
        path = datafiles.upgrade_dir() / EXCLUDE_LIST
    if not path.is_file():
        raise exceptions.ConfigError(f'no exclude list {path}')
    return path


def run(conf, side: str) -> int:
    """One run of Heat's tests; ``after`` compares with ``before``."""
    from heat_upgrade_tests.runreport import results as results_mod
    if side not in SIDES:
        raise exceptions.ConfigError(f'side must be one of {SIDES}')
    out_dir = results_dir(conf)
    if side == AFTER and not (out_dir / f'{BEFORE}.subunit').is_file():
        raise exceptions.StateError(
            f'no results of Heat\'s tests before the upgrade in {out_dir}: '
            f'run "heat-tests before" first')
    member = _credentials(conf, os.environ.get('OS_CLOUD')
                          or conf.cloud.cloud)
    admin = _credentials(conf, conf.cloud.admin_cloud)
    excludes = exclude_list(conf)
    out_dir.mkdir(parents=True, exist_ok=True)
    venv = ensure_venv(conf, out_dir / 'venv.log')
    python = str(venv / 'bin' / 'python')
    site = subprocess.run(
        [python, '-c', 'import heat_tempest_plugin, os; print(os.path.'
                       'dirname(os.path.dirname(heat_tempest_plugin.'
                       '__file__)))'],
        capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix='hut-heat-tests-') as tmp:
        work = Path(tmp)
        (work / 'etc').mkdir()
        fd = os.open(work / 'etc' / 'tempest.conf',
                     os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(tempest_conf(member, admin, work))
        env = dict(os.environ, TEMPEST_CONFIG_DIR=str(work / 'etc'),
                   TEMPEST_CONFIG='tempest.conf', OS_TEST_TIMEOUT='600')
        argv = [python, '-m', 'stestr', '--test-path',
                f'{site}/heat_tempest_plugin/tests', '--top-dir', site,
                'run', '--concurrency', str(conf.heat_tests.concurrency),
                # A gabbi file's tests are one sequence: one worker each.
                '--group-regex', GABBI_GROUP,
                '--exclude-list', str(excludes), conf.heat_tests.test_regex]
        print(f'==> Heat\'s own tests ({PLUGIN}, {TEMPEST}) {side} the '
              f'upgrade: {conf.heat_tests.test_regex}', flush=True)
        try:
            subprocess.run(argv, cwd=work, env=env, stdin=subprocess.DEVNULL,
                           timeout=conf.heat_tests.timeout)
        except subprocess.TimeoutExpired:
            raise exceptions.TimeoutExpired(
                f'timed out after {conf.heat_tests.timeout}s waiting for '
                f'Heat\'s tests {side} the upgrade')
        stream = subprocess.run([python, '-m', 'stestr', 'last',
                                 '--subunit'], cwd=work,
                                capture_output=True).stdout
    (out_dir / f'{side}.subunit').write_bytes(stream)
    junit = Path(sys.executable).parent / 'subunit2junitxml'
    with open(out_dir / f'{side}.xml', 'wb') as out:
        subprocess.run([str(junit)], input=stream, stdout=out)
    tests = results_mod.read_subunit(stream)
    counts: dict[str, int] = {}
    for test in tests.values():
        counts[test.status] = counts.get(test.status, 0) + 1
    print(f'==> Heat\'s tests {side} the upgrade: ' + (', '.join(
        f'{n} {s}' for s, n in sorted(counts.items())) or 'nothing ran'),
        flush=True)
    if not tests:
        print(f'heat-upgrade-tests: error: none of Heat\'s tests ran {side} '
              f'the upgrade', file=sys.stderr, flush=True)
        return 1
    if side == BEFORE:
        return 0
    return _compare(out_dir)


def _compare(out_dir: Path) -> int:
    from heat_upgrade_tests.runreport import results as results_mod
    rows = results_mod.heat_test_rows(out_dir)
    code = 0
    for row in rows:
        if row.verdict == 'regression':
            message = row.after.message if row.after else 'did not run'
            print(f'UPGRADE FAILURE: {row.name} passed before the upgrade '
                  f'and fails after it: {message.splitlines()[-1:]}',
                  flush=True)
            code = 1
        elif row.verdict in ('fails before and after', 'fails after'):
            print(f'reported, not blamed on the upgrade: {row.name} '
                  f'{row.verdict}', flush=True)
    return code
