"""The rounds of the benchmarks, run on one live mini-cloud.

Run from the bench plan's hook (``bench/plans/bench.yaml``: the old Heat
up, nothing else running), each round is the phases pre-upgrade, verify,
post-upgrade and destroy at one scale (``[phases] stacks_per_check``) and
one number of phase workers (``[phases] concurrency``), with a state
directory and configuration file of its own, timed phase by phase as a
user runs them (``heat-upgrade-tests phase``, stestr and all). A round
that measures overhead does each phase's work again with the plain
script (``plain``) right after the framework's, and both sides' requests
are counted on the server (``requests_log``). A round that measures
``db_sync`` copies the database after its pre-upgrade and migrates the
copy with the new release (``dbsync``). Destroy runs after any failure,
for the framework's and the plain script's stacks alike.
"""

from pathlib import Path
import time
import traceback

import openstack

from heat_upgrade_tests.benchmarks import dbsync
from heat_upgrade_tests.benchmarks import figures
from heat_upgrade_tests.benchmarks import plain
from heat_upgrade_tests.benchmarks import requests_log
from heat_upgrade_tests.benchmarks import timeline
from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests import config
from heat_upgrade_tests import copies
from heat_upgrade_tests.minicloud import cloud as cloud_mod
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests import state as state_mod

PHASE_TIMEOUT = 1800


def round_conf(cloud, name: str, checks: list[str], stacks_per_check: int,
               workers: int) -> tuple[Path, Path]:
    """A round's phase configuration and state directory."""
    state_dir = cloud.run_dir / f'state-{name}'
    path = cloud.run_dir / f'{name}.conf'
    cloud.write_phase_conf(path, state_dir, enabled_checks=checks,
                           overrides={'phases': {
                               'concurrency': workers,
                               'stacks_per_check': stacks_per_check}})
    return path, state_dir


def read_states(state_dir: Path, checks: list[str], stacks_per_check: int
                ) -> dict[tuple[str, int], dict]:
    """The round's state documents by ``(check, copy)``."""
    docs = {}
    for name in checks:
        for copy in range(1, stacks_per_check + 1):
            st = state_mod.CheckState(state_dir,
                                      copies.state_name(name, copy))
            if st.exists():
                docs[(name, copy)] = st.load('the benchmarks')
    return docs


class Rounds:
    """Every round the bench asks for, run at the plan's hook."""

    def __init__(self, checks: list[str], wanted: list[dict],
                 db_sync: bool, echo=print):
        """``wanted``: rounds as ``{stacks_per_check, workers, overhead}``."""
        self.checks = checks
        self.wanted = wanted
        self.db_sync = db_sync
        self.echo = echo
        self.results: list[dict] = []
        self.errors: list[str] = []

    def hook(self, run) -> None:
        """The plan's hook: every round, in order (scales ascending)."""
        for spec in self.wanted:
            try:
                self.results.append(self.one(run, **spec))
            except Exception:
                self.errors.append(traceback.format_exc())
                self.echo(f'bench: round {spec} failed:\n'
                          f'{self.errors[-1]}')

    def one(self, run, stacks_per_check: int, workers: int,
            overhead: bool = False) -> dict:
        cloud = run.cloud
        name = f'bench-x{stacks_per_check}-w{workers}'
        conf_path, state_dir = round_conf(cloud, name, self.checks,
                                          stacks_per_check, workers)
        # The round's own configuration, as its phases read it: the plain
        # script polls and bounds its waits as they do.
        conf = config.load(config_files=[str(conf_path)])
        rnd = {'stacks_per_check': stacks_per_check, 'workers': workers,
               'checks': list(self.checks), 'phases': {},
               'stacks': 0, 'overhead': overhead}
        script = stacks = None
        if overhead:
            conn = _plain_connection(cloud, conf.timeouts.api_timeout)
            script = plain.PlainScript(
                conn, workers, conf.timeouts.poll_interval,
                conf.timeouts.stack_timeout, tag=name.replace('bench-', ''))
        try:
            for phase in figures.PHASES:
                got = self._phase(cloud, conf_path, name, phase)
                rnd['phases'][phase] = got
                if phase == 'pre-upgrade':
                    docs = read_states(state_dir, self.checks,
                                       stacks_per_check)
                    rnd['stacks'] = sum(
                        1 for d in docs.values()
                        if (d.get('record') or {}).get('stack'))
                    if self.db_sync:
                        self._db_sync(run, name, rnd)
                    if script is not None:
                        stacks = plain.from_states(
                            checks_base.all_checks(), docs, conf)
                if script is not None and stacks is not None:
                    self._plain(cloud, script, phase, stacks, got)
                if not got['ok'] and phase != 'destroy':
                    break
        finally:
            if 'destroy' not in rnd['phases']:
                rnd['phases']['destroy'] = self._phase(
                    cloud, conf_path, name, 'destroy')
                if script is not None and stacks:
                    self._plain(cloud, script, 'destroy', stacks,
                                rnd['phases']['destroy'])
        return rnd

    def _db_sync(self, run, name: str, rnd: dict) -> None:
        try:
            rnd['db_sync'] = dbsync.timed_db_sync(
                run.cloud, run.new, run.cloud.log_dir)
        except Exception as exc:
            rnd['db_sync_error'] = f'{type(exc).__name__}: {exc}'
            self.echo(f'bench: {name} db_sync failed: '
                      f'{rnd["db_sync_error"]}')
            return
        self.echo(f'bench: {name} db_sync {rnd["db_sync"]["seconds"]:.1f}s '
                  f'at {rnd["db_sync"]["rows"]} rows')

    def _phase(self, cloud, conf_path: Path, name: str, phase: str) -> dict:
        mark = requests_log.mark(cloud.log_dir)
        log = cloud.log_dir / f'{name}-{phase}.log'
        started = timeline.now()
        result = upgrade.run_phase_command(conf_path, phase, log,
                                           echo=False, timeout=PHASE_TIMEOUT)
        ended = timeline.now()
        counts = requests_log.count_since(cloud.log_dir, mark)
        stream = (cloud.results_dir / f'state-{name}' / phase /
                  f'{phase}.subunit')
        parts = timeline.split(started, ended, timeline.test_times(stream)
                               if stream.is_file() else [])
        self.echo(f'bench: {name} {phase}: {result.seconds:.1f}s '
                  f'(exit {result.returncode}, {sum(counts.values())} '
                  f'requests)')
        return {'seconds': result.seconds, 'ok': result.ok,
                'returncode': result.returncode, 'log': str(log),
                'requests': _as_json(counts), 'timeline': parts}

    def _plain(self, cloud, script, phase: str, stacks, got: dict) -> None:
        mark = requests_log.mark(cloud.log_dir)
        try:
            got['plain_seconds'] = script.run(phase, stacks)
        except Exception as exc:
            got['plain_error'] = f'{type(exc).__name__}: {exc}'
            self.echo(f'bench: plain {phase} failed: {got["plain_error"]}')
            if phase != 'destroy':
                return
        counts = requests_log.count_since(cloud.log_dir, mark)
        got['plain_requests'] = _as_json(counts)
        self.echo(f'bench:   plain {phase}: '
                  f'{got.get("plain_seconds", 0):.1f}s '
                  f'({sum(counts.values())} requests)')


def _as_json(counts) -> dict[str, int]:
    return {f'{service} {what}': n
            for (service, what), n in sorted(counts.items())}


def _plain_connection(cloud, api_timeout: float):
    """openstacksdk alone: the member's clouds.yaml entry, nothing else."""
    config = openstack.config.OpenStackConfig(
        config_files=[str(cloud.clouds_yaml)])
    return openstack.connection.Connection(config=config.get_one(
        cloud=cloud_mod.MEMBER_CLOUD, api_timeout=api_timeout))


def wanted_rounds(scales: list[int], workers: list[int], scale_workers: int,
                  workers_scale: int, overhead: str = 'shared'
                  ) -> list[dict]:
    """The rounds that give both series, each run once, scales ascending.

    The scale series runs at ``scale_workers`` workers, the workers
    series at ``workers_scale`` stacks per check; the round both share is
    run once. ``overhead``: ``shared`` measures it in that round only,
    ``all`` in every round, ``none`` nowhere.
    """
    pairs = {(n, scale_workers) for n in scales}
    pairs |= {(workers_scale, w) for w in workers}
    shared = (workers_scale, scale_workers)
    return [{'stacks_per_check': n, 'workers': w,
             'overhead': overhead == 'all' or (
                 overhead == 'shared' and (n, w) == shared)}
            for n, w in sorted(pairs)]


def now() -> str:
    return time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
