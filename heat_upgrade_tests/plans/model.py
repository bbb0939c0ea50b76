"""Upgrade plans as data: ``upgrade/plans/*.yaml``, read and checked here.

A plan is an ordered list of steps from a small vocabulary, so that a new
way of upgrading is a new file, never new runner code, and so that what a
run will do can be printed before it starts.

Every plan opens and closes the same way, in grenade's fixed moments, so
the loader adds those steps itself (``OPENING`` and ``CLOSING``) and a
plan file holds only what varies: before its steps, the old Heat's
``db_sync``, the old Heat started (moment ``old-heat-up``), the
``pre-upgrade`` and ``verify`` phases (moments ``pre-upgrade`` and
``verified``); after them, the ``post-upgrade`` phase (moment
``post-upgrade``) and the ``destroy`` phase, run even after a failure
(moment ``destroy``). A file that writes one of them itself is refused,
so that nothing runs twice. ``load(path, framed=False)`` reads a plan
that is a whole run of its own (the benchmarks', the failure drills'):
as written, nothing added.

Each step has exactly one of these keys:

``start: SERVICE@RELEASE[#N]`` / ``stop: SERVICE[@RELEASE][#N]``
    a process of a service of the ``old`` or ``new`` release. SERVICE is
    ``keystone``, ``swift`` (its four servers), ``neutron`` (its API, RPC
    and periodic workers), ``heat-api``, ``heat-engine`` or ``heat`` (both
    Heat processes); ``#N`` names a further process of the same service and
    release (``heat-engine@new#2``), so that any number run at once.
    ``stop`` without a release stops every process of the service.
``migrate: SERVICE@RELEASE``
    the service's database migrated with that release's own tool
    (``keystone-manage db_sync``, ``neutron-db-manage upgrade heads``,
    ``heat-manage db_sync``); Swift has no database.
``phase: NAME``
    one of the phase commands (``pre-upgrade``, ``verify``...).
``integrity: {only: [...]}``
    the integrity checks (``heat-upgrade-tests integrity check``) of the
    old and new release against the mini-cloud's database.
``switch: {endpoint: SERVICE-TYPE, to: heat-api@RELEASE[#N]}``
    the Keystone catalogue's endpoints of a service moved to a process.
``wait: {for: SERVICE@RELEASE[#N], timeout: S}`` or ``wait: {seconds: S}``
    until a process answers (bounded), or a fixed pause.
``group: NAME``
    with ``members`` (name -> steps) and ``order`` (names): the members'
    steps in that order, which a caller may change (the functional tests
    give the full plan grenade's order). A name of ``order`` without
    members is a service the mini-cloud does not run yet: shown, skipped.

Any step may also have ``title`` (what is printed instead of the generated
name), ``moment`` (the drills' hook run right after it), ``always`` (run
even after an earlier step failed, e.g. the destroy phase) and
``keep_going`` (its failure is recorded, and the plan goes on).
"""

import dataclasses
from pathlib import Path
import re

import yaml

from heat_upgrade_tests import datafiles
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.minicloud import services
from heat_upgrade_tests import state

PLANS_DIR = 'plans'
DEFAULT_PLAN = 'full'
# What a plan may name, from the services' registry: every process name
# (``heat-api``...); the services started with the mini-cloud, of the
# release the plan names (its keys of the same names; Keystone's release
# when not given), those of the compute part only in a run with it; the
# services with a database.
SERVICES = services.process_names()
CLOUD_SERVICES = services.with_cloud()
ALL_CLOUD_SERVICES = services.with_cloud(compute=True)
COMPUTE_SERVICES = frozenset(name for name, cls in services.REGISTRY.items()
                             if cls.compute)
RELEASES = ('old', 'new')
MIGRATABLE = services.migratable()
ACTIONS = ('start', 'stop', 'migrate', 'phase', 'integrity', 'switch',
           'wait', 'group')
OPTIONAL = ('title', 'moment', 'always', 'keep_going', 'bus')
# What a plan's ``budget`` may bound (see ``disruption``).
BUDGET_KEYS = ('unavailable_seconds', 'failed_stack_operations')
_BUS = re.compile(r'^[a-z][a-z0-9-]{0,30}$')
# The kinds of release pair a plan may run on (see ``pairs``).
N_1, SLURP = 'n-1', 'slurp'
PATH_KINDS = (N_1, SLURP)
PHASES = state.PHASES
INTEGRITY_TITLE = ('integrity: schema, rows, options, heat.conf, '
                   'heat-status, RPC')
_REF = re.compile(r'^(?P<service>[a-z-]+)(@(?P<release>[a-z]+))?'
                  r'(#(?P<instance>[1-9][0-9]*))?$')


class PlanError(exceptions.ConfigError):
    """A plan file that cannot be run as written, or an unknown plan."""


@dataclasses.dataclass(frozen=True)
class ServiceRef:
    """``heat-engine@new#2``: a process of a service of a release."""

    service: str
    release: str | None = None
    # None: not given (start: the first; stop: every one).
    instance: int | None = None

    def __str__(self) -> str:
        text = self.service
        if self.release:
            text += f'@{self.release}'
        if self.instance is not None:
            text += f'#{self.instance}'
        return text


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of a plan; ``action`` is one of ``ACTIONS``."""

    action: str
    ref: ServiceRef | None = None
    name: str | None = None
    args: dict = dataclasses.field(default_factory=dict)
    title: str | None = None
    moment: str | None = None
    always: bool = False
    keep_going: bool = False
    group: str | None = None
    members: dict = dataclasses.field(default_factory=dict)
    order: tuple[str, ...] = ()
    # Set on a group's steps once flattened: the member they belong to.
    member: str | None = None
    # start: the message bus (a RabbitMQ virtual host of its own) the
    # process uses; None: the deployment's (heat.conf's).
    bus: str | None = None
    # group: its members' order is the seed's (``variations``).
    shuffle: bool = False


@dataclasses.dataclass(frozen=True)
class Plan:
    """A named, described list of steps, as read from its file.

    ``steps`` is the whole run: the file's steps between ``OPENING`` and
    ``CLOSING``, unless the plan was read as written (``framed=False``).
    """

    name: str
    summary: str
    follows: str
    keystone: str
    default_pair: str
    paths: tuple[str, ...]
    steps: tuple[Step, ...]
    path: Path | None = None
    # The release each service started with the cloud starts as (absent:
    # Keystone's).
    starts: dict = dataclasses.field(default_factory=dict)
    # What the disruption sampler may observe before the run fails:
    # ``unavailable_seconds`` (service -> seconds) and
    # ``failed_stack_operations``; {}: reported, no budget.
    budget: dict = dataclasses.field(default_factory=dict)
    # The phases' checks may run in an order the seed draws; ``vary``
    # fixes ``check_order_seed`` ([phases] check_order_seed) from it.
    shuffle_checks: bool = False
    check_order_seed: int | None = None
    # Read for a run with the compute part (``[minicloud] compute``):
    # without it, the steps of compute services are left out.
    compute: bool = False
    framed: bool = True

    @property
    def cloud_services(self) -> tuple[str, ...]:
        """The services the mini-cloud starts for this plan, in order."""
        return services.with_cloud(self.compute)

    def start_release(self, service: str) -> str:
        """The release ``service`` (Keystone, Swift, Neutron) starts as."""
        return self.starts.get(service) or self.keystone

    def groups(self) -> dict[str, Step]:
        return {s.group: s for s in self.steps if s.action == 'group'}

    def flat(self, orders: dict[str, tuple[str, ...]] | None = None
             ) -> list[Step]:
        """The steps in run order, groups expanded in ``orders``' order.

        ``orders`` maps a group's name to the order of its members; a
        group not named keeps the plan's order.
        """
        orders = orders or {}
        unknown = sorted(set(orders) - set(self.groups()))
        if unknown:
            raise PlanError(f'plan {self.name} has no group '
                            f'{", ".join(unknown)}')
        out = []
        for step in self.steps:
            if step.action != 'group':
                out.append(step)
                continue
            order = check_order(self, step, orders.get(step.group))
            for member in order:
                out.extend(dataclasses.replace(s, member=member)
                           for s in step.members.get(member, ()))
        return out

    def refs(self) -> set[ServiceRef]:
        """Every service process the plan names, groups included."""
        return {s.ref for s in self.flat() if s.ref is not None} | {
            ServiceRef(name, self.start_release(name))
            for name in self.cloud_services}

    def moments(self) -> list[str]:
        return [s.moment for s in self.flat() if s.moment]


# The fixed opening and closing of every upgrade plan: grenade's fixed
# moments. Grenade makes its resources on the old cloud and verifies
# them before it upgrades anything, and verifies and destroys them once
# everything is upgraded, whatever the order in between; the drills
# hook these moments. Declared once here and added by the
# loader, so that no plan file can lose one or write it differently.
OPENING = (
    Step('migrate', ref=ServiceRef('heat', 'old')),
    Step('start', ref=ServiceRef('heat', 'old'), moment='old-heat-up'),
    Step('phase', name=state.PRE_UPGRADE, moment='pre-upgrade'),
    # Repeatable and read-only: the stacks as pre-upgrade left them.
    Step('phase', name=state.VERIFY, moment='verified'),
)
CLOSING = (
    Step('phase', name=state.POST_UPGRADE, moment='post-upgrade'),
    # Even after a failure: nothing is left behind.
    Step('phase', name=state.DESTROY, always=True, moment='destroy'),
)
FIXED_MOMENTS = tuple(s.moment for s in OPENING + CLOSING if s.moment)
# What of the opening and closing runs once in a run, so that a plan file
# may not write it anywhere. The verify phase is read-only and may run
# again (a plan verifies after each service it upgrades), and the old
# Heat may be started again once stopped; neither at a fixed moment.
RUN_ONCE = (('migrate', 'heat@old'), ('phase', state.PRE_UPGRADE),
            ('phase', state.POST_UPGRADE), ('phase', state.DESTROY))


def check_order(plan: Plan, group: Step,
                order: tuple[str, ...] | None) -> tuple[str, ...]:
    """The order to run ``group`` in; a caller's must name each member once.

    A caller's order may leave out the names that have no members (the
    services the mini-cloud does not run).
    """
    if order is None:
        return group.order
    order = tuple(order)
    defined = [m for m in group.order if m in group.members]
    if sorted(set(order) - set(group.order)) or len(set(order)) != len(
            order) or not set(defined) <= set(order):
        raise PlanError(
            f'cannot run group {group.group} of plan {plan.name} in the '
            f'order {" ".join(order)}: it runs each of '
            f'{", ".join(defined)} once')
    return order


def plans_dir() -> Path:
    return datafiles.upgrade_dir() / PLANS_DIR


def load_all(directory: Path | None = None,
             compute: bool = False) -> dict[str, Plan]:
    """Every plan of ``directory`` (default ``upgrade/plans``), by name.

    ``compute``: as ``load``.
    """
    directory = Path(directory) if directory is not None else plans_dir()
    found = {}
    for path in sorted(directory.glob('*.yaml')):
        plan = load(path, compute=compute)
        if plan.name in found:
            raise PlanError(f'{path}: plan {plan.name} is also defined in '
                            f'{found[plan.name].path}')
        found[plan.name] = plan
    if not found:
        raise PlanError(f'no plan in {directory}')
    return found


def get(name: str, directory: Path | None = None,
        compute: bool = False) -> Plan:
    """The plan called ``name``; a one-line error names the known ones."""
    known = load_all(directory, compute)
    try:
        return known[name]
    except KeyError:
        raise PlanError(f"unknown plan '{name}'; plans: "
                        + ', '.join(known))


def load(path: Path, framed: bool = True, compute: bool = False) -> Plan:
    """Read and check one plan file; errors name the file and the step.

    ``framed``: the plan is its file's steps between ``OPENING`` and
    ``CLOSING``, and a file that writes one of those is refused. False
    reads a plan that is a whole run of its own (not an upgrade in
    grenade's moments: the benchmarks' plan, the failure drills' short
    upgrades), as written. ``compute``: for a run with the compute part;
    without it, every step naming a compute service (``stop: nova``) and
    the steps of a group's compute members are left out (the group still
    names the member: nothing to do on this mini-cloud).
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f'cannot read plan {path}: {exc}')
    if not isinstance(doc, dict):
        raise PlanError(f'{path}: a plan is a mapping')
    where = f'plan {path.name}'
    for key in ('name', 'summary', 'steps'):
        if not doc.get(key):
            raise PlanError(f'{where}: missing {key!r}')
    extra = sorted(set(doc) - {'name', 'summary', 'follows',
                               *ALL_CLOUD_SERVICES,
                               'default_pair', 'paths', 'steps', 'budget',
                               'shuffle_checks'})
    if extra:
        raise PlanError(f'{where}: unknown key(s) {", ".join(extra)}')
    keystone = doc.get('keystone', 'new')
    for service in ALL_CLOUD_SERVICES:
        value = doc.get(service, keystone)
        if value not in RELEASES:
            raise PlanError(f'{where}: {service} is old or new, not '
                            f'{value!r}')
    paths = tuple(doc.get('paths') or (N_1,))
    default_pair = doc.get('default_pair', paths[0])
    for kind in paths + (default_pair,):
        if kind not in PATH_KINDS:
            raise PlanError(f'{where}: unknown pair kind {kind!r}; kinds: '
                            f'{", ".join(PATH_KINDS)}')
    if default_pair not in paths:
        raise PlanError(f'{where}: default_pair {default_pair} is not one '
                        f'of its paths')
    steps = tuple(_steps(where, doc['steps'], nested=False))
    if not compute:
        steps = _without_compute(steps)
    if framed:
        _refuse_fixed_steps(where, steps)
        steps = OPENING + steps + CLOSING
    budget = _budget(where, doc.get('budget'))
    shuffle_checks = doc.get('shuffle_checks', False)
    if not isinstance(shuffle_checks, bool):
        raise PlanError(f'{where}: shuffle_checks is true or false')
    plan = Plan(budget=budget, name=str(doc['name']),
                summary=str(doc['summary']).strip(),
                follows=str(doc.get('follows', '')).strip(),
                keystone=keystone, default_pair=default_pair, paths=paths,
                steps=steps, path=path,
                starts={name: doc[name] for name in ALL_CLOUD_SERVICES
                        if name != 'keystone' and doc.get(name)},
                shuffle_checks=shuffle_checks, compute=compute,
                framed=framed)
    moments = plan.moments()
    twice = sorted({m for m in moments if moments.count(m) > 1})
    if twice:
        raise PlanError(f'{where}: moment(s) {", ".join(twice)} used twice')
    return plan


def _is_compute(step: Step) -> bool:
    return (step.ref is not None and
            services.of_process(step.ref.service).name in COMPUTE_SERVICES)


def _without_compute(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """The steps of a run without the compute part (see ``load``)."""
    kept = []
    for step in steps:
        if _is_compute(step):
            continue
        if step.members:
            step = dataclasses.replace(step, members={
                member: inner for member, inner in step.members.items()
                if member not in COMPUTE_SERVICES})
        kept.append(step)
    return tuple(kept)


def _refuse_fixed_steps(where: str, steps: tuple[Step, ...]) -> None:
    """A one-line error for a step the loader adds itself (or its moment).

    A file written before the loader added them would otherwise run the
    old Heat's db_sync, pre-upgrade or destroy twice.
    """
    for number, step in enumerate(steps, 1):
        written = [(f'{where} step {number}', step)] + [
            (f'{where} step {number} ({step.group}: {member})', inner)
            for member, inner_steps in step.members.items()
            for inner in inner_steps]
        for at, inner in written:
            what = (inner.action, str(inner.ref or inner.name))
            if what in RUN_ONCE:
                found = f'{what[0]}: {what[1]}'
            elif inner.moment in FIXED_MOMENTS:
                found = f'moment {inner.moment}'
            else:
                continue
            raise PlanError(
                f'{at}: {found} belongs to the opening and closing the '
                f'loader adds to every plan (grenade\'s fixed moments); a '
                f'plan file holds only what varies')


def _budget(where: str, value) -> dict:
    """A plan's disruption budget, checked; {} for none."""
    if value is None:
        return {}
    bad = f'{where}: budget is a mapping of {", ".join(BUDGET_KEYS)}'
    if not isinstance(value, dict) or set(value) - set(BUDGET_KEYS):
        raise PlanError(bad)
    out = {}
    seconds = value.get('unavailable_seconds')
    if seconds is not None:
        if not isinstance(seconds, dict) or not all(
                isinstance(v, (int, float)) and v >= 0
                for v in seconds.values()):
            raise PlanError(f'{where}: budget unavailable_seconds maps a '
                            f'service (heat, keystone) to seconds')
        out['unavailable_seconds'] = {str(k): float(v)
                                      for k, v in seconds.items()}
    failed = value.get('failed_stack_operations')
    if failed is not None:
        if not isinstance(failed, int) or failed < 0:
            raise PlanError(f'{where}: budget failed_stack_operations is '
                            f'a count')
        out['failed_stack_operations'] = failed
    return out


def _steps(where: str, entries, nested: bool) -> list[Step]:
    if not isinstance(entries, list):
        raise PlanError(f'{where}: steps are a list')
    return [_step(f'{where} step {i}', entry, nested)
            for i, entry in enumerate(entries, 1)]


def parse_ref(where: str, text: object, release_needed: bool = True
              ) -> ServiceRef:
    """``heat-api@new#2`` -> ServiceRef; a bad one is a one-line error."""
    match = _REF.match(str(text))
    if not match or match['service'] not in SERVICES:
        raise PlanError(f'{where}: {text!r} is not SERVICE@RELEASE[#N] '
                        f'with SERVICE one of {", ".join(SERVICES)}')
    release = match['release']
    if release is None and release_needed:
        raise PlanError(f'{where}: {text!r} names no release (@old, @new)')
    if release is not None and release not in RELEASES:
        raise PlanError(f'{where}: release {release!r} is old or new')
    instance = match['instance']
    return ServiceRef(match['service'], release,
                      int(instance) if instance else None)


def _step(where: str, entry, nested: bool) -> Step:
    if not isinstance(entry, dict):
        raise PlanError(f'{where}: a step is a mapping')
    actions = [k for k in entry if k in ACTIONS]
    extra = sorted(set(entry) - set(ACTIONS) - set(OPTIONAL) - (
        {'members', 'order', 'shuffle'} if 'group' in entry else set()))
    if len(actions) != 1 or extra:
        raise PlanError(f'{where}: a step has one of {", ".join(ACTIONS)} '
                        f'and may have {", ".join(OPTIONAL)}; got '
                        f'{", ".join(sorted(entry))}')
    action = actions[0]
    value = entry[action]
    common = dict(title=entry.get('title'), moment=entry.get('moment'),
                  always=bool(entry.get('always', False)),
                  keep_going=bool(entry.get('keep_going', False)))
    bus = entry.get('bus')
    if bus is not None and (action != 'start' or not _BUS.match(str(bus))):
        raise PlanError(f'{where}: bus names a virtual host of a start '
                        f'step (lower-case letters, digits, dashes)')
    if action in ('start', 'stop'):
        ref = parse_ref(where, value, release_needed=action == 'start')
        if bus is not None and ref.service == 'keystone':
            raise PlanError(f'{where}: Keystone uses no bus')
        return Step(action, ref=ref, bus=bus, **common)
    if action == 'migrate':
        ref = parse_ref(where, value)
        if ref.service not in MIGRATABLE or ref.instance is not None:
            raise PlanError(f'{where}: migrate names one of '
                            f'{", ".join(MIGRATABLE)} with a release')
        return Step(action, ref=ref, **common)
    if action == 'phase':
        if value not in PHASES:
            raise PlanError(f'{where}: unknown phase {value!r}; phases: '
                            f'{", ".join(PHASES)}')
        return Step(action, name=value, **common)
    if action == 'integrity':
        args = value if isinstance(value, dict) else {}
        only = args.get('only') or []
        if not isinstance(only, list):
            raise PlanError(f'{where}: integrity only is a list of checks')
        return Step(action, args={'only': [str(c) for c in only]},
                    **common)
    if action == 'switch':
        if not isinstance(value, dict) or not value.get('endpoint') or (
                not value.get('to')):
            raise PlanError(f'{where}: switch needs endpoint and to')
        ref = parse_ref(where, value['to'])
        if ref.service != 'heat-api':
            raise PlanError(f'{where}: an endpoint switches to a heat-api')
        return Step(action, ref=ref, args={'endpoint': value['endpoint']},
                    **common)
    if action == 'wait':
        return _wait(where, value, common)
    if nested:
        raise PlanError(f'{where}: a group cannot hold a group')
    return _group(where, entry, value, common)


def _wait(where: str, value, common: dict) -> Step:
    if not isinstance(value, dict):
        raise PlanError(f'{where}: wait is {{for: REF, timeout: S}} or '
                        f'{{seconds: S}}')
    try:
        if 'for' in value:
            timeout = float(value.get('timeout', 60))
            if timeout <= 0:
                raise ValueError
            return Step('wait', ref=parse_ref(where, value['for']),
                        args={'timeout': timeout}, **common)
        seconds = value['seconds']
        # [LOW, HIGH]: the seed picks the pause (``variations``).
        span = [float(s) for s in seconds] if isinstance(
            seconds, list) else [float(seconds)]
        if len(span) not in (1, 2) or not all(
                0 <= s <= 600 for s in span) or span != sorted(span):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise PlanError(f'{where}: wait needs for (with a positive '
                        f'timeout) or seconds between 0 and 600 (or '
                        f'[LOW, HIGH] for the seed to pick from)')
    if len(span) == 2:
        return Step('wait', args={'seconds': span[0], 'span': tuple(span)},
                    **common)
    return Step('wait', args={'seconds': span[0]}, **common)


def _group(where: str, entry: dict, name, common: dict) -> Step:
    members = entry.get('members')
    order = entry.get('order')
    if not isinstance(members, dict) or not isinstance(order, list):
        raise PlanError(f'{where}: group {name} needs members (a mapping) '
                        f'and order (a list)')
    order = tuple(str(m) for m in order)
    missing = sorted(set(members) - set(order))
    if missing or len(set(order)) != len(order):
        raise PlanError(f'{where}: group {name}: order names each member '
                        f'once (missing {", ".join(missing) or "none"})')
    if common['moment'] or common['always'] or common['keep_going']:
        raise PlanError(f'{where}: a group has only members, order, title')
    shuffle = entry.get('shuffle', False)
    if not isinstance(shuffle, bool):
        raise PlanError(f'{where}: group {name}: shuffle is true or false')
    return Step('group', group=str(name), order=order, title=common['title'],
                shuffle=shuffle,
                members={str(k): tuple(_steps(f'{where} ({name}: {k})', v,
                                              nested=True))
                         for k, v in members.items()})


@dataclasses.dataclass(frozen=True)
class Labels:
    """How the old and new release are named in a plan's printed steps."""

    # Service -> 'old' | 'new' -> its label (``2026.2 (30.0.0)``).
    names: dict[str, dict[str, str]]

    @property
    def heat(self) -> dict[str, str]:
        return self.names['heat']

    def of(self, process: str) -> dict[str, str]:
        """The labels of the service running ``process``."""
        return self.names[services.of_process(process).name]


def describe(step: Step, labels: Labels) -> str:
    """The name a step is printed and timed under (``title`` if given)."""
    if step.title:
        return step.title.replace('{old}', labels.heat['old']).replace(
            '{new}', labels.heat['new'])
    ref = step.ref
    if step.action in ('start', 'stop', 'migrate', 'wait') and ref:
        text = _describe_ref(step.action, ref, labels, step.args)
        return text + (f' on bus {step.bus}' if step.bus else '')
    if step.action == 'phase':
        return f'{step.name} phase'
    if step.action == 'integrity':
        only = step.args.get('only')
        return INTEGRITY_TITLE if not only else (
            f'integrity: {", ".join(only)}')
    if step.action == 'switch':
        return (f'switch the {step.args["endpoint"]} endpoint to '
                f'{_process(ref, labels)}')
    if step.action == 'wait':
        return f'wait {step.args["seconds"]:g}s'
    return step.action


def _process(ref: ServiceRef, labels: Labels) -> str:
    names = labels.of(ref.service)
    owner = services.of_process(ref.service)
    # A service by its title; one of its processes by its own name.
    service = owner.title if ref.service == owner.name else ref.service
    if ref.instance is not None:
        service += f'#{ref.instance}'
    if ref.release is None:
        return f'every {service}'
    return f'{service} {names[ref.release]}'


def _describe_ref(action: str, ref: ServiceRef, labels: Labels,
                  args: dict) -> str:
    if action == 'migrate':
        tool = services.of_process(ref.service).migrate_tool
        return f'{tool} with {_process(ref, labels)}'
    if action == 'wait':
        return (f'wait for {_process(ref, labels)} to answer (at most '
                f'{args["timeout"]:g}s)')
    return f'{action} {_process(ref, labels)}'


def render(plan: Plan, labels: Labels,
           orders: dict[str, tuple[str, ...]] | None = None) -> str:
    """The plan as the numbered list printed before a run."""
    lines = [f'==> plan {plan.name}: {plan.summary}']
    if plan.follows:
        lines.append(f'    follows: {plan.follows}')
    # Keystone first, then the others by name.
    for service in sorted(plan.cloud_services,
                          key=lambda name: (name != 'keystone', name)):
        start = labels.names[service][plan.start_release(service)]
        lines.append(f'    {services.REGISTRY[service].title} at the '
                     f'start: {start}')
    number = 0
    for step in plan.steps:
        if step.action != 'group':
            number += 1
            lines.append(_line(number, step, labels))
            continue
        order = check_order(plan, step, (orders or {}).get(step.group))
        seeded = ' (the seed\'s)' if step.shuffle else ''
        lines.append(f'    {step.title or step.group}, in the order '
                     f'{" ".join(order)}{seeded}:')
        for member in order:
            if member in COMPUTE_SERVICES and not plan.compute:
                lines.append(f'         ({member}: not run without '
                             f'[minicloud] compute; nothing to do)')
            elif member not in step.members:
                lines.append(f'         ({member}: not on the mini-cloud; '
                             f'nothing to do)')
            for inner in step.members.get(member, ()):
                number += 1
                lines.append(_line(number, inner, labels, member))
    return '\n'.join(lines)


def _line(number: int, step: Step, labels: Labels,
          member: str | None = None) -> str:
    text = describe(step, labels)
    if member:
        text = f'[{member}] {text}'
    notes = []
    if step.moment:
        notes.append(f'moment {step.moment}')
    if step.always:
        notes.append('always')
    if step.keep_going:
        notes.append('goes on if it fails')
    suffix = f'  ({"; ".join(notes)})' if notes else ''
    return f'{number:5d}. {text}{suffix}'


def listing(plans: dict[str, Plan]) -> str:
    """``--list-plans``: one line per plan."""
    width = max(len(n) for n in plans)
    return '\n'.join(f'{name:<{width}}  {plan.summary}'
                     for name, plan in plans.items())


def draw_seed() -> int:
    """A seed for a run that was given none (printed, to replay it)."""
    import secrets
    return secrets.randbelow(10 ** 6)


def vary(plan: Plan, seed: int,
         orders: dict[str, tuple[str, ...]] | None = None
         ) -> tuple[Plan, dict[str, tuple[str, ...]], list[str]]:
    """What ``seed`` makes of what a plan lets vary; the same seed, the same.

    A group with ``shuffle: true`` runs its members in an order the seed
    draws (which engine stops first), unless the caller gives its order;
    a ``wait: {seconds: [LOW, HIGH]}`` becomes a pause the seed draws;
    a plan with ``shuffle_checks`` gets the seed of its phases' order of
    checks (``check_order_seed``). Returns the plan with those fixed, the
    groups' orders, and one line per variation drawn (for the printed
    plan).
    """
    import random
    rng = random.Random(seed)
    orders = dict(orders or {})
    notes = []

    def fixed(step: Step) -> Step:
        span = step.args.get('span')
        if step.action != 'wait' or not span:
            return step
        seconds = round(rng.uniform(*span), 1)
        notes.append(f'pause {seconds:g}s (of {span[0]:g}-{span[1]:g}s)')
        return dataclasses.replace(step, args={'seconds': seconds})

    steps = []
    for step in plan.steps:
        if step.action != 'group':
            steps.append(fixed(step))
            continue
        if step.shuffle and step.group not in orders:
            order = list(step.order)
            rng.shuffle(order)
            orders[step.group] = tuple(order)
            notes.append(f'{step.group}: {" ".join(order)}')
        steps.append(dataclasses.replace(step, members={
            k: tuple(fixed(s) for s in v) for k, v in step.members.items()}))
    check_seed = None
    if plan.shuffle_checks:
        check_seed = rng.randrange(10 ** 6)
        notes.append(f'checks in the order of check_order_seed {check_seed}')
    return (dataclasses.replace(plan, steps=tuple(steps),
                                check_order_seed=check_seed),
            orders, notes)
