"""The contract of a resource check, and the registry that finds them.

A check is one module in this package (plus its templates under
``templates/``) holding one ``ResourceCheck`` subclass decorated with
``@register``. The phase tests are generated from the registry, so adding a
check touches no phase code. Modules whose name starts with ``_`` are
helpers, not checks.

A check may declare a phase known to fail for a range of release series
(``KnownFailure``): the phase still runs; its failure is reported as a
known finding (the test is skipped with ``KNOWN FINDING`` and the state
records it) and a pass is reported as unexpected, so the gate stays green
on known problems without hiding them.
"""

import dataclasses
import importlib
from pathlib import Path
import pkgutil
from typing import Any, ClassVar
import uuid

from heat_upgrade_tests import clients
from heat_upgrade_tests import exceptions
from heat_upgrade_tests import state as state_mod

TEMPLATE_DIR = Path(__file__).parent / 'templates'
_REGISTRY: dict[str, type['ResourceCheck']] = {}
# The services of the devstack-free mini-cloud: a check needing no other
# service runs there (and must have a fault drill).
MINICLOUD_SERVICES = frozenset({'identity', 'orchestration'})


def series_key(name: str) -> tuple[int, ...]:
    """Sort key of a release series name such as ``2026.1``."""
    try:
        key = tuple(int(part) for part in name.split('.'))
    except ValueError:
        key = ()
    if len(key) != 2:
        raise ValueError(f'{name!r} is not a release series (YYYY.N)')
    return key


def in_series_range(spec: str, series: str | None) -> bool:
    """Whether ``series`` is in a range of series.

    ``spec`` is ``*``, ``A``, ``A..``, ``..B`` or ``A..B`` (inclusive). An
    unknown series (None: the configuration does not say) is in every
    range: a known failure then still counts as known, and is reported.
    """
    if spec == '*' or series is None:
        return True
    first, dots, last = spec.partition('..')
    if not dots:
        return series_key(series) == series_key(first)
    key = series_key(series)
    return ((not first or key >= series_key(first)) and
            (not last or key <= series_key(last)))


@dataclasses.dataclass(frozen=True)
class KnownFailure:
    """A phase of a check known to fail, where, and why.

    ``from_series`` and ``to_series`` are ranges (see ``in_series_range``)
    of the series upgraded from and to; ``reason`` names the bug or the
    documented limitation, so the finding can be followed and removed.
    """

    phase: str
    reason: str
    from_series: str = '*'
    to_series: str = '*'

    def applies(self, phase: str, from_series: str | None,
                to_series: str | None) -> bool:
        return (phase == self.phase and
                in_series_range(self.from_series, from_series) and
                in_series_range(self.to_series, to_series))


@dataclasses.dataclass
class CheckContext:
    """What a check may use in one phase.

    ``conn`` is the member's connection, or the admin's for a check that
    ``needs_admin``; ``admin_conn`` (may be None) reads what a stack made
    directly in other services; ``save`` persists the record at once, so a
    stack id is kept even when the wait that follows fails.
    """

    conf: Any
    conn: Any
    admin_conn: Any
    stacks: clients.StackOps
    run_id: str
    save: Any = None


class ResourceCheck:
    """One upgrade check: a stack made before the upgrade, used after it.

    Subclasses set the class attributes and override the hooks they need.
    The defaults create the stack from ``template``, compare its outputs in
    every later phase, and delete it at the end.
    """

    name: ClassVar[str]
    idempotent_id: ClassVar[str]
    description: ClassVar[str]
    template: ClassVar[str]
    environment: ClassVar[tuple[str, ...]] = ()
    needs_admin: ClassVar[bool] = False
    required_services: ClassVar[tuple[str, ...]] = ()
    required_resource_types: ClassVar[tuple[str, ...]] = ()
    # The oldest series Heat must be before the upgrade (None: any).
    min_series: ClassVar[str | None] = None
    known_failures: ClassVar[tuple[KnownFailure, ...]] = ()
    # The stack's status once pre-upgrade is done, checked again after the
    # upgrade (a check may leave its stack FAILED or SUSPENDED on purpose).
    expected_status: ClassVar[tuple[str, ...]] = ('CREATE_COMPLETE',)
    # Template and environment of the post-upgrade update (None: the
    # create's); parameters come from ``update_parameters``.
    update_template: ClassVar[str | None] = None
    update_environment: ClassVar[tuple[str, ...] | None] = None
    # What each phase proves, one sentence per phase, for the generated
    # check table of the docs; phases not named get a generic sentence.
    proves: ClassVar[dict[str, str]] = {}

    # -- what the check needs -------------------------------------------
    @classmethod
    def runs_on_minicloud(cls) -> bool:
        """Whether the devstack-free mini-cloud has what the check needs."""
        return set(cls.required_services) <= MINICLOUD_SERVICES

    def known_failure(self, phase: str, conf) -> KnownFailure | None:
        """The known failure declared for ``phase`` on this upgrade."""
        from_series = getattr(conf.cloud, 'from_series', None)
        to_series = getattr(conf.cloud, 'to_series', None)
        for known in self.known_failures:
            if known.applies(phase, from_series, to_series):
                return known
        return None

    def unsupported(self, ctx: CheckContext) -> str | None:
        """Why this cloud cannot run the check, or None."""
        from_series = getattr(ctx.conf.cloud, 'from_series', None)
        if self.min_series and from_series and (
                series_key(from_series) < series_key(self.min_series)):
            return (f'needs Heat {self.min_series} or newer before the '
                    f'upgrade; this cloud upgrades from {from_series}')
        if self.needs_admin and ctx.admin_conn is None:
            return (f'needs admin credentials (clouds.yaml entry '
                    f'{ctx.conf.cloud.admin_cloud!r} is not usable)')
        for service in self.required_services:
            if not clients.has_service(ctx.conn, service):
                return f'needs the {service} service, not in the catalog'
        if self.required_resource_types:
            offered = {t.resource_type for t in
                       ctx.conn.orchestration.resource_types()}
            missing = sorted(set(self.required_resource_types) - offered)
            if missing:
                return f'needs resource types Heat does not offer: ' \
                       f'{", ".join(missing)}'
        return None

    # -- template and parameters ----------------------------------------
    def template_path(self, name: str | None = None) -> Path:
        return TEMPLATE_DIR / (name or self.template)

    def environment_paths(self) -> list[Path]:
        return [TEMPLATE_DIR / e for e in self.environment]

    def update_template_path(self) -> Path:
        return self.template_path(self.update_template)

    def update_environment_paths(self) -> list[Path]:
        names = self.environment if self.update_environment is None else (
            self.update_environment)
        return [TEMPLATE_DIR / e for e in names]

    def create_parameters(self, ctx: CheckContext) -> dict[str, Any]:
        return {}

    def update_parameters(self, ctx: CheckContext,
                          record: dict[str, Any]) -> dict[str, Any]:
        """Parameters of the post-upgrade update; {} means no update."""
        return {}

    # -- pre-upgrade ------------------------------------------------------
    def create(self, ctx: CheckContext, record: dict[str, Any]) -> None:
        """Create the stack, wait, record its id, parameters and outputs."""
        name = f'hut-{self.name.replace("_", "-")}-{ctx.run_id}'
        params = self.create_parameters(ctx)
        stack_id = ctx.stacks.create(name, self.template_path(),
                                     self.environment_paths(), params)
        record['stack'] = {'id': stack_id, 'name': name}
        record['parameters'] = params
        if ctx.save:
            ctx.save()
        ctx.stacks.wait_for(stack_id, 'CREATE')
        record['outputs'] = ctx.stacks.outputs(stack_id)

    def verify(self, ctx: CheckContext, record: dict[str, Any]) -> None:
        """Pre-upgrade: the stack is complete and its outputs are sound."""
        self.verify_stack(ctx, record, self.expected_status)
        self.verify_outputs(ctx, record, record['outputs'])

    def verify_outputs(self, ctx: CheckContext, record: dict[str, Any],
                       outputs: dict[str, Any]) -> None:
        """Check the outputs mean what the template says; override."""

    # -- verify (read-only, any number of times) --------------------------
    def verify_unchanged(self, ctx: CheckContext,
                         record: dict[str, Any]) -> None:
        """The stack and what it made, as pre-upgrade left them.

        Read-only: ``record`` is a copy and ``ctx.save`` is None. Through
        Heat: the status and the outputs pre-upgrade recorded; through the
        other services: what ``verify_heat_down`` finds. A check whose
        pre-upgrade leaves its stack in another state (an update still
        running) overrides this.
        """
        self.verify_stack(ctx, record, self.expected_status)
        outputs = ctx.stacks.outputs(record['stack']['id'])
        self.assert_equal(record['outputs'], outputs, 'outputs')
        self.verify_outputs(ctx, record, outputs)
        try:
            self.verify_heat_down(ctx, record)
        except exceptions.CheckSkipped:
            pass  # it makes nothing outside Heat

    # -- during-upgrade ---------------------------------------------------
    def verify_heat_down(self, ctx: CheckContext,
                         record: dict[str, Any]) -> None:
        """With Heat down, find the physical resources via their service."""
        raise exceptions.CheckSkipped(
            f'{self.name} makes nothing outside Heat to look for while Heat '
            f'is down')

    def verify_no_api(self, ctx: CheckContext,
                      record: dict[str, Any]) -> None:
        """With every API down, probe the data plane (optional)."""
        raise exceptions.CheckSkipped(
            f'{self.name} has no data-plane probe')

    # -- post-upgrade -----------------------------------------------------
    def verify_upgraded(self, ctx: CheckContext,
                        record: dict[str, Any]) -> None:
        """The new Heat shows the same stack and outputs, then updates it."""
        self.verify_stack(ctx, record, self.expected_status)
        outputs = ctx.stacks.outputs(record['stack']['id'])
        self.assert_equal(record['outputs'], outputs,
                          'outputs after the upgrade')
        params = self.update_parameters(ctx, record)
        if not params and self.update_template is None:
            return
        merged = dict(record.get('parameters', {}), **params)
        ctx.stacks.update(record['stack']['id'],
                          self.update_template_path(),
                          self.update_environment_paths(), merged)
        after = ctx.stacks.outputs(record['stack']['id'])
        self.verify_updated(ctx, record, after)

    def verify_updated(self, ctx: CheckContext, record: dict[str, Any],
                       outputs: dict[str, Any]) -> None:
        """Observe the update's effect (outside Heat where possible)."""

    def destroy(self, ctx: CheckContext, record: dict[str, Any]) -> None:
        """Delete the stack; then its physical resources must be gone."""
        stack = record.get('stack')
        if not stack:
            return
        ctx.stacks.delete(stack['id'])
        self.verify_gone(ctx, record)

    def verify_gone(self, ctx: CheckContext, record: dict[str, Any]) -> None:
        """After delete: what the stack made outside Heat is gone."""

    # -- helpers ----------------------------------------------------------
    def verify_stack(self, ctx: CheckContext, record: dict[str, Any],
                     statuses: tuple[str, ...]) -> Any:
        stack = ctx.stacks.get(record['stack']['id'])
        if stack.status not in statuses:
            self.fail(f'stack {stack.name} is {stack.status} '
                      f'({stack.status_reason}), expected '
                      f'{" or ".join(statuses)}')
        return stack

    def fail(self, message: str) -> None:
        raise exceptions.CheckFailed(f'check {self.name}: {message}')

    def assert_equal(self, expected: Any, observed: Any, what: str) -> None:
        if expected != observed:
            self.fail(f'{what} differ: expected {expected!r}, '
                      f'observed {observed!r}')


def register(cls: type[ResourceCheck]) -> type[ResourceCheck]:
    """Class decorator: validate a check's declaration and register it."""
    for attr in ('name', 'idempotent_id', 'description', 'template'):
        if not getattr(cls, attr, None):
            raise TypeError(f'check {cls.__name__} does not set {attr}')
    if not cls.name.isidentifier() or cls.name != cls.name.lower():
        raise TypeError(f'check name {cls.name!r} must be a lower-case '
                        f'Python identifier (it names a test)')
    try:
        uuid.UUID(cls.idempotent_id)
    except ValueError:
        raise TypeError(f'check {cls.name}: idempotent_id '
                        f'{cls.idempotent_id!r} is not a UUID')
    for path in [TEMPLATE_DIR / cls.template] + [
            TEMPLATE_DIR / e for e in cls.environment + (
                cls.update_environment or ())] + (
            [TEMPLATE_DIR / cls.update_template]
            if cls.update_template else []):
        if not path.is_file():
            raise TypeError(f'check {cls.name}: no template {path}')
    _validate_series_declarations(cls)
    for other in _REGISTRY.values():
        if other is not cls and (other.name == cls.name or
                                 other.idempotent_id == cls.idempotent_id):
            raise TypeError(f'check {cls.name} reuses the name or id of '
                            f'{other.__module__}.{other.__name__}')
    _REGISTRY[cls.name] = cls
    return cls


def _validate_series_declarations(cls: type[ResourceCheck]) -> None:
    """Refuse a bad min_series or known failure at import time."""
    try:
        if cls.min_series:
            series_key(cls.min_series)
        for known in cls.known_failures:
            if known.phase not in state_mod.PHASE_ORDER:
                raise ValueError(f'unknown phase {known.phase!r}')
            if not known.reason.strip():
                raise ValueError('a known failure needs a reason')
            for spec in (known.from_series, known.to_series):
                if spec != '*':
                    for end in spec.split('..'):
                        if end:
                            series_key(end)
    except ValueError as exc:
        raise TypeError(f'check {cls.name}: {exc}')


def phase_test_id(check: type[ResourceCheck], phase: str) -> str:
    """The stable idempotent id of one check's test in one phase."""
    return str(uuid.uuid5(uuid.UUID(check.idempotent_id), phase))


def all_checks() -> dict[str, type[ResourceCheck]]:
    """Every check module of this package, imported and registered."""
    from heat_upgrade_tests import checks
    for module in pkgutil.iter_modules(checks.__path__):
        if module.name != 'base' and not module.name.startswith('_'):
            importlib.import_module(f'{checks.__name__}.{module.name}')
    return dict(sorted(_REGISTRY.items()))


def selected_checks(conf) -> dict[str, type[ResourceCheck]]:
    """The checks the configuration enables."""
    found = all_checks()
    enabled = list(conf.phases.enabled_checks or found)
    unknown = sorted((set(enabled) | set(conf.phases.disabled_checks))
                     - set(found))
    if unknown:
        raise exceptions.ConfigError(
            f'unknown check(s) {", ".join(unknown)}; known: '
            f'{", ".join(found)}')
    return {name: found[name] for name in sorted(enabled)
            if name not in conf.phases.disabled_checks}
