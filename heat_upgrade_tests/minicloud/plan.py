"""The full-upgrade plan, in grenade's moments: old Heat, pre-upgrade,
every service stopped (Heat, then Keystone), no-api, then each project
upgraded in turn (Keystone back up, during-upgrade with Heat still down,
the new release's db_sync and the new Heat), post-upgrade, destroy.

Each step is printed with its duration as it runs. Hooks let the functional
tests run their fault drills at the right moments on the same mini-cloud.
"""

from collections.abc import Callable, Mapping
from concurrent import futures
import dataclasses
import os
from pathlib import Path
import shutil
import subprocess
import sys
import threading
import time

import fixtures

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.integrity import minicloud as integrity
from heat_upgrade_tests.minicloud import cloud as cloud_mod
from heat_upgrade_tests.minicloud import heat
from heat_upgrade_tests.minicloud import memory
from heat_upgrade_tests.minicloud import packages
from heat_upgrade_tests.minicloud import ports
from heat_upgrade_tests.minicloud import processes
from heat_upgrade_tests.minicloud import releases
from heat_upgrade_tests.minicloud import venvs

Hook = Callable[['FullUpgradePlan'], None]

# The projects upgraded after every service was stopped, in grenade's
# order: grenade upgrades its projects in registration order (Keystone
# first); this project's grenade settings put ``heat-upgrade-tests``
# (whose upgrade.sh runs the during-upgrade phase) just before ``heat``
# (Heat's own plugin: db_sync and the new Heat). The functional tests get
# the order from the grenade settings themselves, through the grenade
# stand-in, so the plan upgrades Heat where grenade would.
UPGRADE_ORDER = ('keystone', 'heat-upgrade-tests', 'heat')


@dataclasses.dataclass
class StepResult:
    name: str
    seconds: float
    ok: bool
    detail: str = ''


@dataclasses.dataclass
class PhaseRun:
    """What one run of a phase command returned and printed."""

    phase: str
    returncode: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_phase_command(config_file: Path, phase: str, log_file: Path,
                      echo: bool = True, timeout: float = 3600) -> PhaseRun:
    """Run ``heat-upgrade-tests phase PHASE`` as the tox envs do.

    The output is shown (when ``echo``) and kept in ``log_file``; the run
    is bounded by ``timeout`` seconds.
    """
    argv = [sys.executable, '-m', 'heat_upgrade_tests.cmd', '--config-file',
            str(config_file), 'phase', phase]
    start = time.monotonic()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL) as proc, \
            open(log_file, 'a') as log:
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            for line in proc.stdout:
                lines.append(line)
                log.write(line)
                if echo:
                    print(f'    {line}', end='', flush=True)
            returncode = proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
    if time.monotonic() - start >= timeout:
        raise exceptions.TimeoutExpired(
            f'timed out after {timeout:.0f}s waiting for phase {phase}; '
            f'see {log_file}')
    return PhaseRun(phase, returncode, ''.join(lines),
                    time.monotonic() - start)


class FullUpgradePlan:
    """Cold upgrade of Heat from ``old`` to ``new`` on one mini-cloud.

    ``run`` builds what is missing (system packages, venvs), starts the
    mini-cloud, upgrades it, and always stops everything it started.
    """

    name = 'full'

    def __init__(self, conf, old: releases.Series, new: releases.Series,
                 echo: bool = True,
                 upgrade_order: tuple[str, ...] = UPGRADE_ORDER):
        unknown = sorted(set(upgrade_order) - set(UPGRADE_ORDER))
        if unknown or len(set(upgrade_order)) != len(upgrade_order):
            raise exceptions.ConfigError(
                f'cannot upgrade {" ".join(upgrade_order)}: the plan '
                f'upgrades each of {", ".join(UPGRADE_ORDER)} once')
        self.upgrade_order = tuple(upgrade_order)
        self.conf = conf
        self.old_series = old
        self.new_series = new
        # The phases learn the series from their configuration file.
        conf.set_override('from_series', old.name, 'cloud')
        conf.set_override('to_series', new.name, 'cloud')
        self.echo = echo
        self.run_dir = Path(os.path.expanduser(conf.minicloud.work_dir))
        self.cache_dir = Path(os.path.expanduser(conf.minicloud.cache_dir))
        self.steps: list[StepResult] = []
        self.phase_runs: dict[str, PhaseRun] = {}
        self.db_versions: dict[str, str] = {}
        self.cloud: cloud_mod.MiniCloud | None = None
        self.old: heat.HeatRelease | None = None
        self.new: heat.HeatRelease | None = None
        self.memory = memory.PeakMemory()
        self.prepared = False
        # Owns the mini-cloud's cleanup, like a test case owns fixtures.
        self._owner = fixtures.Fixture()
        self._owner.setUp()

    def say(self, text: str) -> None:
        if self.echo:
            print(text, flush=True)

    def step(self, name: str, func: Callable[[], str | None]) -> None:
        """Run and time one step; a failure is recorded, then raised."""
        self.say(f'--> {name}')
        start = time.monotonic()
        try:
            detail = func() or ''
        except BaseException as exc:
            seconds = time.monotonic() - start
            self.steps.append(StepResult(name, seconds, False, str(exc)))
            self.say(f'<-- {name}: FAILED after {seconds:.1f}s')
            raise
        seconds = time.monotonic() - start
        self.steps.append(StepResult(name, seconds, True, detail))
        self.say(f'<-- {name}: ok in {seconds:.1f}s'
                 + (f' ({detail})' if detail else ''))

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    # -- preparation --------------------------------------------------------
    def preflight(self) -> None:
        """Ports, work directory, system packages; errors are one line."""
        old, new = self.old_series, self.new_series
        self.say(f'==> full upgrade of Heat from {old.name} '
                 f'({old.heat_version}) to {new.name} ({new.heat_version})')
        self.step('preflight: ports, work directory, system packages',
                  self._preflight)
        self.prepared = True

    def _preflight(self) -> str:
        opts = self.conf.minicloud
        ports.ensure_free({
            'keystone': opts.keystone_port, 'heat_api': opts.heat_api_port,
            'mysql': opts.mysql_port, 'rabbit': opts.rabbit_port,
            'rabbit_dist': opts.rabbit_dist_port,
            'epmd': opts.epmd_port}, host=opts.host)
        if self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        (self.run_dir / 'logs').mkdir(parents=True)
        packages.ensure_system_packages(self.run_dir / 'logs' / 'apt.log')
        return f'work directory {self.run_dir}'

    def _venvs(self) -> str:
        old, new = self.old_series, self.new_series
        logs = self.run_dir / 'logs'
        wanted = {
            'keystone': (f'keystone-{new.keystone_version}',
                         [f'keystone=={new.keystone_version}', 'PyMySQL',
                          'pyuwsgi'], new.keystone_constraints),
            'old': (f'heat-{old.heat_version}',
                    [f'openstack-heat=={old.heat_version}', 'PyMySQL',
                     'pyuwsgi'], old.heat_constraints),
            'new': (f'heat-{new.heat_version}',
                    [f'openstack-heat=={new.heat_version}', 'PyMySQL',
                     'pyuwsgi'], new.heat_constraints),
        }
        with futures.ThreadPoolExecutor(max_workers=3) as pool:
            jobs = {key: pool.submit(
                venvs.ensure_venv, self.cache_dir, name, reqs, pins,
                logs / f'venv-{name}.log')
                for key, (name, reqs, pins) in wanted.items()}
            built = {key: job.result() for key, job in jobs.items()}
        self.keystone_venv = built['keystone']
        self.old = heat.HeatRelease(old.name, old.heat_version, built['old'])
        self.new = heat.HeatRelease(new.name, new.heat_version, built['new'])
        return f'in {self.cache_dir}'

    def _start_cloud(self) -> str:
        cloud = cloud_mod.MiniCloud(self.conf, self.run_dir,
                                    self.keystone_venv)
        # A failed setUp has already stopped what it started.
        self.cloud = processes.use(self._owner, cloud)
        return f'keystone at {self.cloud.keystone.auth_url}'

    # -- the upgrade --------------------------------------------------------
    def phase(self, phase: str) -> None:
        """Run a phase with the run's configuration; fail if it failed."""
        log = self.run_dir / 'logs' / f'phase-{phase}.log'

        def run():
            result = run_phase_command(self.cloud.phase_conf, phase, log,
                                       echo=self.echo)
            self.phase_runs[phase] = result
            if not result.ok:
                raise exceptions.UpgradeTestError(
                    f'the {phase} phase failed (exit {result.returncode}); '
                    f'see {log}')
        self.step(f'{phase} phase', run)

    def _db_sync(self, release: heat.HeatRelease) -> str:
        version = self.cloud.db_sync(release)
        self.db_versions[release.version] = version
        return f'schema at {version}'

    def _start(self, release: heat.HeatRelease) -> str:
        self.cloud.start_heat(release)
        self.memory.sample()
        return f'heat-api on {self.cloud.heat_api_url}'

    def _stop(self) -> None:
        self.memory.sample()
        self.cloud.stop_heat()

    def run(self, hooks: Mapping[str, Hook] | None = None) -> None:
        """Run every step; ``hooks[name]`` runs after the step ``name``.

        The mini-cloud is stopped at the end whatever happened.
        """
        hooks = hooks or {}

        def after(name):
            if name in hooks:
                self.step(f'hook after {name}', lambda: hooks[name](self))

        old_name = f'{self.old_series.name} ({self.old_series.heat_version})'
        new_name = f'{self.new_series.name} ({self.new_series.heat_version})'
        try:
            if not self.prepared:
                self.preflight()
            self.step('virtual environments', self._venvs)
            self.step('start MariaDB, RabbitMQ, Keystone; register Heat',
                      self._start_cloud)
            with self.memory.watching():
                self._upgrade(old_name, new_name, after)
        finally:
            if self.cloud is not None:
                self.step('stop the mini-cloud', self._owner.cleanUp)

    def _upgrade(self, old_name, new_name, after) -> None:
        old, new = self.old, self.new
        integrity.configure_phases(self)
        self.step(f'db_sync with Heat {old_name}', lambda: self._db_sync(old))
        self.step(f'start Heat {old_name}', lambda: self._start(old))
        after('old-heat-up')
        self.phase('pre-upgrade')
        after('pre-upgrade')
        self.step(f'stop Heat {old_name}', self._stop)
        after('heat-down')
        # Grenade stops every service before verify_noapi, Keystone too.
        self.step('stop Keystone: no API answers', self.cloud.stop_keystone)
        after('all-down')
        self.phase('no-api')
        after('no-api')

        def upgrade_keystone():
            self.step('start Keystone', self.cloud.start_keystone)
            after('keystone-up')

        def upgrade_heat():
            self.step(f'db_sync with Heat {new_name}',
                      lambda: self._db_sync(new))
            integrity.check_after_db_sync(self)
            after('db-synced')
            self.step(f'start Heat {new_name}', lambda: self._start(new))
            after('new-heat-up')

        def upgrade_this_project():
            self.phase('during-upgrade')
            after('during-upgrade')

        upgrades = {'keystone': upgrade_keystone, 'heat': upgrade_heat,
                    'heat-upgrade-tests': upgrade_this_project}
        self.say(f'==> upgrade order: {" ".join(self.upgrade_order)}')
        for project in self.upgrade_order:
            upgrades[project]()
        try:
            self.phase('post-upgrade')
            after('post-upgrade')
        except Exception:
            # destroy runs after a failed post-upgrade too, so that nothing
            # is left behind; the post-upgrade failure is the one raised
            # (a destroy failure is recorded in its own step).
            try:
                self._destroy(after)
            except Exception:
                pass
            raise
        self._destroy(after)

    def _destroy(self, after) -> None:
        """grenade's destroy: delete every stack left, prove it gone."""
        self.phase('destroy')
        after('destroy')
