"""What the upgrade costs the cloud's users: a sampler outside the phases.

For the whole run (from the end of pre-upgrade until the destroy phase) a
thread of the runner asks, every ``interval`` seconds:

* Heat: a stack list and a show of one stack pre-upgrade made, as the
  member, at the orchestration endpoint of the moment (the runner says
  where the catalogue points: after a ``switch`` step, the new API);
* Keystone: a validation of the sampler's own token (``GET
  /v3/auth/tokens?nocatalog``), never a new token (issuing one costs
  Keystone CPU at each sample; validating is what every service does for
  each call).

The token is issued once, when the sampler starts. Each probe runs in a pool of
its own, started on the tick, so a slow service delays no sample. A
request fails when it is refused, errs, has no answer within ``timeout``
or answers an error status. The report gives per service the seconds
unavailable (the time from a failed sample to the next sample), the
failed requests, the longest outage, the slowest answer, and the outages
on a timeline with the steps they fell
in. A plan's ``budget`` bounds them (``over_budget``).
"""

from concurrent import futures
import dataclasses
import threading
import time
from typing import Callable

import requests

SERVICES = ('heat', 'keystone')
INTERVAL = 0.5
# An answer slower than this is no answer: a client would give up or
# retry. Keystone answers a validation in a few milliseconds when idle,
# and took seconds (before its cache was on) while the phases' tests and
# Heat's engines all authenticated on this 2-core machine.
TIMEOUT = 5.0
# Probes of one service waiting at once; further ticks share their outcome.
MAX_IN_FLIGHT = 2


@dataclasses.dataclass
class Sample:
    at: float
    step: str
    ok: dict[str, bool]
    failed: dict[str, int]
    error: dict[str, str]


@dataclasses.dataclass
class Outage:
    service: str
    start: float
    seconds: float
    steps: list[str]
    error: str

    def line(self) -> str:
        return (f'  {self.service:<8} at +{self.start:7.1f}s for '
                f'{self.seconds:5.1f}s during {", ".join(self.steps)}: '
                f'{self.error}')


@dataclasses.dataclass
class Report:
    samples: int
    seconds: float
    interval: float
    unavailable: dict[str, float]
    failed_requests: dict[str, int]
    longest: dict[str, float]
    outages: list[Outage]
    shown_stack: str | None
    # service -> the slowest answer's seconds (a failed probe included).
    slowest: dict[str, float] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        doc = dataclasses.asdict(self)
        return doc

    def lines(self) -> list[str]:
        out = [f'disruption ({self.samples} samples over '
               f'{self.seconds:.0f}s, one every {self.interval:g}s; '
               f'Heat: stack list and show of '
               f'{self.shown_stack or "no stack"}; Keystone: token '
               f'validation):']
        for service in SERVICES:
            out.append(f'  {service:<8} unavailable '
                       f'{self.unavailable[service]:5.1f}s, '
                       f'{self.failed_requests[service]} failed requests, '
                       f'longest outage {self.longest[service]:.1f}s'
                       + (f', slowest answer '
                          f'{self.slowest[service]:.1f}s'
                          if service in self.slowest else ''))
        if self.outages:
            out.append('  timeline:')
            out.extend(o.line() for o in self.outages)
        return out


def timeline(samples: list[Sample], started: float) -> dict:
    """The samples as the report draws them (``disruption.json``).

    One lane per service, ``[seconds since the sampler started, ok]`` per
    sample, and a mark where the plan's step changed.
    """
    marks, step = [], None
    for sample in samples:
        if sample.step != step:
            step = sample.step
            marks.append({'t': round(sample.at - started, 2),
                          'label': step or ''})
    return {'probes': [{'name': service, 'samples': [
        [round(s.at - started, 2), s.ok[service]] for s in samples]}
        for service in SERVICES], 'marks': marks}


def summarize(samples: list[Sample], started: float,
              interval: float, shown: str | None) -> Report:
    """The report of ``samples`` (times are monotonic; ``started`` is 0)."""
    unavailable = {s: 0.0 for s in SERVICES}
    failed = {s: 0 for s in SERVICES}
    longest = {s: 0.0 for s in SERVICES}
    outages: list[Outage] = []
    for service in SERVICES:
        current: Outage | None = None
        for i, sample in enumerate(samples):
            failed[service] += sample.failed.get(service, 0)
            nxt = samples[i + 1].at if i + 1 < len(samples) else (
                sample.at + interval)
            if sample.ok.get(service, True):
                if current is not None:
                    current.seconds = sample.at - (started + current.start)
                    current = None
                continue
            unavailable[service] += nxt - sample.at
            if current is None:
                current = Outage(service, sample.at - started, 0.0,
                                 [sample.step],
                                 sample.error.get(service, ''))
                outages.append(current)
            elif sample.step not in current.steps:
                current.steps.append(sample.step)
            current.seconds = nxt - (started + current.start)
        longest[service] = max(
            [o.seconds for o in outages if o.service == service],
            default=0.0)
    outages.sort(key=lambda o: o.start)
    seconds = (samples[-1].at - started) if samples else 0.0
    return Report(len(samples), seconds, interval, unavailable, failed,
                  longest, outages, shown)


def over_budget(report: Report, budget: dict,
                failed_stack_operations: int) -> list[str]:
    """What exceeds the plan's budget, one phrase each; [] within it."""
    over = []
    for service, allowed in budget.get('unavailable_seconds', {}).items():
        seen = report.unavailable.get(service, 0.0)
        if seen > allowed:
            over.append(f'{service} unavailable {seen:.1f}s (budget '
                        f'{allowed:g}s)')
    allowed_ops = budget.get('failed_stack_operations')
    if allowed_ops is not None and failed_stack_operations > allowed_ops:
        over.append(f'{failed_stack_operations} failed stack operations '
                    f'(budget {allowed_ops})')
    return over


class Sampler:
    """The sampling threads; ``start`` once the stacks exist, ``stop``.

    A ticker starts a probe of each service every ``interval`` seconds in
    a small pool, so a slow answer delays no other sample: the cadence
    holds while a service is slow or gone. A probe that has no answer
    within ``timeout`` fails.
    """

    def __init__(self, auth_url: str, heat_url: Callable[[], str],
                 user: str, password: str, project: str,
                 step: Callable[[], str], interval: float = INTERVAL,
                 timeout: float = TIMEOUT):
        self.auth_url = auth_url.rstrip('/')
        if not self.auth_url.endswith('/v3'):
            self.auth_url += '/v3'
        self.heat_url = heat_url
        self._credentials = (user, password, project)
        self.step = step
        self.interval = interval
        self.timeout = timeout
        self.started = 0.0
        self.shown: str | None = None
        self.slowest = {s: 0.0 for s in SERVICES}
        self.timeline: dict = {'probes': [], 'marks': []}
        self._token: str | None = None
        self._project_id: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: futures.ThreadPoolExecutor | None = None
        self._ticks: list[tuple[float, str, dict]] = []
        self._flying: dict[str, list] = {s: [] for s in SERVICES}
        self._holders: dict[int, dict] = {}
        self._lock = threading.Lock()

    def _authenticate(self) -> None:
        user, password, project = self._credentials
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'},
                'password': password}}},
            'scope': {'project': {'name': project,
                                  'domain': {'id': 'default'}}}}}
        resp = requests.post(f'{self.auth_url}/auth/tokens', json=body,
                             timeout=30)
        resp.raise_for_status()
        self._token = resp.headers['X-Subject-Token']
        self._project_id = resp.json()['token']['project']['id']

    def _stacks_url(self) -> str:
        return f'{self.heat_url().rstrip("/")}/v1/{self._project_id}/stacks'

    def _get(self, url: str, **headers) -> tuple[bool, str, object]:
        try:
            resp = requests.get(url, timeout=self.timeout, headers=dict(
                {'X-Auth-Token': self._token}, **headers))
        except requests.RequestException as exc:
            return False, type(exc).__name__, None
        if resp.status_code >= 400:
            return False, f'HTTP {resp.status_code}', None
        try:
            return True, '', resp.json()
        except ValueError:
            return True, '', None

    def _choose_stack(self) -> None:
        ok, _, doc = self._get(self._stacks_url())
        if ok and isinstance(doc, dict):
            for stack in doc.get('stacks', []):
                if stack.get('stack_name', '').startswith('hut-'):
                    self.shown = (f'{stack["stack_name"]}/'
                                  f'{stack["id"]}')
                    return

    def start(self) -> None:
        """Authenticate once, pick the stack to show, start sampling."""
        self._authenticate()
        self._choose_stack()
        self.started = time.monotonic()
        self._pool = futures.ThreadPoolExecutor(
            max_workers=2 * MAX_IN_FLIGHT,
            thread_name_prefix='disruption-probe')
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='disruption-sampler')
        self._thread.start()

    def heat_serves(self) -> bool:
        """Whether a stack list answers now (an engine behind the API)."""
        return self._get(self._stacks_url())[0]

    def _probe_heat(self, result: dict) -> None:
        begun = time.monotonic()
        stacks = self._stacks_url()
        urls = [stacks] + ([f'{stacks}/{self.shown}'] if self.shown else [])
        bad = [e for good, e, _ in (self._get(u) for u in urls) if not good]
        self._done(result, 'heat', bad, begun)

    def _probe_keystone(self, result: dict) -> None:
        begun = time.monotonic()
        good, err, _ = self._get(f'{self.auth_url}/auth/tokens?nocatalog',
                                 **{'X-Subject-Token': self._token})
        self._done(result, 'keystone', [] if good else [err], begun)

    def _done(self, result: dict, service: str, bad: list[str],
              begun: float) -> None:
        with self._lock:
            result[service] = bad
            self.slowest[service] = max(self.slowest[service],
                                        time.monotonic() - begun)

    def _submit(self, service: str, result: dict) -> None:
        """Probe ``service`` for this tick, or share a probe in flight.

        With ``MAX_IN_FLIGHT`` probes of a slow service still waiting, the
        tick takes the outcome of the newest one instead of sending more:
        the sampler must not add load to a service already struggling.
        """
        probe = {'heat': self._probe_heat,
                 'keystone': self._probe_keystone}[service]
        flying = [f for f in self._flying[service] if not f.done()]
        self._flying[service] = flying
        if len(flying) >= MAX_IN_FLIGHT:
            newest, holder = flying[-1], self._holders[id(flying[-1])]

            def share(_future, holder=holder) -> None:
                with self._lock:
                    result[service] = holder.get(service, ['no answer'])
            newest.add_done_callback(share)
            return
        future = self._pool.submit(probe, result)
        self._holders[id(future)] = result
        flying.append(future)

    def _run(self) -> None:
        tick = time.monotonic()
        while not self._stop.is_set():
            result: dict = {}
            self._ticks.append((tick, self.step(), result))
            for service in SERVICES:
                self._submit(service, result)
            tick += self.interval
            self._stop.wait(max(0.0, tick - time.monotonic()))

    def samples(self) -> list[Sample]:
        out = []
        with self._lock:
            for at, step, result in self._ticks:
                if set(result) != set(SERVICES):
                    continue  # still in flight when sampling stopped
                out.append(Sample(
                    at, step, {s: not result[s] for s in SERVICES},
                    {s: len(result[s]) for s in SERVICES},
                    {s: result[s][0] if result[s] else '' for s in SERVICES}))
        return out

    def stop(self) -> Report | None:
        """Stop sampling (bounded); the report, or None if never started."""
        if self._thread is None:
            return None
        self._stop.set()
        self._thread.join(timeout=self.interval * 4)
        self._thread = None
        # Each probe ends within its requests' timeouts.
        self._pool.shutdown(wait=True, cancel_futures=True)
        samples = self.samples()
        self.timeline = timeline(samples, self.started)
        report = summarize(samples, self.started, self.interval,
                           self.shown)
        report.slowest = dict(self.slowest)
        return report
