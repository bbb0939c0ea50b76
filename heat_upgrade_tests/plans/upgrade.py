"""A plan run on the real mini-cloud: venvs, services, phases, checks.

``UpgradeRun`` is the ``runner.PlanRunner`` whose steps act on this
machine: it builds what is missing (system packages, the venvs of the
releases the plan names), starts MariaDB, RabbitMQ and Keystone, walks the
plan (``upgrade/plans/NAME.yaml``) and always stops everything it started.
Phases and the integrity checks run as the commands a user runs, in
processes of their own: the plan never imports the phases, the checks or
the integrity package (tests/unit/test_imports.py holds that).
"""

from collections.abc import Mapping
from concurrent import futures
import configparser
import dataclasses
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import threading
import time

import fixtures

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import heat_tests
from heat_upgrade_tests import heatdb
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.installs import requirements
from heat_upgrade_tests.installs import venvs
from heat_upgrade_tests import leaks
from heat_upgrade_tests.minicloud import cloud as cloud_mod
from heat_upgrade_tests.minicloud import heat
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import ports
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests.minicloud import services
from heat_upgrade_tests.plans import disruption
from heat_upgrade_tests.plans import memory
from heat_upgrade_tests.plans import mixing
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import pairs
from heat_upgrade_tests.plans import progress
from heat_upgrade_tests.plans import runner
from heat_upgrade_tests import processes
from heat_upgrade_tests import releases

Hook = runner.Hook
StepResult = runner.StepResult

INTEGRITY_REPORT = 'integrity-report.json'
INTEGRITY_TIMEOUT = 1800
# Heat's rpc_response_timeout (60 s) and some: how long an API may wait on
# a call lost with a stopped engine.
ENGINE_GONE_TIMEOUT = 120


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


def run_command(argv: list[str], what: str, log_file: Path,
                echo: bool = True, timeout: float = 3600) -> PhaseRun:
    """Run one of this project's commands, shown and kept in ``log_file``.

    Bounded by ``timeout`` seconds: the process is killed after it.
    """
    start = time.monotonic()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    # Line by line: someone tailing the log sees each test as it ends.
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    with subprocess.Popen(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL, env=env) as proc, \
            open(log_file, 'a', buffering=1) as log:
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            for line in proc.stdout:
                lines.append(line)
                log.write(line)
                if echo:
                    progress.echo(f'    {line}')
            returncode = proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
    if time.monotonic() - start >= timeout:
        raise exceptions.TimeoutExpired(
            f'timed out after {timeout:.0f}s waiting for {what}; '
            f'see {log_file}')
    return PhaseRun(what, returncode, ''.join(lines),
                    time.monotonic() - start)


def run_phase_command(config_file: Path, phase: str, log_file: Path,
                      echo: bool = True, timeout: float = 3600) -> PhaseRun:
    """Run ``heat-upgrade-tests phase PHASE`` as the tox envs do."""
    argv = [sys.executable, '-m', 'heat_upgrade_tests.cmd', '--config-file',
            str(config_file), 'phase', phase]
    result = run_command(argv, f'phase {phase}', log_file, echo, timeout)
    return dataclasses.replace(result, phase=phase)


def _side(value) -> pairs.Side:
    if isinstance(value, pairs.Side):
        return value
    known = list(releases.load_series())
    return pairs.Side(value, known.index(value.name))


class UpgradeRun(runner.PlanRunner):
    """One plan, from ``old`` to ``new``, on one fresh mini-cloud."""

    def __init__(self, conf, old, new, plan: model.Plan | str | None = None,
                 echo: bool = True,
                 orders: Mapping[str, tuple[str, ...]] | None = None,
                 seed: int | None = None):
        # The plan's steps of compute services only with the compute part.
        compute = conf.minicloud.compute
        if not isinstance(plan, model.Plan):
            plan = model.get(plan or model.DEFAULT_PLAN, compute=compute)
        elif plan.compute != compute and plan.path is not None:
            plan = model.load(plan.path, framed=plan.framed, compute=compute)
        super().__init__(plan, echo=echo, orders=orders, seed=seed)
        self.conf = conf
        self.old_side, self.new_side = _side(old), _side(new)
        self.old_series = self.old_side.series
        self.new_series = self.new_side.series
        # The phases learn the series from their configuration file.
        conf.set_override('from_series', self.old_series.name, 'cloud')
        conf.set_override('to_series', self.new_series.name, 'cloud')
        # The phases' order of checks, when the plan lets it vary.
        if self.plan.check_order_seed is None:
            conf.clear_override('check_order_seed', 'phases')
        else:
            conf.set_override('check_order_seed',
                              self.plan.check_order_seed, 'phases')
        self.run_dir = Path(os.path.expanduser(conf.minicloud.work_dir))
        self.cache_dir = Path(os.path.expanduser(conf.minicloud.cache_dir))
        self.phase_runs: dict[str, PhaseRun] = {}
        self.phase_history: list[PhaseRun] = []
        # The phase runs in order, with their result files (report.json).
        self.phase_results: list[dict] = []
        self.heat_tests_problems: list[str] = []
        self.cloud: cloud_mod.MiniCloud | None = None
        # (service, 'old' | 'new') -> its installed release.
        self.releases: dict[tuple[str, str], service.Release] = {}
        self.memory = memory.PeakMemory()
        # Stacks and Keystone objects before pre-upgrade; what is left
        # after destroy (leaks.left_behind), or why it could not be told.
        self.inventory_before: leaks.Inventory | None = None
        self.left_behind: dict | None = None
        self.leak_error: str | None = None
        self.mixed_outcomes: list[dict] = []
        self.sampler: disruption.Sampler | None = None
        self.disruption: disruption.Report | None = None
        self.budget_exceeded: list[str] = []
        # Where the orchestration endpoint points (switch steps move it).
        self.heat_url: str | None = None
        self.prepared = False
        # Owns the mini-cloud's cleanup, like a test case owns fixtures.
        self._owner = fixtures.Fixture()
        self._owner.setUp()

    # -- names ----------------------------------------------------------------
    @property
    def sides(self) -> dict[str, pairs.Side]:
        return {'old': self.old_side, 'new': self.new_side}

    @property
    def labels(self) -> model.Labels:
        names = {name: {key: f'{side.series.name} '
                             f'({side.series.version(name)})'
                        for key, side in self.sides.items()}
                 for name, cls in services.REGISTRY.items()
                 if cls.versioned}
        names['heat'] = {key: side.label for key, side in self.sides.items()}
        return model.Labels(names)

    @property
    def db_versions(self) -> dict[str, str]:
        """Heat version -> the schema its db_sync left."""
        return self.cloud.heat.db_versions if self.cloud else {}

    @property
    def old(self) -> heat.HeatRelease | None:
        """The old Heat, once the virtual environments step ran."""
        return self.releases.get(('heat', 'old'))

    @property
    def new(self) -> heat.HeatRelease | None:
        """The new Heat, once the virtual environments step ran."""
        return self.releases.get(('heat', 'new'))

    # -- preparation ----------------------------------------------------------
    def preflight(self) -> None:
        """Ports, work directory, system packages; errors are one line."""
        self.say(self.render())
        self.say(f'==> Heat from {self.old_side.label} to '
                 f'{self.new_side.label}')
        self.step('preflight: ports, work directory, system packages',
                  self._preflight)
        self.prepared = True

    def _preflight(self) -> str:
        opts = self.conf.minicloud
        ports.ensure_free({opt[:-len('_port')]: opts[opt]
                           for opt in services.port_options(opts.compute)},
                          host=opts.host)
        if self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        (self.run_dir / 'logs').mkdir(parents=True)
        packages.ensure_system_packages(self.run_dir / 'logs' / 'apt.log')
        if opts.compute:
            for table in packages.COMPUTE_TABLES:
                packages.ensure_system_packages(
                    self.run_dir / 'logs' / 'apt.log', table,
                    needed_by='the compute part of the mini-cloud')
        return f'work directory {self.run_dir}'

    def _wanted_venvs(self) -> dict[tuple[str, str],
                                    tuple[str, list[str], Path | None]]:
        """The venvs the plan's steps need: both Heats, the others named.

        (service, 'old' | 'new') -> (venv name, requirements, constraints).
        A Heat source tree brings its own venv; a series naming no release
        of a service gets none (the service is not run).
        """
        wanted = {}
        for key, side in self.sides.items():
            if side.tree is None:
                wanted[('heat', key)] = requirements.spec('heat', side.series)
        if self.conf.heat_tests.enabled:
            wanted[('heat-tests', '')] = heat_tests.venv_spec()
        named = {(services.of_process(r.service).name, r.release)
                 for r in self.plan.refs() if r.release}
        named |= {(name, self.plan.start_release(name))
                  for name in self._cloud_services()}
        for name, key in sorted(named):
            series = self.sides[key].series
            if name != 'heat' and series.version(name):
                wanted[(name, key)] = requirements.spec(name, series)
        return wanted

    def _venvs(self) -> str:
        logs = self.run_dir / 'logs'
        wanted = self._wanted_venvs()
        with futures.ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            jobs = {key: pool.submit(
                venvs.ensure_venv, self.cache_dir, name, reqs, pins,
                logs / f'venv-{name}.log')
                for key, (name, reqs, pins) in wanted.items()}
            built = {key: job.result() for key, job in jobs.items()}
        for key, side in self.sides.items():
            venv = side.venv if side.tree is not None else built[
                ('heat', key)]
            self.releases[('heat', key)] = heat.HeatRelease(
                side.series.name, side.series.heat_version, venv,
                tree=side.tree)
        for (name, key), venv in built.items():
            if name not in ('heat', 'heat-tests'):
                series = self.sides[key].series
                self.releases[(name, key)] = service.Release(
                    name, series.name, series.version(name), venv)
        return f'{", ".join(n for n, _, _ in wanted.values())} in ' \
               f'{self.cache_dir}'

    def release(self, ref: model.ServiceRef) -> service.Release | None:
        """The installed release a step names (None: not named)."""
        if ref.release is None:
            return None
        name = services.of_process(ref.service).name
        try:
            return self.releases[(name, ref.release)]
        except KeyError:
            raise exceptions.MiniCloudError(
                f'no {name} of the {ref.release} release is installed '
                f'(virtual environments step not run, or releases.yaml '
                f'names none)')

    def _cloud_services(self) -> tuple[str, ...]:
        """The services the mini-cloud starts, compute's with the switch."""
        return services.with_cloud(self.conf.minicloud.compute)

    def _start_cloud(self) -> str:
        starting = {name: self.releases.get(
            (name, self.plan.start_release(name)))
            for name in self._cloud_services()}
        cloud = cloud_mod.MiniCloud(self.conf, self.run_dir, starting)
        # A failed setUp has already stopped what it started.
        self.cloud = processes.use(self._owner, cloud)
        self._configure_integrity()
        keystone = self.labels.names['keystone'][self.plan.keystone]
        started = f'keystone {keystone} at {self.cloud.keystone.auth_url}'
        choice = self.accelerator
        if choice is not None:
            started += f'; guests under {choice.name}: {choice.reason}'
        return started

    @property
    def accelerator(self):
        """What Nova's guests run under and why (None: no compute part)."""
        nova = self.cloud.services.get('nova') if self.cloud else None
        return getattr(nova, 'accelerator', None)

    def _configure_integrity(self) -> None:
        """The main phase configuration's ``[integrity]`` section.

        The phases then do what they do in devstack (pre-upgrade records
        the rows; post-upgrade checks the database and runs heat-status
        with the new Heat up), and the plan's integrity step finds the
        database, heat.conf and the venv cache there. The drills'
        configurations are left alone.
        """
        cloud = self.cloud
        parser = configparser.RawConfigParser()
        parser.read(cloud.phase_conf)
        parser['integrity'] = {
            'database_connection': heatdb.conf_value(cloud.heat_db_url),
            'new_heat': str(self.new.venv / 'bin' / 'python'),
            'heat_config_files': str(cloud.heat.conf_file),
        }
        parser['minicloud'] = {'cache_dir': str(self.cache_dir)}
        # It now holds the database password.
        fd = os.open(cloud.phase_conf,
                     os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'w') as f:
            parser.write(f)

    # -- the steps ------------------------------------------------------------
    def do_start(self, ref: model.ServiceRef,
                 bus: str | None = None) -> str:
        detail = self.cloud.service(ref.service).start(
            self.release(ref), ref.service, ref.instance, bus)
        self.memory.sample()
        return detail

    def do_stop(self, ref: model.ServiceRef) -> str:
        self.memory.sample()
        engines = len(self.cloud.heat.engines())
        detail = self.cloud.service(ref.service).stop(
            self.release(ref), ref.service, ref.instance)
        left = len(self.cloud.heat.engines())
        if 0 < left < engines and self.cloud.heat.api is not None and (
                self.sampler is not None and self.disruption is None):
            detail += '; ' + self._await_heat()
        return detail

    def _await_heat(self) -> str:
        """After an engine stopped beside others: until Heat serves again.

        Observed on the mini-cloud: an RPC call the API had sent to the
        engine being stopped is lost with it, and the API's worker waits
        for its answer until Heat's ``rpc_response_timeout`` (60 s by
        default). The next step waits, bounded, until a stack list answers
        again; the sampler records the outage.
        """
        start = time.monotonic()
        processes.wait_until(
            self.sampler.heat_serves, ENGINE_GONE_TIMEOUT,
            'Heat\'s API to list stacks again (an engine behind it) after '
            'an engine stopped', interval=1)
        return (f'Heat served again after '
                f'{time.monotonic() - start:.1f}s')

    def do_migrate(self, ref: model.ServiceRef) -> str:
        return self.cloud.service(ref.service).migrate(self.release(ref))

    def do_phase(self, phase: str) -> str:
        if phase == 'mixed':
            return self._mixed_phase()
        if phase == 'destroy':
            # The destroy phase deletes the stack the sampler shows.
            self._stop_sampler()
        log = self.run_dir / 'logs' / f'phase-{phase}.log'
        if phase == 'pre-upgrade' and self.inventory_before is None:
            self.inventory_before = self._inventory()
        config = self.cloud.phase_conf
        if phase == 'post-upgrade' and any(
                r.phase == 'mixed' for r in self.phase_history):
            # The mixed phase updated the pre-upgrade stacks on purpose,
            # so their rows changed; the integrity step compared them
            # before the mix, right after db_sync.
            config = self._conf_without_database()
        try:
            result = run_phase_command(config, phase, log, echo=self.echo)
        finally:
            if phase == 'destroy':
                self._count_left_behind()
        self.phase_runs[phase] = result
        self.phase_history.append(result)
        self.phase_results.append(self._keep_phase_results(phase, result))
        if not result.ok:
            raise exceptions.UpgradeTestError(
                f'the {phase} phase failed (exit {result.returncode}); '
                f'see {log}')
        if phase == 'pre-upgrade' and self.sampler is None:
            self.step('start the disruption sampler (Heat and Keystone, '
                      f'every {disruption.INTERVAL:g}s)',
                      self._start_sampler)
        return ''

    def _inventory(self) -> leaks.Inventory | None:
        try:
            return leaks.inventory(self.cloud.admin_connection(),
                                   stacks=self._stacks_in_database)
        except exceptions.UpgradeTestError as exc:
            self.leak_error = str(exc)
            return None

    def _stacks_in_database(self) -> dict[str, str]:
        """Every stack Heat has not deleted (nested ones too), id: name."""
        try:
            conn = self.cloud.db.connect('heat')
            try:
                with conn.cursor() as cursor:
                    return heatdb.live_stacks(cursor)
            finally:
                conn.close()
        except Exception as exc:
            raise exceptions.UpgradeTestError(
                f'cannot count the stacks in Heat\'s database: {exc}')

    def _count_left_behind(self) -> None:
        """After destroy: what the run made and did not remove."""
        if self.inventory_before is None:
            return
        after = self._inventory()
        if after is not None:
            self.left_behind = leaks.left_behind(self.inventory_before,
                                                 after)

    # -- disruption -----------------------------------------------------------
    def _start_sampler(self) -> str:
        cloud = self.cloud
        self.heat_url = self.heat_url or cloud.heat_api_url
        self.sampler = disruption.Sampler(
            cloud.auth_url, lambda: self.heat_url,
            cloud_mod.MEMBER_USER, cloud.member_password(),
            cloud_mod.MEMBER_PROJECT, lambda: self.current)
        self.sampler.start()
        return f'showing {self.sampler.shown or "no stack"}'

    def _stop_sampler(self) -> None:
        if self.sampler is not None and self.disruption is None:
            self.disruption = self.sampler.stop()
            if self.disruption is not None:
                # The HTML report draws it (runreport reads this file).
                (self.run_dir / 'disruption.json').write_text(
                    json.dumps(self.sampler.timeline) + '\n')

    def failed_stack_operations(self) -> int:
        """Phase tests that failed over the run (stack operations)."""
        return sum(len(mixing.failed_tests(r.output))
                   for r in self.phase_history)

    def _check_budget(self) -> str:
        report = self.disruption
        if report is None:
            raise exceptions.UpgradeTestError(
                'the plan has a disruption budget, but nothing was sampled')
        self.budget_exceeded = disruption.over_budget(
            report, self.plan.budget, self.failed_stack_operations())
        if self.budget_exceeded:
            raise exceptions.UpgradeTestError(
                'over the plan\'s disruption budget: '
                + '; '.join(self.budget_exceeded))
        return (f'heat unavailable {report.unavailable["heat"]:.1f}s, '
                f'keystone {report.unavailable["keystone"]:.1f}s')

    def _mixed_phase(self) -> str:
        """The mixed phase, checked against the RPC prediction.

        Old and new engines must share a bus; the integrity step must have
        predicted whether they can. A pair predicted incompatible runs
        with each stack wait bounded by
        ``mixing.INCOMPATIBLE_STACK_TIMEOUT``, so the finding comes in
        minutes; the engines' logs say who served what.
        """
        engines = self.cloud.heat.engines()
        buses: dict[str | None, set[str]] = {}
        for engine in engines:
            buses.setdefault(engine.bus, set()).add(engine.release.key)
        if not any(len(keys) > 1 for keys in buses.values()):
            raise exceptions.UpgradeTestError(
                'the mixed phase needs old and new heat-engines on one bus; '
                'running: ' + (', '.join(
                    f'{e.stem} (bus {e.bus or "heat.conf"})'
                    for e in engines) or 'no engine'))
        prediction = mixing.predict(self.run_dir / INTEGRITY_REPORT)
        self.say(f'    RPC prediction: {prediction.said}')
        config = self.cloud.phase_conf
        if not prediction.compatible:
            config = self._bounded_conf(mixing.INCOMPATIBLE_STACK_TIMEOUT)
            self.say(f'    predicted incompatible: each stack wait of the '
                     f'mixed phase is bounded at '
                     f'{mixing.INCOMPATIBLE_STACK_TIMEOUT}s')
        count = sum(1 for r in self.phase_history if r.phase == 'mixed')
        log = self.run_dir / 'logs' / (
            'phase-mixed.log' if not count else f'phase-mixed-{count + 1}.log')
        start = mixing.offsets(engines)
        result = run_phase_command(config, 'mixed', log, echo=self.echo)
        self.phase_runs['mixed'] = result
        self.phase_history.append(result)
        self.phase_results.append(self._keep_phase_results('mixed', result))
        observation = mixing.observe(engines, start)
        outcome = {'prediction': dataclasses.asdict(prediction),
                   'passed': result.ok, 'seconds': result.seconds,
                   'served': observation.served,
                   'resource_operations': observation.resources,
                   'crossings': observation.crossings[:10]}
        self.mixed_outcomes.append(outcome)
        try:
            detail = mixing.judge(
                prediction, result.ok, mixing.failed_tests(result.output),
                observation, self.old.key, self.new.key, result.seconds)
        except exceptions.UpgradeTestError as exc:
            outcome['finding'] = str(exc)
            raise
        outcome['finding'] = detail
        return detail

    def _conf_without_database(self) -> Path:
        """The phases' configuration without the integrity database."""
        parser = configparser.RawConfigParser()
        parser.read(self.cloud.phase_conf)
        parser.remove_option('integrity', 'database_connection')
        path = self.run_dir / 'heat-upgrade-tests-after-mixed.conf'
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o600)
        with os.fdopen(fd, 'w') as f:
            parser.write(f)
        return path

    def _bounded_conf(self, stack_timeout: int) -> Path:
        """A copy of the phases' configuration with tighter stack waits."""
        parser = configparser.RawConfigParser()
        parser.read(self.cloud.phase_conf)
        parser['timeouts']['stack_timeout'] = str(stack_timeout)
        path = self.run_dir / 'heat-upgrade-tests-bounded.conf'
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o600)
        with os.fdopen(fd, 'w') as f:
            parser.write(f)
        return path

    def _keep_phase_results(self, phase: str, result: PhaseRun) -> dict:
        """Copy this run's subunit and junit files beside the report.

        A phase may run more than once in a plan (verify); each run keeps
        its own files, numbered in the plan's order, for the report.
        """
        n = len(self.phase_results) + 1
        source = self.cloud.results_dir / self.cloud.state_dir.name / phase
        keep = self.run_dir / 'results' / 'phases'
        entry = {'step': self.current or f'{phase} phase',
                 'phase': phase, 'returncode': result.returncode,
                 'seconds': result.seconds,
                 'log': f'logs/phase-{phase}.log'}
        for kind, suffix in (('subunit', 'subunit'), ('junit', 'xml')):
            found = source / f'{phase}.{suffix}'
            if found.is_file():
                keep.mkdir(parents=True, exist_ok=True)
                target = keep / f'{n:02d}-{phase}.{suffix}'
                shutil.copyfile(found, target)
                entry[kind] = str(target.relative_to(self.run_dir))
        return entry

    def do_integrity(self, only: list[str]) -> str:
        """``heat-upgrade-tests integrity check`` of the old and new Heat."""
        report = self.run_dir / INTEGRITY_REPORT
        argv = [sys.executable, '-m', 'heat_upgrade_tests.cmd',
                '--config-file', str(self.cloud.phase_conf), 'integrity',
                'check', '--from', str(self.old.venv / 'bin' / 'python'),
                '--to', str(self.new.venv / 'bin' / 'python'),
                '--report', str(report),
                '--log-dir', str(self.run_dir / 'logs' / 'integrity'),
                '--status-moment', 'before the new Heat starts']
        if only:
            argv += ['--only', ','.join(only)]
        result = run_command(argv, 'the integrity checks',
                             self.run_dir / 'logs' / 'integrity.log',
                             echo=self.echo, timeout=INTEGRITY_TIMEOUT)
        failed = _failed_checks(report)
        if result.returncode != 0:
            raise exceptions.UpgradeTestError(
                'integrity checks failed: ' + ('; '.join(failed) or (
                    f'exit {result.returncode}')) + f' (see {report})')
        return f'report {report}'

    def do_switch(self, endpoint: str, ref: model.ServiceRef) -> str:
        port = self.cloud.heat.api_port(ref.instance or 1)
        url = f'http://{self.cloud.host}:{port}'
        changed = self.cloud.switch_endpoint(endpoint, url)
        if endpoint == 'orchestration':
            self.heat_url = url
        return f'{changed} endpoint(s) now at {url}'

    def do_wait_for(self, ref: model.ServiceRef, timeout: float) -> str:
        if ref.service == 'keystone':
            url = self.cloud.keystone.auth_url
        else:
            url = (f'http://{self.cloud.host}:'
                   f'{self.cloud.heat.api_port(ref.instance or 1)}/')
        processes.wait_until(lambda: keystone.http_ok(url, timeout=2),
                             timeout, f'{ref} to answer on {url}')
        return url

    # -- the whole run --------------------------------------------------------
    def run(self, hooks: Mapping[str, Hook] | None = None) -> None:
        """Every step; ``hooks[moment](self)`` right after its step.

        The mini-cloud is stopped at the end whatever happened.
        """
        hooks = hooks or {}
        self.check_moments(hooks)
        hooks = with_heat_tests(self, hooks)
        try:
            if not self.prepared:
                self.preflight()
            self.step('virtual environments', self._venvs)
            self.step('start MariaDB, RabbitMQ, Keystone; register Heat',
                      self._start_cloud)
            with self.memory.watching():
                if self.plan.groups():
                    self.say(f'==> {self.plan.name} order: '
                             f'{" ".join(self.upgrade_order)}')
                try:
                    self.walk(hooks, context=self)
                finally:
                    self._stop_sampler()
            if self.plan.budget:
                self.step('disruption within the plan\'s budget',
                          self._check_budget)
        finally:
            self._stop_sampler()
            if self.cloud is not None:
                self.step('stop the mini-cloud', self._stop_cloud)

    def _stop_cloud(self) -> None:
        # Every service told at once, then the cleanup waits for each in
        # turn (the database and the bus last).
        self.cloud.terminate_services()
        self._owner.cleanUp()


def with_heat_tests(run, hooks: dict) -> dict:
    """The plan's hooks with Heat's tests at its two moments added.

    Only for plans with both moments (``pre-upgrade`` and ``new-heat-up``);
    a failing run is a failed step (the run fails) that does not end the
    walk, so the post-upgrade and destroy phases still run; it is also
    kept in ``run.heat_tests_problems``.
    """
    moments = {'pre-upgrade': heat_tests.BEFORE,
               'new-heat-up': heat_tests.AFTER}
    if not run.conf.heat_tests.enabled or not set(moments) <= set(
            run.plan.moments()):
        return hooks
    hooks = dict(hooks)
    for moment, side in moments.items():
        def hook(context, side=side, previous=hooks.get(moment)):
            if previous is not None:
                previous(context)
            try:
                context.step(f'Heat\'s own tests {side} the upgrade',
                             lambda: _heat_tests_step(context, side))
            except exceptions.UpgradeTestError:
                pass  # recorded as a failed step: the run fails, goes on
        hooks[moment] = hook
    return hooks


def _heat_tests_step(run, side: str) -> str:
    argv = [sys.executable, '-m', 'heat_upgrade_tests.cmd', '--config-file',
            str(run.cloud.phase_conf), 'heat-tests', side]
    result = run_command(
        argv, f'Heat\'s tests {side} the upgrade',
        run.run_dir / 'logs' / f'heat-tests-{side}.log', echo=run.echo,
        timeout=run.conf.heat_tests.timeout + 900)
    if result.returncode != 0:
        problem = (f'Heat\'s own tests {side} the upgrade failed (exit '
                   f'{result.returncode}); see logs/heat-tests-{side}.log')
        run.heat_tests_problems.append(problem)
        raise exceptions.UpgradeTestError(problem)
    return ''


def _failed_checks(report: Path) -> list[str]:
    try:
        doc = json.loads(report.read_text())
    except (OSError, ValueError):
        return []
    return [f'{f["check"]}: {f["summary"]}' for f in doc.get('findings', [])
            if f.get('status') == 'failed']
