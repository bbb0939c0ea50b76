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

import ast
from collections.abc import Callable
import dataclasses
import importlib
import inspect
from pathlib import Path
import pkgutil
import sys
import textwrap
from typing import Any, ClassVar
import uuid

from heat_upgrade_tests import clients
from heat_upgrade_tests import exceptions
from heat_upgrade_tests import releases
from heat_upgrade_tests import state as state_mod

TEMPLATE_DIR = Path(__file__).parent / 'templates'
_REGISTRY: dict[str, type['ResourceCheck']] = {}
# The services of the devstack-free mini-cloud (the catalogue types of the
# services releases.yaml installs): a check needing no other service runs
# there (and must have a fault drill). Those of its compute part only with
# ``[minicloud] compute``.
MINICLOUD_SERVICES = frozenset(
    p.catalog_type for p in releases.packages().values()
    if p.catalog_type and not p.compute)
MINICLOUD_COMPUTE_SERVICES = frozenset(
    p.catalog_type for p in releases.packages().values()
    if p.catalog_type and p.compute)
# What ``heat-upgrade-tests scaffold`` writes where only the check's author
# knows what to say; ``register`` refuses a check still carrying it.
PLACEHOLDER = 'SCAFFOLD-PLACEHOLDER'


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
        return releases.series_key(series) == releases.series_key(first)
    key = releases.series_key(series)
    return ((not first or key >= releases.series_key(first)) and
            (not last or key <= releases.series_key(last)))


@dataclasses.dataclass(frozen=True)
class KnownFailure:
    """A phase of a check known to fail, where, and why.

    ``from_series`` and ``to_series`` are ranges (see ``in_series_range``)
    of the series upgraded from and to; ``reason`` names the bug or the
    documented limitation, so the finding can be followed and removed.

    A known refusal of the stack's delete (phase ``destroy``) may carry
    its repair, so that nothing is left behind: ``refusal`` is text of
    Heat's error, ``repair(check, ctx, record)`` undoes its cause through
    the other services and returns what it did. The framework then
    deletes the stack again, and still reports the refusal.
    """

    phase: str
    reason: str
    from_series: str = '*'
    to_series: str = '*'
    refusal: str = ''
    repair: Callable[..., str] | None = None

    def applies(self, phase: str, from_series: str | None,
                to_series: str | None) -> bool:
        return (phase == self.phase and
                in_series_range(self.from_series, from_series) and
                in_series_range(self.to_series, to_series))


@dataclasses.dataclass
class CheckContext:
    """What a check may use in one phase.

    ``conn`` is the member's connection, or the admin's for a check that
    ``needs_admin``; ``admin_conn`` reads what a stack made directly in
    other services (the phases skip a check that declares it needs admin,
    ``needs_admin`` or ``reads_as_admin``, when it is None); ``save``
    persists the record at once, so a stack id is kept even when the wait
    that follows fails.
    """

    conf: Any
    conn: Any
    admin_conn: Any
    stacks: clients.StackOps
    run_id: str
    save: Any = None


@dataclasses.dataclass
class StackRef:
    """The stack a check made: Heat's id and the name it was given."""

    id: str
    name: str


@dataclasses.dataclass
class CheckRecord:
    """What pre-upgrade keeps for the later phases, field by field.

    Serialised into the check's state document (``to_json``), read back
    in every later phase (``from_json``), possibly by another checkout:
    so every field is declared, and a document with a field the check
    does not declare is refused rather than silently half-read. A check
    keeping more (a stack user's id, events, a snapshot) declares a
    subclass with those fields, each with a default, and names it in its
    ``record_type``. Keep ids and values; never a credential (the state
    refuses keys that look like one).
    """

    stack: StackRef | None = None
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Set by the destroy phase once the stack and what it made are gone.
    destroyed: bool = False

    def to_json(self) -> dict[str, Any]:
        """The record as the JSON object the state document holds."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> 'CheckRecord':
        """Read a record back; ValueError names what does not fit."""
        if not isinstance(data, dict):
            raise ValueError(f'the record is {type(data).__name__}, not an '
                             f'object')
        declared = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - declared)
        if unknown:
            raise ValueError(f'the record has field(s) {", ".join(unknown)} '
                             f'that {cls.__name__} does not declare')
        values = dict(data)
        stack = values.get('stack')
        if stack is not None:
            if not isinstance(stack, dict) or set(stack) != {'id', 'name'}:
                raise ValueError(f'the record\'s stack is {stack!r}, not '
                                 f'{{"id": ..., "name": ...}}')
            values['stack'] = StackRef(**stack)
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class NoUpdate:
    """Said instead of an update: ``update = base.NoUpdate('why')``.

    A check whose post-upgrade proves what it must without changing the
    stack says so, with the reason, rather than leaving an update out
    silently; the check table shows the reason.
    """

    reason: str


class ResourceCheck:
    """One upgrade check: a stack made before the upgrade, used after it.

    The contract is six hooks; the framework (``phases/lifecycle.py``)
    owns everything around them: the order, the stack's status, the
    comparison of its outputs with those pre-upgrade recorded, the mixed
    phase, the delete. As in Kubernetes' upgrade tests (set up, test while
    upgrading, tear down):

    =======================  ==============================================
    ``create``               make the stack (``create_stack``) and record
                             what later phases need; pre-upgrade
    ``verify``               read-only: what the stack made is sound and
                             as recorded; wherever Heat serves
    ``verify_outside_heat``  what the stack made, found through the other
                             services, never Heat; with Heat down
    ``update``               change the old stack through the new Heat and
                             observe the effect (``update_stack`` does the
                             update in one call), or ``NoUpdate('why')``
    ``verify_gone``          after the delete: what the stack made outside
                             Heat is gone
    ``verify_data_plane``    with every API down: the workload still
                             answers (optional)
    =======================  ==============================================

    Every hook gets a ``CheckContext`` and the check's ``record`` (a
    ``record_type``). ``register`` refuses a check that overrides anything
    else of this class (``HOOKS``, ``DECLARATIONS``), or that says nothing
    about its update.
    """

    name: ClassVar[str]
    idempotent_id: ClassVar[str]
    description: ClassVar[str]
    template: ClassVar[str]
    environment: ClassVar[tuple[str, ...]] = ()
    # Runs as admin (Heat's policy makes OS::Keystone::* admin-only).
    needs_admin: ClassVar[bool] = False
    # Runs as the member but looks things up with admin credentials (what
    # and why, e.g. "looks up its stack user in Keystone"); '' for none.
    reads_as_admin: ClassVar[str] = ''
    required_services: ClassVar[tuple[str, ...]] = ()
    required_resource_types: ClassVar[tuple[str, ...]] = ()
    # The oldest series Heat must be before the upgrade (None: any).
    min_series: ClassVar[str | None] = None
    known_failures: ClassVar[tuple[KnownFailure, ...]] = ()
    # The stack's status once pre-upgrade is done, checked again after the
    # upgrade (a check may leave its stack FAILED or SUSPENDED on purpose,
    # or an update IN_PROGRESS for the plan to interrupt).
    expected_status: ClassVar[tuple[str, ...]] = ('CREATE_COMPLETE',)
    # What the check keeps between phases.
    record_type: ClassVar[type[CheckRecord]] = CheckRecord
    # What each phase proves, one sentence per phase, for the generated
    # check table of the docs; phases not named get a generic sentence.
    proves: ClassVar[dict[str, str]] = {}

    # -- the six hooks --------------------------------------------------
    def create(self, ctx: CheckContext, record: CheckRecord) -> None:
        """Make the stack and record what later phases need.

        The default makes it from ``template`` and ``environment`` with no
        parameters. Override it to pass parameters
        (``self.create_stack(ctx, record, {...})``) or to do more after
        the stack is made (a signal, a snapshot, a suspend), recording
        what later phases compare in ``record``.
        """
        self.create_stack(ctx, record)

    def verify(self, ctx: CheckContext, record: CheckRecord) -> None:
        """Read-only: what the stack made is sound and as recorded.

        Called wherever Heat serves the stack: pre-upgrade after create,
        in the verify phase, and after the upgrade (before ``update``),
        each time after the framework checked the stack's status and
        before it compares the outputs with those recorded. It must change
        nothing. Look at ``record`` and, where possible, at the resources
        in their own service.
        """

    def verify_outside_heat(self, ctx: CheckContext,
                            record: CheckRecord) -> None:
        """What the stack made, found through its own service, not Heat.

        Called with Heat down (during-upgrade) and in the verify phase.
        The default says the check makes nothing outside Heat.
        """
        raise exceptions.CheckSkipped(
            f'{self.name} makes nothing outside Heat to look for while Heat '
            f'is down')

    # Change the old stack through the new Heat, and observe the effect:
    # a method calling ``update_stack`` (or signalling, resuming,
    # restoring ...), or ``update = base.NoUpdate('why')``. ``register``
    # refuses a check that leaves it unsaid.
    update: ClassVar[Any] = None

    def verify_gone(self, ctx: CheckContext, record: CheckRecord) -> None:
        """After the framework deleted the stack: what it made is gone."""

    def verify_data_plane(self, ctx: CheckContext,
                          record: CheckRecord) -> None:
        """With every API down, probe the workload itself (optional)."""
        raise exceptions.CheckSkipped(
            f'{self.name} has no data-plane probe')

    # -- helpers for the hooks ------------------------------------------
    def create_stack(self, ctx: CheckContext, record: CheckRecord,
                     parameters: dict[str, Any] | None = None,
                     tags: list[str] | None = None,
                     wait: bool = True) -> str:
        """Create the check's stack; record it at once; wait (bounded).

        The stack is recorded (and saved) before the wait, so a create
        that fails or hangs still leaves the destroy phase its id. With
        ``wait`` the create is awaited and the outputs recorded.
        """
        name = self.stack_name(ctx)
        params = dict(parameters or {})
        stack_id = ctx.stacks.create(name, self.template_path(),
                                     self.environment_paths(), params,
                                     tags=tags)
        record.stack = StackRef(id=stack_id, name=name)
        record.parameters = params
        if ctx.save:
            ctx.save()
        if wait:
            ctx.stacks.wait_for(stack_id, 'CREATE')
            record.outputs = ctx.stacks.outputs(stack_id)
        return stack_id

    def update_stack(self, ctx: CheckContext, record: CheckRecord,
                     parameters: dict[str, Any] | None = None,
                     template: str | None = None,
                     environment: tuple[str, ...] | None = None,
                     stacks: clients.StackOps | None = None
                     ) -> dict[str, Any]:
        """A full update, waited for (bounded); the outputs after it.

        ``parameters`` are merged into the create's; ``template`` and
        ``environment`` default to the create's; ``stacks`` may carry a
        tighter bound than the context's.
        """
        stacks = stacks or ctx.stacks
        merged = dict(record.parameters, **(parameters or {}))
        stacks.update(record.stack.id, self.template_path(template),
                      self.environment_paths(environment), merged)
        return ctx.stacks.outputs(record.stack.id)

    def verify_stack(self, ctx: CheckContext, record: CheckRecord,
                     statuses: tuple[str, ...]) -> Any:
        """The stack, failing unless its status is one of ``statuses``."""
        stack = ctx.stacks.get(record.stack.id)
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

    def template_path(self, name: str | None = None) -> Path:
        return TEMPLATE_DIR / (name or self.template)

    def environment_paths(self, names: tuple[str, ...] | None = None
                          ) -> list[Path]:
        return [TEMPLATE_DIR / e for e in (
            self.environment if names is None else names)]

    def stack_name(self, ctx: CheckContext) -> str:
        """The stack's name: the check's, unique per run."""
        return f'hut-{self.name.replace("_", "-")}-{ctx.run_id}'

    # -- what the check needs (the framework asks) ----------------------
    @classmethod
    def runs_on_minicloud(cls, compute: bool = True) -> bool:
        """Whether the devstack-free mini-cloud has what the check needs.

        ``compute``: with its compute part (``[minicloud] compute``, on by
        default).
        """
        services = MINICLOUD_SERVICES | (
            MINICLOUD_COMPUTE_SERVICES if compute else frozenset())
        return set(cls.required_services) <= services

    @classmethod
    def wants_admin(cls) -> bool:
        """Whether the check cannot run without admin credentials."""
        return cls.needs_admin or bool(cls.reads_as_admin)

    def known_failure(self, phase: str, conf) -> KnownFailure | None:
        """The known failure declared for ``phase`` on this upgrade."""
        from_series = getattr(conf.cloud, 'from_series', None)
        to_series = getattr(conf.cloud, 'to_series', None)
        for known in self.known_failures:
            if known.applies(phase, from_series, to_series):
                return known
        return None

    def admin_missing(self, ctx: CheckContext) -> str | None:
        """Why the check cannot run without the admin it lacks, or None.

        Asked in every phase, not only pre-upgrade: the admin entry of a
        later phase's configuration may be unusable, and a check that
        needs admin must then be skipped with this reason, never run as
        the member (where it would fail confusingly, or pass having
        looked at nothing).
        """
        if not self.wants_admin() or ctx.admin_conn is not None:
            return None
        what = ('runs as admin' if self.needs_admin else
                self.reads_as_admin)
        return (f'{self.name} {what}, which needs admin credentials '
                f'(clouds.yaml entry {ctx.conf.cloud.admin_cloud!r} is not '
                f'usable)')

    def unsupported(self, ctx: CheckContext) -> str | None:
        """Why this cloud cannot run the check, or None."""
        from_series = getattr(ctx.conf.cloud, 'from_series', None)
        if self.min_series and from_series and (
                releases.series_key(from_series) <
                releases.series_key(self.min_series)):
            return (f'needs Heat {self.min_series} or newer before the '
                    f'upgrade; this cloud upgrades from {from_series}')
        missing_admin = self.admin_missing(ctx)
        if missing_admin:
            return missing_admin
        for service in self.required_services:
            if not clients.has_service(ctx.conn, service):
                return f'needs the {service} service, not in the catalog'
        if self.required_resource_types:
            # openstacksdk has no call for it: Heat's API, GET
            # /resource_types, lists the names.
            response = ctx.conn.orchestration.get('/resource_types')
            offered = set(response.json().get('resource_types', []))
            missing = sorted(set(self.required_resource_types) - offered)
            if missing:
                return f'needs resource types Heat does not offer: ' \
                       f'{", ".join(missing)}'
        return None


# What a check may override: the six hooks and the declarations above.
HOOKS = ('create', 'verify', 'verify_outside_heat', 'update', 'verify_gone',
         'verify_data_plane')
DECLARATIONS = ('name', 'idempotent_id', 'description', 'template',
                'environment', 'needs_admin', 'reads_as_admin',
                'required_services', 'required_resource_types',
                'min_series', 'known_failures', 'expected_status',
                'record_type', 'proves')
# Hooks of the contract before it was six, and what replaced them: a
# method of one of these names would never be called.
RETIRED = {
    'create_parameters': 'pass the parameters to create_stack in create',
    'update_parameters': 'pass them to update_stack in update',
    'verify_updated': 'observe the effect in update, after update_stack',
    'update_template': 'pass template= to update_stack in update',
    'update_environment': 'pass environment= to update_stack in update',
    'verify_heat_down': 'it is verify_outside_heat',
    'verify_no_api': 'it is verify_data_plane',
    'verify_upgraded': 'verify runs after the upgrade too',
    'verify_unchanged': 'the verify phase is the framework\'s: verify and '
                        'verify_outside_heat',
    'destroy': 'the delete is the framework\'s; verify_gone after it (a '
               'known refusal of the delete declares its repair in '
               'KnownFailure)',
    'run_pre_upgrade': 'the phases are the framework\'s',
    'run_post_upgrade': 'the phases are the framework\'s',
    'run_mixed': 'the mixed phase is the framework\'s',
    'update_while_mixed': 'the mixed phase is the framework\'s',
}


def plain_create(check: type[ResourceCheck]) -> bool:
    """Whether the check's stack is exactly its template and parameters.

    True when ``create`` is the default, or does nothing but call
    ``create_stack`` (after an optional docstring). A create doing more (a
    signal, tags, a snapshot, a suspend) leaves the stack in a state that
    an update with the create's template and parameters could undo: the
    mixed phase does not re-apply it, and the plain benchmark does not
    replay it.
    """
    method = check.create
    if method is ResourceCheck.create:
        return True
    function = ast.parse(textwrap.dedent(inspect.getsource(method))).body[0]
    body = [statement for statement in function.body
            if not (isinstance(statement, ast.Expr) and
                    isinstance(statement.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Expr):
        return False
    call = body[0].value
    return (isinstance(call, ast.Call) and
            isinstance(call.func, ast.Attribute) and
            call.func.attr == 'create_stack' and
            isinstance(call.func.value, ast.Name) and
            call.func.value.id == 'self' and not call.keywords and
            len(call.args) <= 3)


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
    for path in _template_paths(cls):
        if not path.is_file():
            raise TypeError(f'check {cls.name}: no template {path}')
    if not (isinstance(cls.record_type, type) and
            issubclass(cls.record_type, CheckRecord) and
            dataclasses.is_dataclass(cls.record_type)):
        raise TypeError(f'check {cls.name}: record_type must be a '
                        f'dataclass deriving from base.CheckRecord')
    _validate_contract(cls)
    _validate_series_declarations(cls)
    _refuse_placeholders(cls)
    for other in _REGISTRY.values():
        if other is not cls and (other.name == cls.name or
                                 other.idempotent_id == cls.idempotent_id):
            raise TypeError(f'check {cls.name} reuses the name or id of '
                            f'{other.__module__}.{other.__name__}')
    _REGISTRY[cls.name] = cls
    return cls


def _template_paths(cls: type[ResourceCheck]) -> list[Path]:
    return [TEMPLATE_DIR / cls.template] + [
        TEMPLATE_DIR / e for e in cls.environment]


def outside_contract(cls: type[ResourceCheck]) -> list[str]:
    """What ``cls`` (and its mixins) defines outside the contract, said.

    The framework owns all but the hooks and the declarations (the order,
    the status, the outputs, the mixed phase, the delete): a check
    overriding it would change what every phase proves without saying
    so, and a method named after a retired hook would silently never be
    called.
    """
    found = []
    for klass in cls.__mro__:
        if klass in (ResourceCheck, object):
            continue
        for attr in vars(klass):
            if attr in RETIRED:
                found.append(f'check {cls.name}: {attr} is no longer a '
                             f'hook: {RETIRED[attr]}')
            elif (attr in vars(ResourceCheck) and not attr.startswith('__')
                    and attr not in HOOKS + DECLARATIONS):
                found.append(
                    f'check {cls.name} overrides {attr}, which is the '
                    f'framework\'s; a check overrides only the hooks '
                    f'({", ".join(HOOKS)}) and declares '
                    f'{", ".join(DECLARATIONS)}')
    return found


def _validate_contract(cls: type[ResourceCheck]) -> None:
    """Refuse a check outside the contract, or silent about its update."""
    outside = outside_contract(cls)
    if outside:
        raise TypeError(outside[0])
    update = cls.update
    if isinstance(update, NoUpdate):
        if not update.reason.strip():
            raise TypeError(f'check {cls.name}: NoUpdate needs a reason')
    elif update is None:
        raise TypeError(
            f'check {cls.name} says nothing about its post-upgrade update: '
            f'define update (self.update_stack(ctx, record, {{...}}) and '
            f'what it changed), or say update = base.NoUpdate("why")')
    elif not callable(update):
        raise TypeError(f'check {cls.name}: update must be a method or '
                        f'base.NoUpdate(reason), not {update!r}')
    for known in cls.known_failures:
        if (known.repair is None) != (not known.refusal):
            raise TypeError(f'check {cls.name}: a known failure\'s repair '
                            f'needs the refusal it repairs, and the other '
                            f'way round')
        if known.repair is not None and known.phase != 'destroy':
            raise TypeError(f'check {cls.name}: only a refusal of the '
                            f'delete (phase destroy) has a repair')


def _refuse_placeholders(cls: type[ResourceCheck]) -> None:
    """Refuse a scaffolded check until its placeholders are replaced.

    ``heat-upgrade-tests scaffold`` marks what only the author can write
    (why a deployer cares, what the stack is, what each phase proves, the
    template) with ``PLACEHOLDER``; a check still carrying it must not
    join the catalogue, nor pass the unit tests.
    """
    found = []
    module = sys.modules.get(cls.__module__)
    texts = [('the module docstring', getattr(module, '__doc__', None)),
             ('the class docstring', cls.__doc__),
             ('description', cls.description)]
    texts += [(f'proves[{phase!r}]', text)
              for phase, text in cls.proves.items()]
    for path in _template_paths(cls):
        try:
            texts.append((f'template {path.name}', path.read_text()))
        except OSError:
            pass
    found = [where for where, text in texts
             if text and PLACEHOLDER in text]
    if found:
        raise TypeError(
            f'check {cls.name} still carries the scaffold\'s placeholder '
            f'({PLACEHOLDER}) in {", ".join(found)}: replace each with what '
            f'the check really makes and proves')


def _validate_series_declarations(cls: type[ResourceCheck]) -> None:
    """Refuse a bad min_series or known failure at import time."""
    try:
        if cls.min_series:
            releases.series_key(cls.min_series)
        for known in cls.known_failures:
            if known.phase not in state_mod.PHASE_ORDER:
                raise ValueError(f'unknown phase {known.phase!r}')
            if not known.reason.strip():
                raise ValueError('a known failure needs a reason')
            for spec in (known.from_series, known.to_series):
                if spec != '*':
                    for end in spec.split('..'):
                        if end:
                            releases.series_key(end)
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
