"""Run the integrity checks a set of inputs allows, into one report.

A check runs when its inputs are there: the database checks need a
database URL (and, for the schema, the new release; for the rows, the
snapshot), the option and RPC comparisons need both releases, the
heat.conf validation a deployed configuration file. Asking for a check
whose inputs are missing is a one-line error; a check that breaks is a
failed finding, never the end of the report.
"""

import dataclasses
import json
import os
from pathlib import Path
import time

from heat_upgrade_tests import config
from heat_upgrade_tests import heatdb
from heat_upgrade_tests.integrity import accepted
from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import options as options_mod
from heat_upgrade_tests.integrity import report
from heat_upgrade_tests.integrity import rows
from heat_upgrade_tests.integrity import rpc
from heat_upgrade_tests.integrity import schema
from heat_upgrade_tests.integrity import status
from heat_upgrade_tests import releases

SCHEMA, ROWS, OPTIONS, CONFIG_FILE, UPGRADE_STATUS, RPC = (
    'schema', 'rows', 'options', 'config-file', 'upgrade-status', 'rpc')
CHECKS = (SCHEMA, ROWS, OPTIONS, CONFIG_FILE, UPGRADE_STATUS, RPC)
DATABASE_CHECKS = (SCHEMA, ROWS)
# ``Settings.old``: the series before the new release.
PREVIOUS = 'previous'


@dataclasses.dataclass
class Settings:
    """What one run is given; unset inputs switch their checks off."""

    old: str | None = None
    new: str | None = None
    database_connection: str | None = None
    state_dir: str | None = None
    heat_config_files: list[str] = dataclasses.field(default_factory=list)
    checks: tuple[str, ...] = ()
    accepted_file: str | None = None
    new_options_json: str | None = None
    save_options_dir: str | None = None
    cache_dir: str = os.path.join(config.CACHE_HOME, 'venvs')
    log_dir: str = os.path.join(config.CACHE_HOME, 'integrity-logs')
    status_moment: str = 'with the old configuration'
    old_env: environments.HeatEnv | None = None
    new_env: environments.HeatEnv | None = None


def _needs(check: str) -> tuple[str, ...]:
    return {SCHEMA: ('new', 'database_connection'),
            ROWS: ('database_connection', 'state_dir'),
            OPTIONS: ('old', 'new'), CONFIG_FILE: ('new',),
            UPGRADE_STATUS: ('new',), RPC: ('old', 'new')}[check]


def selected(settings: Settings) -> list[str]:
    """The checks to run: those asked for, or all whose inputs exist."""
    def have(name):
        if name in ('old', 'new'):
            return bool(getattr(settings, name) or
                        getattr(settings, f'{name}_env'))
        return bool(getattr(settings, name))

    if settings.checks:
        unknown = sorted(set(settings.checks) - set(CHECKS))
        if unknown:
            raise environments.IntegrityError(
                f'unknown check {", ".join(unknown)}; checks: '
                f'{", ".join(CHECKS)}')
        for check in settings.checks:
            missing = [n for n in _needs(check) if not have(n)]
            if missing:
                raise environments.IntegrityError(
                    f'the {check} check needs '
                    + ', '.join(n.replace('_', ' ') for n in missing))
        return [c for c in CHECKS if c in settings.checks]
    return [c for c in CHECKS if all(have(n) for n in _needs(c))]


def _conf_files(settings: Settings) -> list[Path]:
    return [Path(p).expanduser() for p in settings.heat_config_files
            if Path(p).expanduser().is_file()]


class Run:
    """One run: resolved releases, option data, and the report."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.cache_dir = Path(settings.cache_dir).expanduser()
        self.log_dir = Path(settings.log_dir).expanduser()
        self.known = releases.load_series()
        self.old = settings.old_env
        self.new = settings.new_env
        self._opts: dict[str, dict] = {}
        self.timings: dict[str, float] = {}

    def resolve(self, checks: list[str]) -> None:
        """Find (or build) the releases the checks need, in parallel.

        ``old`` may be ``PREVIOUS``: the series before the new release,
        known only once the new release is resolved.
        """
        s = self.settings
        start = time.monotonic()
        wanted = []
        # The heat.conf validation uses the old release when there is one.
        old_needed = CONFIG_FILE in checks or any(
            'old' in _needs(c) for c in checks)
        if s.old and s.old != PREVIOUS and self.old is None and old_needed:
            wanted.append(('old', s.old))
        if s.new and self.new is None and any(
                'new' in _needs(c) for c in checks):
            wanted.append(('new', s.new))
        if wanted:
            envs = environments.resolve_all([spec for _, spec in wanted],
                                            self.cache_dir, self.log_dir)
            for (side, _), env in zip(wanted, envs):
                setattr(self, side, env)
        if s.old == PREVIOUS and self.old is None and old_needed:
            self.old = environments.series_env(
                self.previous_series(), self.cache_dir, self.log_dir)
        self.timings['environments'] = round(time.monotonic() - start, 2)
        if self.old and self.new and environments.position(
                self.old, self.known) >= environments.position(
                self.new, self.known):
            raise environments.IntegrityError(
                f'{self.old.label} is not older than {self.new.label}')

    def previous_series(self) -> releases.Series:
        here = environments.position(self.new, self.known)
        older = [s for i, s in enumerate(self.known.values()) if i < here]
        if not older:
            raise environments.IntegrityError(
                f'no series known before {self.new.label}: give --from')
        return older[-1]

    def title(self) -> str:
        sides = [e.label for e in (self.old, self.new) if e]
        return 'Heat upgrade integrity: ' + (' -> '.join(sides) or
                                             'database')

    def option_data(self, env: environments.HeatEnv,
                    override: str | None = None) -> dict:
        key = f'{env.python}:{override}'
        if key not in self._opts:
            doc = options_mod.load_json(Path(override)) if override else \
                options_mod.generate(env)
            self._opts[key] = doc
            if self.settings.save_options_dir:
                out = Path(self.settings.save_options_dir).expanduser()
                out.mkdir(parents=True, exist_ok=True)
                name = f'heat-{env.version}.json'
                (out / name).write_text(json.dumps(doc, indent=1) + '\n')
        return self._opts[key]

    def between_sets(self) -> list[options_mod.OptionSet]:
        sets = []
        for series in environments.between(self.old, self.new, self.known):
            env = environments.series_env(series, self.cache_dir,
                                          self.log_dir)
            sets.append(options_mod.OptionSet.from_generator(
                self.option_data(env), env.label))
        return sets

    # -- the checks ------------------------------------------------------
    def check_schema(self) -> list[report.Finding]:
        return schema.check(self.new, self.settings.database_connection)

    def check_rows(self) -> list[report.Finding]:
        state_dir = Path(self.settings.state_dir)
        snapshot = rows.load_snapshot(state_dir)
        return [rows.check(self.settings.database_connection, snapshot,
                           _conf_files(self.settings),
                           set(rows.stack_roots(state_dir)))]

    def check_options(self) -> list[report.Finding]:
        old = options_mod.OptionSet.from_generator(
            self.option_data(self.old), self.old.label)
        new = options_mod.OptionSet.from_generator(
            self.option_data(self.new, self.settings.new_options_json),
            self.new.label)
        names = list(self.known)
        entries = accepted.applicable(
            accepted.load(self.settings.accepted_file and
                          Path(self.settings.accepted_file), names),
            names, environments.position(self.old, self.known),
            environments.position(self.new, self.known))
        comparison = options_mod.compare(old, new, self.between_sets,
                                         entries)
        return options_mod.findings(comparison)

    def check_config_file(self) -> list[report.Finding]:
        files = _conf_files(self.settings)
        if not files:
            return [report.Finding(
                'config-file', report.SKIPPED,
                'no deployed heat.conf given (--heat-conf or [integrity] '
                'heat_config_files)')]
        found = []
        for path in files:
            new = options_mod.validate(self.new, self.option_data(
                self.new, self.settings.new_options_json), path)
            old = options_mod.validate(
                self.old, self.option_data(self.old), path) \
                if self.old else None
            found.append(options_mod.config_file_finding(
                path, self.old.label if self.old else 'the old release',
                self.new.label, old, new))
        return found

    def check_upgrade_status(self) -> list[report.Finding]:
        return [status.run(self.new, _conf_files(self.settings),
                           self.settings.status_moment)]

    def check_rpc(self) -> list[report.Finding]:
        old = environments.probe(self.old.python, 'rpc')
        new = environments.probe(self.new.python, 'rpc')
        return [rpc.compare(old, new, self.old.label, self.new.label)]


def run(settings: Settings) -> report.Report:
    """Run the selected checks; every check's outcome is in the report."""
    checks = selected(settings)
    this = Run(settings)
    this.resolve(checks)
    result = report.Report(this.title())
    result.context = {
        'old': _describe(this.old), 'new': _describe(this.new),
        'database': (heatdb.describe_url(settings.database_connection)
                     if settings.database_connection else None),
        'checks': checks, 'timings': this.timings}
    for check in checks:
        start = time.monotonic()
        method = getattr(this, 'check_' + check.replace('-', '_'))
        try:
            result.extend(method())
        except environments.IntegrityError as exc:
            result.add(report.Finding(check, report.FAILED, str(exc)))
        this.timings[check] = round(time.monotonic() - start, 2)
    return result


def _describe(env: environments.HeatEnv | None) -> dict | None:
    if env is None:
        return None
    return {'label': env.label, 'version': env.version,
            'series': env.series_name, 'kind': env.kind,
            'python': str(env.python)}
