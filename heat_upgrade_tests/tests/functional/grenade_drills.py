"""The project's grenade plugin, run on the shared mini-cloud.

At the moments grenade would, the drills run ``devstack/upgrade/*`` through
a small shim of grenade (``grenade_shim/``, the project's own code), so the
hooks source a grenaderc and functions that behave as grenade's do. The
job's plugins are this project and a stand-in of Heat's own plugin
(``grenade_shim/plugins/heat``), handed to the shim sorted by name as Zuul
hands them to grenade; the shim's grenade in-tree stand-in registers
keystone first. ``upgrade_order`` reads the order grenade would upgrade
the projects in from those settings, and the scenario's plan upgrades
Keystone, runs this project's upgrade and upgrades Heat in that order:

* old Heat up: ``resources.sh early_create``, ``create``, ``verify
  pre-upgrade``; then ``upgrade.sh`` while Heat is still up, which must
  fail;
* every service stopped, Keystone included: ``shutdown.sh``,
  ``resources.sh verify_noapi pre-upgrade``;
* at this project's turn in the upgrade order: ``upgrade.sh`` (the
  during-upgrade phase: Keystone back up, Heat still down);
* new Heat up: ``resources.sh verify post-upgrade``, then ``destroy``.

The hooks run each phase with ``heat-upgrade-tests phase`` in this
interpreter (``HEAT_UPGRADE_TESTS_PHASE_CMD``) instead of the gate's
``tox -e``: no tox env is built, and tox need not be on PATH. One check,
the cheapest (``values_and_outputs``), keeps each run short: the hooks are
under test here, not the checks, which the main run covers. The state and
results directories are the drills' own, so the main run is not
disturbed. Only ``create`` and what runs before it get
``HEAT_UPGRADE_TESTS_CONFIG``: the later hooks must find the configuration
through the one ``create`` saved with ``resource_save``. ``heat-manage``
on the hooks' PATH is the running Heat's, as devstack links it into
``/usr/local/bin``.
"""

import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time

import heat_upgrade_tests
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.plans import upgrade

REPO_ROOT = Path(heat_upgrade_tests.__file__).resolve().parent.parent
SHIM_DIR = Path(__file__).resolve().parent / 'grenade_shim'
RUN_HOOK = SHIM_DIR / 'run-hook'
CHECKS = ['values_and_outputs']
# Bounds: one phase inside a hook, and a whole hook run.
PHASE_TIMEOUT = 300
HOOK_TIMEOUT = 420
PREFIX = 'grenade_'
THIS_PLUGIN = 'heat-upgrade-tests'
# The job's grenade plugins: this one and the stand-in of Heat's.
JOB_PLUGINS = {THIS_PLUGIN: REPO_ROOT, 'heat': SHIM_DIR / 'plugins' / 'heat'}
# A grenade tree and a DevStack tree (checkouts, or snapshots of
# openstack/grenade and openstack/devstack): with both set, the hooks run
# under grenade's own grenaderc and functions, and DevStack's functions
# and openrc, instead of the shim's (``prepare_real_grenade``). Not in CI,
# which must not depend on a fetched repository.
REAL_GRENADE = os.environ.get('HEAT_UPGRADE_TESTS_GRENADE_DIR')
REAL_DEVSTACK = os.environ.get('HEAT_UPGRADE_TESTS_DEVSTACK_DIR')


def heat_tests_enabled() -> bool:
    """Whether the functional tests run Heat's own tests.

    Both the scenario's plan (``[heat_tests] enabled``) and the hooks
    (devstack/settings' ``HEAT_UPGRADE_TESTS_HEAT_TESTS``) run them,
    unless ``HEAT_UPGRADE_TESTS_FUNCTIONAL_HEAT_TESTS=0`` turns both off.
    """
    return os.environ.get('HEAT_UPGRADE_TESTS_FUNCTIONAL_HEAT_TESTS',
                          '1') != '0'


def real_grenade() -> bool:
    """Whether the hooks run under grenade's own functions."""
    return bool(REAL_GRENADE and REAL_DEVSTACK)


def prepare_real_grenade(stack_root: Path, plugins: dict[str, Path]) -> Path:
    """Lay ``stack_root`` out as Zuul lays out grenade's; the grenade tree.

    Grenade's tree is copied to ``stack_root/grenade`` with the localrc
    that Zuul's ``write-grenade-conf`` role writes there (old and new
    release directories under ``stack_root``, ``PLUGIN_DIR`` the new
    one's, so ``enable_grenade_plugin`` finds a plugin in ``new/NAME``);
    DevStack's tree is copied to ``old/devstack`` and ``new/devstack``
    (grenade's BASE and TARGET DevStack: their openrc is what the hooks
    source); the plugins are linked at ``new/NAME`` and listed, sorted by
    name as Zuul lists them, in the tree's pluginrc. Grenade's in-tree
    projects are the shim's stand-ins: the mini-cloud, not DevStack, stops
    and starts Keystone, so grenade's own keystone hooks have nothing to
    drive.
    """
    tree = stack_root / 'grenade'
    if not tree.exists():
        shutil.copytree(REAL_GRENADE, tree,
                        ignore=shutil.ignore_patterns('.git'))
        shutil.rmtree(tree / 'projects')
        shutil.copytree(SHIM_DIR / 'projects', tree / 'projects')
    for side in ('old', 'new'):
        devstack = stack_root / side / 'devstack'
        if not devstack.exists():
            shutil.copytree(REAL_DEVSTACK, devstack,
                            ignore=shutil.ignore_patterns('.git'))
    (tree / 'localrc').write_text(
        f'BASE_RELEASE=old\n'
        f'BASE_RELEASE_DIR={stack_root}/$BASE_RELEASE\n'
        f'BASE_DEVSTACK_DIR=$BASE_RELEASE_DIR/devstack\n'
        f'TARGET_RELEASE=new\n'
        f'TARGET_RELEASE_DIR={stack_root}/$TARGET_RELEASE\n'
        f'TARGET_DEVSTACK_DIR=$TARGET_RELEASE_DIR/devstack\n'
        f'SAVE_DIR={stack_root}/save\n'
        f'VERBOSE=False\n'
        f'PLUGIN_DIR=$TARGET_RELEASE_DIR\n')
    for name, path in plugins.items():
        link = stack_root / 'new' / name
        if link.is_symlink():
            link.unlink()
        link.symlink_to(Path(path).resolve())
    (tree / 'pluginrc').write_text(''.join(
        f'enable_grenade_plugin {name} https://opendev.org/openstack/{name}\n'
        for name in sorted(plugins)))
    return tree


def write_pluginrc(stack_root: Path, plugins: dict[str, Path]) -> Path:
    """The shim's pluginrc: the plugins sorted by name, as from Zuul.

    Zuul passes job variables to Ansible as YAML with sorted keys, so
    grenade sees ``devstack_plugins`` in name order, never in the order
    the job lists them.
    """
    stack_root.mkdir(parents=True, exist_ok=True)
    if real_grenade():
        prepare_real_grenade(stack_root, plugins)
    path = stack_root / 'pluginrc'
    path.write_text(''.join(f'enable_grenade_plugin {name} {plugins[name]}\n'
                            for name in sorted(plugins)))
    return path


def upgrade_order(stack_root: Path,
                  plugins: dict[str, Path] | None = None) -> tuple[str, ...]:
    """The projects in the order grenade would upgrade them.

    Read from the settings themselves, sourced by the shim as grenade
    sources them (in-tree keystone first, then the plugins in pluginrc's
    order).
    """
    write_pluginrc(stack_root, JOB_PLUGINS if plugins is None else plugins)
    run = run_hook(['settings'], hook_env(stack_root), timeout=60)
    for line in run.output.splitlines():
        if line.startswith('Upgrade projects:') and run.ok:
            return tuple(line.split(':', 1)[1].split())
    raise AssertionError(f'the grenade shim gave no upgrade order: '
                         f'{run.output}')


# Grenade's in-tree projects after Keystone, in its order (projects/
# 15_placement, 30_swift, 40_glance, 50_neutron, 60_nova): registered where
# their services are enabled, before every plugin.
IN_TREE_AFTER_KEYSTONE = ('placement', 'swift', 'glance', 'neutron', 'nova')
# Those of the mini-cloud's compute part ([minicloud] compute).
IN_TREE_COMPUTE = ('placement', 'glance', 'nova')


def with_in_tree(order: tuple[str, ...],
                 compute: bool = False) -> tuple[str, ...]:
    """Grenade's order with the in-tree projects the run has put in.

    The grenade stand-in enables no in-tree project but Keystone; a job
    that runs Swift and Neutron (and Placement, Glance and Nova, the
    mini-cloud's compute part) has grenade register them right after
    Keystone, before every plugin.
    """
    missing = [p for p in IN_TREE_AFTER_KEYSTONE if p not in order and (
        compute or p not in IN_TREE_COMPUTE)]
    if not missing:
        return order
    at = order.index('keystone') + 1 if 'keystone' in order else 0
    return order[:at] + tuple(missing) + order[at:]


def phase_command() -> str:
    """The phase command the hooks use here: no tox, this interpreter."""
    return f'{sys.executable} -m heat_upgrade_tests.cmd phase'


def hook_env(stack_root: Path, config: Path | None = None) -> dict:
    """The environment grenade would give a hook, plus the test's choices.

    OS_CLOUD names no cloud: the hooks must drop it, or the phases would
    fail to connect. ``stack_root/bin`` comes first on PATH (the drills
    link the running Heat's ``heat-manage`` there).
    """
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(('OS_', 'GRENADE_', 'HEAT_UPGRADE_TESTS_'))}
    env.update({
        'PATH': f'{stack_root / "bin"}{os.pathsep}{env.get("PATH", "")}',
        'STACK_ROOT': str(stack_root),
        'HEAT_UPGRADE_TESTS_PHASE_CMD': phase_command(),
        'HEAT_UPGRADE_TESTS_PHASE_TIMEOUT': str(PHASE_TIMEOUT),
        'OS_CLOUD': 'no-such-cloud-the-hooks-must-drop-it',
    })
    if config is not None:
        env['HEAT_UPGRADE_TESTS_CONFIG'] = str(config)
    if heat_tests_enabled():
        env['HEAT_UPGRADE_TESTS_HEAT_TESTS'] = 'True'
    if real_grenade():
        # Zuul's run-grenade role runs grenade.sh with this set.
        env['REAL_GRENADE_DIR'] = str(stack_root / 'grenade')
        env['GRENADE_USE_EXTERNAL_DEVSTACK'] = 'True'
    return env


def run_hook(args: list[str], env: dict, log_file: Path | None = None,
             timeout: float = HOOK_TIMEOUT) -> upgrade.PhaseRun:
    """``grenade_shim/run-hook ARGS...``: its exit code and output.

    Bounded by ``timeout``; on expiry the whole process group (the hook
    and the phase it runs) is killed and the run counts as failed.
    """
    argv = [str(RUN_HOOK), *args]
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True,
                                start_new_session=True)
    except OSError as exc:
        output, returncode = f'cannot run {argv[0]}: {exc}\n', -1
    else:
        try:
            output, _ = proc.communicate(timeout=timeout)
            returncode = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
            output += f'\n(killed: no end within {timeout:.0f}s)\n'
            returncode = -signal.SIGKILL
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text(output)
    return upgrade.PhaseRun(' '.join(args), returncode, output,
                            time.monotonic() - start)


class GrenadeHookDrills:
    """A drill set (see ``scenario.Drills``); results are ``grenade_*``."""

    def __init__(self, results: dict):
        self.results = results
        self.config: Path | None = None
        self.stack_root: Path | None = None

    def _prepare(self, plan) -> None:
        cloud = plan.cloud
        self.stack_root = cloud.run_dir / 'grenade'
        write_pluginrc(self.stack_root, JOB_PLUGINS)
        self.config = cloud.write_phase_conf(
            self.stack_root / 'heat-upgrade-tests.conf',
            cloud.run_dir / 'state-grenade-hooks', enabled_checks=CHECKS,
            series=False)

    def _link_heat_manage(self, plan) -> None:
        """``heat-manage`` of the running Heat first on the hooks' PATH."""
        bin_dir = self.stack_root / 'bin'
        bin_dir.mkdir(exist_ok=True)
        link = bin_dir / 'heat-manage'
        link.unlink(missing_ok=True)
        link.symlink_to(plan.cloud.heat.release.venv / 'bin' / 'heat-manage')

    def _hook(self, plan, name: str, *args: str,
              with_config: bool = False) -> None:
        env = hook_env(self.stack_root,
                       self.config if with_config else None)
        log = plan.run_dir / 'logs' / f'{PREFIX}{name}.log'
        self.results[PREFIX + name] = run_hook(list(args), env, log)

    def old_heat_up(self, plan):
        self._prepare(plan)
        self._link_heat_manage(plan)
        self._hook(plan, 'early_create', 'resources', 'early_create',
                   with_config=True)
        self._hook(plan, 'create', 'resources', 'create', with_config=True)
        self._hook(plan, 'verify_pre', 'resources', 'verify', 'pre-upgrade')
        # Heat is still up: the during-upgrade phase refuses, and the hook
        # must pass the failure on to grenade.
        self._hook(plan, 'upgrade_with_heat_up', 'upgrade', THIS_PLUGIN)

    def all_down(self, plan):
        # As grenade: every service stopped, Keystone too, before
        # verify_noapi. Recorded, so the test can tell nothing answered.
        self.results[PREFIX + 'keystone_answered_noapi'] = (
            keystone.http_ok(plan.cloud.keystone.auth_url, timeout=2))
        self._hook(plan, 'shutdown', 'shutdown')
        self._hook(plan, 'verify_noapi', 'resources', 'verify_noapi',
                   'pre-upgrade')

    def during_upgrade(self, plan):
        # This project's turn in grenade's upgrade order.
        self._hook(plan, 'upgrade', 'upgrade', THIS_PLUGIN)

    def new_heat_up(self, plan):
        self._link_heat_manage(plan)
        self._hook(plan, 'verify_post', 'resources', 'verify',
                   'post-upgrade')
        self._hook(plan, 'destroy', 'resources', 'destroy')

    def hooks(self):
        return {'old-heat-up': self.old_heat_up,
                'all-down': self.all_down,
                'during-upgrade': self.during_upgrade,
                'new-heat-up': self.new_heat_up}
