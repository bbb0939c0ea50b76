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
import sys
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
# there (and must have a fault drill).
MINICLOUD_SERVICES = frozenset(
    p.catalog_type for p in releases.packages().values() if p.catalog_type)
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

    The contract, one hook per thing a phase does (Kubernetes' upgrade
    tests: set up, test while upgrading, tear down):

    ==============  ==================================================
    pre-upgrade     ``create``, then (the phase checks the status)
                    ``verify``
    during-upgrade  ``verify_heat_down`` (Heat down, other APIs up)
    no-api          ``verify_no_api`` (every API down; optional)
    post-upgrade    ``verify_upgraded`` (status, the same outputs,
                    ``verify`` again), then ``update``, whose
                    default updates the stack and calls
                    ``verify_updated``
    destroy         ``destroy`` (delete), then ``verify_gone``
    ==============  ==================================================

    Every hook gets a ``CheckContext`` and the check's ``record`` (a
    ``record_type``). Subclasses set the class attributes and override
    the hooks they need; ``register`` refuses a check that says nothing
    about its post-upgrade update.
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
    # upgrade (a check may leave its stack FAILED or SUSPENDED on purpose).
    expected_status: ClassVar[tuple[str, ...]] = ('CREATE_COMPLETE',)
    # What the check keeps between phases.
    record_type: ClassVar[type[CheckRecord]] = CheckRecord
    # Template and environment of the default update (None: the
    # create's); its parameters come from ``update_parameters``.
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

    # -- template and parameters ----------------------------------------
    def template_path(self, name: str | None = None) -> Path:
        return TEMPLATE_DIR / (name or self.template)

    def environment_paths(self, names: tuple[str, ...] | None = None
                          ) -> list[Path]:
        return [TEMPLATE_DIR / e for e in (
            self.environment if names is None else names)]

    def stack_name(self, ctx: CheckContext) -> str:
        """The stack's name: the check's, unique per run."""
        return f'hut-{self.name.replace("_", "-")}-{ctx.run_id}'

    def create_parameters(self, ctx: CheckContext) -> dict[str, Any]:
        """Parameters of the stack ``create`` makes."""
        return {}

    def update_parameters(self, ctx: CheckContext,
                          record: CheckRecord) -> dict[str, Any]:
        """Parameters the default update changes (merged into the create's).

        {} keeps the create's parameters: an update of the template or the
        environment only (``update_template``, ``update_environment``).
        """
        return {}

    # -- the phases, in order (what the phase tests call) ---------------
    def run_pre_upgrade(self, ctx: CheckContext,
                        record: CheckRecord) -> None:
        """create, the status the check expects, then verify."""
        self.create(ctx, record)
        if ctx.save:
            ctx.save()
        self.verify_stack(ctx, record, self.expected_status)
        self.verify(ctx, record)

    def run_post_upgrade(self, ctx: CheckContext,
                         record: CheckRecord) -> None:
        """verify_upgraded, then update (unless the check says NoUpdate)."""
        self.verify_upgraded(ctx, record)
        if not isinstance(self.update, NoUpdate):
            self.update(ctx, record)

    # -- mixed (rolling plans: old and new engines both serve) ------------
    def run_mixed(self, ctx: CheckContext, record: CheckRecord,
                  fresh_ctx: CheckContext, fresh: CheckRecord) -> None:
        """While old and new engines share a bus (the mixed phase).

        The stack pre-upgrade made is updated (``update_while_mixed``);
        then a new stack of the check (``fresh``, named from
        ``fresh_ctx``) lives its whole life while mixed: created and
        verified as in pre-upgrade, updated with its effect observed as in
        post-upgrade, deleted with what it made gone as in destroy.
        Override it for a check whose life cannot be repeated so.
        """
        self.update_while_mixed(ctx, record)
        self.run_pre_upgrade(fresh_ctx, fresh)
        self.run_post_upgrade(fresh_ctx, fresh)
        self.destroy(fresh_ctx, fresh)

    def update_while_mixed(self, ctx: CheckContext,
                           record: CheckRecord) -> None:
        """The pre-upgrade stack updated while mixed; outputs unchanged.

        An update with the create's template, environment and parameters:
        every resource is checked again by whichever engine the traversal
        reaches, the outputs stay what pre-upgrade recorded, and the later
        phases then accept UPDATE_COMPLETE. Done for a stack of the
        default create left CREATE_COMPLETE; a check with a stack in
        another state (interrupted, failed, suspended) is left as it is.
        """
        # The class's: a stack already updated while mixed is accepted
        # UPDATE_COMPLETE (``mixed.accept_mixed_update``), and updated again.
        if tuple(type(self).expected_status) != ('CREATE_COMPLETE',) or (
                _overrides(type(self), 'create')):
            return
        self.verify_stack(ctx, record, self.expected_status)
        ctx.stacks.update(record.stack.id, self.template_path(),
                          self.environment_paths(), record.parameters)
        self._updated_while_mixed = True
        self.assert_equal(record.outputs, ctx.stacks.outputs(record.stack.id),
                          'outputs after an update while mixed')

    # -- pre-upgrade ------------------------------------------------------
    def create(self, ctx: CheckContext, record: CheckRecord) -> None:
        """Make the stack and record what later phases need.

        The default creates it from ``template``, ``environment`` and
        ``create_parameters`` and records its id, parameters and outputs
        (``create_stack``). Override to do more (a snapshot, a suspend),
        calling ``create_stack`` or ``super().create``.
        """
        self.create_stack(ctx, record)

    def verify(self, ctx: CheckContext, record: CheckRecord) -> None:
        """Read-only checks that what the stack made is sound.

        Pre-upgrade, after create (the phase has checked the status), and
        again after the upgrade, before the update (``verify_upgraded``):
        so it must change nothing. Look at ``record.outputs`` and, where
        possible, at the resources in their own service.
        """

    # -- verify (read-only, any number of times) --------------------------
    def verify_unchanged(self, ctx: CheckContext,
                         record: CheckRecord) -> None:
        """The verify phase: the stack and what it made, as left.

        As pre-upgrade left them, and read-only: ``record`` is a copy and
        ``ctx.save`` is None. Through Heat: the status and the outputs
        pre-upgrade recorded, and ``verify``; through the other services:
        what ``verify_heat_down`` finds. A check whose pre-upgrade leaves
        its stack in another state (an update still running) overrides
        this.
        """
        self.verify_stack(ctx, record, self.expected_status)
        self.assert_equal(record.outputs, ctx.stacks.outputs(record.stack.id),
                          'outputs')
        self.verify(ctx, record)
        try:
            self.verify_heat_down(ctx, record)
        except exceptions.CheckSkipped:
            pass  # it makes nothing outside Heat

    # -- during-upgrade ---------------------------------------------------
    def verify_heat_down(self, ctx: CheckContext,
                         record: CheckRecord) -> None:
        """With Heat down, find the physical resources via their service."""
        raise exceptions.CheckSkipped(
            f'{self.name} makes nothing outside Heat to look for while Heat '
            f'is down')

    def verify_no_api(self, ctx: CheckContext, record: CheckRecord) -> None:
        """With every API down, probe the data plane (optional)."""
        raise exceptions.CheckSkipped(
            f'{self.name} has no data-plane probe')

    # -- post-upgrade -----------------------------------------------------
    def verify_upgraded(self, ctx: CheckContext,
                        record: CheckRecord) -> None:
        """The new Heat shows the same stack: status, outputs, ``verify``.

        Extend it (calling ``super().verify_upgraded``) with what only
        an upgrade can change; the update comes after it, in ``update``.
        """
        self.verify_stack(ctx, record, self.expected_status)
        self.assert_equal(record.outputs, ctx.stacks.outputs(record.stack.id),
                          'outputs after the upgrade')
        self.verify(ctx, record)

    def update(self, ctx: CheckContext, record: CheckRecord) -> None:
        """Change the old stack through the new Heat; observe the effect.

        The default: a stack update with ``update_template``,
        ``update_environment`` and ``update_parameters`` (merged into the
        create's), then ``verify_updated`` with the new outputs. Override
        it for another change (a signal, resume, a restore, a rollback),
        reusing ``update_stack``; or say ``update = base.NoUpdate('why')``.
        """
        outputs = self.update_stack(
            ctx, record, self.update_parameters(ctx, record),
            template=self.update_template,
            environment=self.update_environment)
        self.verify_updated(ctx, record, outputs)

    def verify_updated(self, ctx: CheckContext, record: CheckRecord,
                       outputs: dict[str, Any]) -> None:
        """Observe the default update's effect (outside Heat if possible)."""

    # -- destroy ----------------------------------------------------------
    def destroy(self, ctx: CheckContext, record: CheckRecord) -> None:
        """Delete the stack; then its physical resources must be gone."""
        ctx.stacks.delete(record.stack.id)
        self.verify_gone(ctx, record)

    def verify_gone(self, ctx: CheckContext, record: CheckRecord) -> None:
        """After delete: what the stack made outside Heat is gone."""

    # -- helpers ----------------------------------------------------------
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
        params = self.create_parameters(ctx) if parameters is None else (
            parameters)
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
    _validate_update_declaration(cls)
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
        TEMPLATE_DIR / e for e in cls.environment + (
            cls.update_environment or ())] + (
        [TEMPLATE_DIR / cls.update_template] if cls.update_template else [])


def _overrides(cls: type[ResourceCheck], method: str) -> bool:
    return getattr(cls, method) is not getattr(ResourceCheck, method)


def _validate_update_declaration(cls: type[ResourceCheck]) -> None:
    """Refuse a check that leaves its post-upgrade update unsaid.

    Before this contract an empty ``update_parameters`` silently meant
    "no update"; now a check says which of three it does: the default
    update (``update_parameters`` or ``update_template`` or
    ``update_environment``, observed in ``verify_updated``), an update of
    its own (``update`` overridden), or ``update = base.NoUpdate('why')``.
    """
    update = getattr(cls, 'update')
    default_inputs = (_overrides(cls, 'update_parameters') or
                      cls.update_template is not None or
                      cls.update_environment is not None)
    if isinstance(update, NoUpdate):
        if not update.reason.strip():
            raise TypeError(f'check {cls.name}: NoUpdate needs a reason')
        if default_inputs or _overrides(cls, 'verify_updated'):
            raise TypeError(f'check {cls.name} says NoUpdate but declares '
                            f'parts of the default update '
                            f'(update_parameters, update_template, '
                            f'update_environment or verify_updated)')
        return
    if not callable(update):
        raise TypeError(f'check {cls.name}: update must be a method or '
                        f'base.NoUpdate(reason), not {update!r}')
    if _overrides(cls, 'update'):
        return
    if not default_inputs:
        raise TypeError(
            f'check {cls.name} says nothing about its post-upgrade update: '
            f'give the default update update_parameters (or an '
            f'update_template), override update, or say update = '
            f'base.NoUpdate("why")')
    if not _overrides(cls, 'verify_updated'):
        raise TypeError(f'check {cls.name}: the default update needs '
                        f'verify_updated, where its effect is observed')


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
