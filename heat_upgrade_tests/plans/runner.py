"""The one runner of every plan: steps timed, hooks at moments, cleanup.

``PlanRunner`` walks a plan's steps (``model.Plan.flat``), prints and times
each one, runs the drills' hook of a step's ``moment`` right after it,
records every outcome, and stops what it started whatever happened. What a
step does is left to the subclass's ``do_*`` methods: the real mini-cloud
(``upgrade.UpgradeRun``) or a fake in the unit tests, so the rules of the
walk are tested without starting a service.

The rules: the first failed step ends the walk (a ``keep_going`` step's
failure is recorded and the walk goes on); the ``always`` steps after it
still run (the destroy phase, so that nothing is left behind), unless the
run was interrupted; then the first failure is raised again.
"""

from collections.abc import Callable, Mapping
import dataclasses
import time
from typing import Any

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import progress

Hook = Callable[[Any], None]


@dataclasses.dataclass
class StepResult:
    name: str
    seconds: float
    ok: bool
    detail: str = ''


class PlanRunner:
    """Runs ``plan`` with ``labels`` naming its releases."""

    def __init__(self, plan: model.Plan, echo: bool = True,
                 orders: Mapping[str, tuple[str, ...]] | None = None,
                 seed: int | None = None):
        # What the plan lets vary, drawn from the seed (printed with the
        # plan, so that a run can be replayed with --seed).
        self.seed = model.draw_seed() if seed is None else int(seed)
        plan, orders, self.variations = model.vary(plan, self.seed, orders)
        self.plan = plan
        self.name = plan.name
        self.echo = echo
        self.orders = dict(orders or {})
        # Refuses a bad order before anything starts.
        plan.flat(self.orders)
        self.steps: list[StepResult] = []
        # The step running now (the disruption sampler's timeline).
        self.current = ''

    # -- what the subclass provides ----------------------------------------
    @property
    def labels(self) -> model.Labels:
        raise NotImplementedError

    def do_start(self, ref: model.ServiceRef,
                 bus: str | None = None) -> str | None:
        raise NotImplementedError

    def do_stop(self, ref: model.ServiceRef) -> str | None:
        raise NotImplementedError

    def do_migrate(self, ref: model.ServiceRef) -> str | None:
        raise NotImplementedError

    def do_phase(self, phase: str) -> str | None:
        raise NotImplementedError

    def do_integrity(self, only: list[str]) -> str | None:
        raise NotImplementedError

    def do_switch(self, endpoint: str, ref: model.ServiceRef) -> str | None:
        raise NotImplementedError

    def do_wait_for(self, ref: model.ServiceRef,
                    timeout: float) -> str | None:
        raise NotImplementedError

    def do_sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    # -- printing and timing -----------------------------------------------
    def say(self, text: str) -> None:
        if self.echo:
            progress.echo(text + '\n')

    def step(self, name: str, func: Callable[[], str | None]) -> None:
        """Run and time one step; a failure is recorded, then raised."""
        self.say(f'--> {name}')
        self.current = name
        start = time.monotonic()
        try:
            with progress.showing(name, enabled=self.echo):
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

    @property
    def upgrade_order(self) -> tuple[str, ...]:
        """The order of the plan's first group (the full plan's upgrade)."""
        for name, group in self.plan.groups().items():
            return model.check_order(self.plan, group,
                                     self.orders.get(name))
        return ()

    def render(self) -> str:
        text = model.render(self.plan, self.labels, self.orders)
        text += f'\n    seed {self.seed} (replay with --seed {self.seed})'
        if self.variations:
            text += '; drawn: ' + '; '.join(self.variations)
        return text

    # -- the walk ----------------------------------------------------------
    def _action(self, step: model.Step) -> Callable[[], str | None]:
        ref, args = step.ref, step.args
        if step.action == 'start' and step.bus:
            return lambda: self.do_start(ref, bus=step.bus)
        if step.action == 'start':
            return lambda: self.do_start(ref)
        if step.action == 'stop':
            return lambda: self.do_stop(ref)
        if step.action == 'migrate':
            return lambda: self.do_migrate(ref)
        if step.action == 'phase':
            return lambda: self.do_phase(step.name)
        if step.action == 'integrity':
            return lambda: self.do_integrity(list(args.get('only', [])))
        if step.action == 'switch':
            return lambda: self.do_switch(args['endpoint'], ref)
        if step.action == 'wait' and ref is not None:
            return lambda: self.do_wait_for(ref, args['timeout'])
        if step.action == 'wait':
            return lambda: self.do_sleep(args['seconds'])
        raise model.PlanError(f'no runner for step {step.action}')

    def walk(self, hooks: Mapping[str, Hook] | None = None,
             context: Any = None) -> None:
        """Run the plan's steps; ``hooks[moment](context)`` after each.

        Raises the first failure once the ``always`` steps have run.
        """
        hooks = hooks or {}
        context = self if context is None else context
        first: BaseException | None = None
        current_group = None
        for step in self.plan.flat(self.orders):
            if first is not None and not step.always:
                continue
            if step.member and step.member != current_group:
                current_group = step.member
                self.say(f'==> {step.member}')
            try:
                try:
                    self.step(model.describe(step, self.labels),
                              self._action(step))
                except Exception:
                    if not step.keep_going:
                        raise
                # A keep_going step's moment comes even after its failure.
                if step.moment in hooks:
                    self.step(f'hook after {step.moment}',
                              lambda: hooks[step.moment](context))
            except Exception as exc:
                if first is None:
                    first = exc
        if first is not None:
            raise first

    def check_moments(self, hooks: Mapping[str, Hook]) -> None:
        """Refuse hooks at moments this plan does not have."""
        unknown = sorted(set(hooks) - set(self.plan.moments()))
        if unknown:
            raise exceptions.ConfigError(
                f'plan {self.plan.name} has no moment '
                f'{", ".join(unknown)}; its moments: '
                f'{", ".join(self.plan.moments())}')
