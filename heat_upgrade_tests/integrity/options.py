"""Heat's configuration options across an upgrade.

Each release's options come from ``oslo-config-generator --format json``
run in that release's own environment: some groups list keystoneauth's
options, so what a release offers depends on its own pins. Heat's options
are those of its ``heat.*`` namespaces; library namespaces are generated
too, only so that a deployed heat.conf can be validated as a whole.

The rules, from the deployer's side: an option may disappear only after a
release said so. A removal is accepted when the option was deprecated for
removal in the old release or a release between, or when the new release
(or one between) keeps its name as a deprecated alias of a renamed option,
or when a reviewed entry of the accepted removals file says why; anything
else fails, naming the group, the option and the releases.
"""

import collections
from collections.abc import Callable
import dataclasses
import json
from pathlib import Path
import re
import tempfile

from heat_upgrade_tests.integrity import accepted
from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import report

HEAT_PREFIX = 'heat.'
# Library namespaces a deployed heat.conf uses beside Heat's own: those of
# Heat's etc/heat/heat-config-generator.conf, plus oslo.db ([database]),
# oslo.concurrency ([oslo_concurrency]) and oslo.service ([DEFAULT]).
LIBRARY_NAMESPACES = (
    'cotyledon', 'keystonemiddleware.auth_token', 'oslo.cache',
    'oslo.concurrency', 'oslo.db', 'oslo.log', 'oslo.messaging',
    'oslo.middleware', 'oslo.policy', 'oslo.reports',
    'oslo.service.service', 'oslo.versionedobjects', 'osprofiler')

DEPRECATED, RENAMED, EXCEPTION, UNEXPLAINED = (
    'deprecated', 'renamed', 'exception', 'unexplained')


@dataclasses.dataclass(frozen=True)
class Option:
    group: str
    name: str
    type: str
    default: str | None
    namespace: str
    deprecated_for_removal: bool = False
    deprecated_since: str | None = None
    deprecated_reason: str | None = None
    aliases: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, accepted.normalize(self.name))

    def __str__(self) -> str:
        return f'[{self.group}] {self.name}'


def _default(opt: dict) -> str | None:
    """The default as the sample file shows it.

    ``sample_default`` replaces values that depend on the machine (a host
    name), which would otherwise differ between any two runs.
    """
    value = opt.get('sample_default')
    if value is None:
        value = opt.get('default')
    return None if value is None else str(value)


class OptionSet:
    """The options one release offers, from its generator JSON."""

    def __init__(self, label: str, options: list[Option]):
        self.label = label
        self.options: dict[tuple[str, str], Option] = {}
        self._aliases: dict[tuple[str, str], Option] = {}
        for opt in options:
            # The same option may come from two namespaces; Heat's wins.
            if opt.key not in self.options or \
                    opt.namespace.startswith(HEAT_PREFIX):
                self.options[opt.key] = opt
            for alias in opt.aliases:
                self._aliases[(alias[0], accepted.normalize(alias[1]))] = opt

    @classmethod
    def from_generator(cls, doc: dict, label: str) -> 'OptionSet':
        options = []
        for group, group_doc in sorted(doc.get('options', {}).items()):
            for opt in group_doc.get('opts', []):
                aliases = tuple(
                    (d.get('group') or group, d['name'])
                    for d in opt.get('deprecated_opts') or [] if d.get('name'))
                options.append(Option(
                    group=group, name=opt['name'], type=opt.get('type', ''),
                    default=_default(opt),
                    namespace=opt.get('namespace') or '',
                    deprecated_for_removal=bool(
                        opt.get('deprecated_for_removal')),
                    deprecated_since=opt.get('deprecated_since'),
                    deprecated_reason=opt.get('deprecated_reason'),
                    aliases=aliases))
        return cls(label, options)

    def heat_options(self) -> list[Option]:
        return [o for o in self.options.values()
                if o.namespace.startswith(HEAT_PREFIX)]

    def get(self, group: str, name: str) -> Option | None:
        return self.options.get((group, accepted.normalize(name)))

    def alias_of(self, group: str, name: str) -> Option | None:
        """The option that still accepts ``[group] name`` as an old name."""
        return self._aliases.get((group, accepted.normalize(name)))

    def knows(self, group: str, name: str) -> bool:
        return self.get(group, name) is not None or \
            self.alias_of(group, name) is not None


@dataclasses.dataclass
class Removal:
    option: Option
    verdict: str
    evidence: str


@dataclasses.dataclass
class Comparison:
    old: str
    new: str
    removals: list[Removal] = dataclasses.field(default_factory=list)
    changed_defaults: list[tuple[Option, Option]] = dataclasses.field(
        default_factory=list)
    changed_types: list[tuple[Option, Option]] = dataclasses.field(
        default_factory=list)
    dropped_aliases: list[tuple[str, str, Option]] = dataclasses.field(
        default_factory=list)
    newly_deprecated: list[Option] = dataclasses.field(default_factory=list)
    added: list[Option] = dataclasses.field(default_factory=list)
    unused_entries: list[accepted.Entry] = dataclasses.field(
        default_factory=list)

    def by_verdict(self, verdict: str) -> list[Removal]:
        return [r for r in self.removals if r.verdict == verdict]


def _why_deprecated(opt: Option, where: str) -> str:
    since = f' since {opt.deprecated_since}' if opt.deprecated_since else ''
    reason = f': {opt.deprecated_reason}' if opt.deprecated_reason else ''
    return f'deprecated for removal in {where}{since}{reason}'


def _explain(opt: Option, sets: list[OptionSet]) -> tuple[str, str] | None:
    """Deprecation evidence for a removed option in ``sets``, or None."""
    for options in sets:
        same = options.get(opt.group, opt.name)
        if same is not None and same.deprecated_for_removal:
            return DEPRECATED, _why_deprecated(same, options.label)
        renamed = options.alias_of(opt.group, opt.name)
        if renamed is not None:
            return RENAMED, (f'{options.label} keeps it as a deprecated name '
                             f'of {renamed}')
    return None


def compare(old: OptionSet, new: OptionSet,
            between: Callable[[], list[OptionSet]],
            entries: list[accepted.Entry]) -> Comparison:
    """Compare Heat's options of ``old`` and ``new``.

    ``between`` gives the option sets of the releases between, oldest
    first; it is called only when the old and new releases alone do not
    explain every removal, since it may have to build environments.
    ``entries`` are the accepted removals that apply to this pair.
    """
    result = Comparison(old.label, new.label)
    pending = []
    for opt in sorted(old.heat_options(), key=lambda o: o.key):
        if new.get(opt.group, opt.name) is None:
            evidence = _explain(opt, [old, new])
            if evidence:
                result.removals.append(Removal(opt, *evidence))
            else:
                pending.append(opt)
            continue
        kept = new.get(opt.group, opt.name)
        if kept.default != opt.default:
            result.changed_defaults.append((opt, kept))
        if kept.type != opt.type:
            result.changed_types.append((opt, kept))
        if kept.deprecated_for_removal and not opt.deprecated_for_removal:
            result.newly_deprecated.append(kept)
        for group, name in opt.aliases:
            if not new.knows(group, name):
                result.dropped_aliases.append((group, name, opt))
    middle = between() if pending else []
    used = set()
    for opt in pending:
        evidence = _explain(opt, middle)
        if evidence:
            result.removals.append(Removal(opt, *evidence))
            continue
        entry = next((e for e in entries if e.matches(opt.group, opt.name)),
                     None)
        if entry is not None:
            used.add(entry.index)
            result.removals.append(Removal(
                opt, EXCEPTION, f'accepted removal (entry {entry.index}): '
                                f'{entry.reason}'))
            continue
        where = ', '.join([old.label] + [m.label for m in middle])
        result.removals.append(Removal(
            opt, UNEXPLAINED,
            f'in {old.label}, gone in {new.label}; never deprecated for '
            f'removal nor kept as an alias in {where}'))
    result.removals.sort(key=lambda r: r.option.key)
    old_keys = {o.key for o in old.heat_options()}
    result.added = sorted((o for o in new.heat_options()
                           if o.key not in old_keys), key=lambda o: o.key)
    result.unused_entries = [e for e in entries if e.index not in used]
    return result


def _by_group(options: list[Option]) -> list[str]:
    """``[group] a, b, c`` lines, one per group."""
    groups = collections.defaultdict(list)
    for opt in options:
        groups[opt.group].append(opt.name)
    return [f'[{group}] {", ".join(names)}'
            for group, names in sorted(groups.items())]


def findings(comparison: Comparison) -> list[report.Finding]:
    """The report's findings of one comparison."""
    found = []
    bad = comparison.by_verdict(UNEXPLAINED)
    pair = f'{comparison.old} -> {comparison.new}'
    removed = len(comparison.removals)
    data = {
        'removals': [{'group': r.option.group, 'option': r.option.name,
                      'verdict': r.verdict, 'evidence': r.evidence}
                     for r in comparison.removals],
        'changed_defaults': [{'group': o.group, 'option': o.name,
                              'old': o.default, 'new': n.default}
                             for o, n in comparison.changed_defaults],
        'changed_types': [{'group': o.group, 'option': o.name,
                           'old': o.type, 'new': n.type}
                          for o, n in comparison.changed_types],
        'dropped_aliases': [{'group': g, 'option': n, 'of': str(o)}
                            for g, n, o in comparison.dropped_aliases],
        'newly_deprecated': [str(o) for o in comparison.newly_deprecated],
        'added': [str(o) for o in comparison.added],
    }
    details = []
    # One line per group and piece of evidence: a reason is said once.
    grouped = collections.defaultdict(list)
    for removal in comparison.removals:
        grouped[(removal.verdict, removal.option.group,
                 removal.evidence)].append(removal.option)
    for (verdict, group, evidence), opts in sorted(
            grouped.items(), key=lambda item: (item[0][0] != UNEXPLAINED,
                                               item[0][1])):
        mark = 'NOT ACCEPTED' if verdict == UNEXPLAINED else \
            f'accepted ({verdict})'
        details.append(f'removed [{group}] '
                       f'{", ".join(o.name for o in opts)}: {mark}: '
                       f'{evidence}')
    excepted = comparison.by_verdict(EXCEPTION)
    if bad:
        summary = (f'{len(bad)} of {removed} options removed in {pair} '
                   f'without deprecation: '
                   + '; '.join(_by_group([r.option for r in bad])))
        status = report.FAILED
    elif excepted:
        summary = (f'{removed} options removed in {pair}; '
                   f'{len(excepted)} without any deprecation, accepted by '
                   f'reviewed exception: '
                   + '; '.join(_by_group([r.option for r in excepted])))
        status = report.WARNING
    else:
        summary = (f'{removed} options removed in {pair}, each deprecated '
                   f'first' if removed else
                   f'no option of Heat removed in {pair}')
        status = report.PASSED
    found.append(report.Finding('options', status, summary, details, data))
    notes = []
    for old, new in comparison.changed_defaults:
        notes.append(f'default of {old} changed: {old.default!r} -> '
                     f'{new.default!r}')
    for old, new in comparison.changed_types:
        notes.append(f'type of {old} changed: {old.type} -> {new.type}')
    for group, name, opt in comparison.dropped_aliases:
        notes.append(f'deprecated name [{group}] {name} of {opt} is no '
                     f'longer read: a heat.conf using it loses the setting')
    for line in _by_group(comparison.newly_deprecated):
        notes.append(f'newly deprecated for removal: {line}')
    if comparison.added:
        notes.append(f'{len(comparison.added)} options added: '
                     + '; '.join(_by_group(comparison.added)))
    for entry in comparison.unused_entries:
        notes.append(f'accepted removal entry {entry.index} ({entry}) '
                     f'matched nothing in this pair: remove it if stale')
    found.append(report.Finding(
        'option-changes', report.INFO if notes else report.PASSED,
        f'{report.plural(len(comparison.changed_defaults), "changed default")}'
        f', {report.plural(len(comparison.changed_types), "changed type")}, '
        f'{report.plural(len(comparison.dropped_aliases), "deprecated name")}'
        f' dropped, '
        f'{len(comparison.newly_deprecated)} newly deprecated, '
        f'{len(comparison.added)} added', notes))
    return found


# -- generation, in the release's environment ----------------------------
def namespaces_for(env: environments.HeatEnv) -> list[str]:
    """Heat's namespaces and the library ones present in ``env``."""
    libs = [n for n in LIBRARY_NAMESPACES if n in env.namespaces]
    return env.heat_namespaces + libs


def generate(env: environments.HeatEnv, timeout: float = 300) -> dict:
    """The generator JSON of ``env``'s namespaces."""
    namespaces = namespaces_for(env)
    if not env.heat_namespaces:
        raise environments.IntegrityError(
            f'{env.label} ({env.python}) lists no heat.* namespace in its '
            f'oslo.config.opts entry points')
    with tempfile.TemporaryDirectory(prefix='hut-opts-') as tmp:
        out = Path(tmp) / 'opts.json'
        args = ['-m', 'oslo_config.generator', '--format', 'json',
                '--output-file', str(out)]
        for namespace in namespaces:
            args += ['--namespace', namespace]
        environments.run_python(env.python, args,
                                f'oslo-config-generator of {env.label}',
                                timeout=timeout)
        return json.loads(out.read_text())


def load_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise environments.IntegrityError(
            f'cannot read option data {path}: {exc}')


# -- validation of a deployed heat.conf ----------------------------------
_UNKNOWN = re.compile(r'([^\s:/]+)/(\S+) is not part of the sample config')
_DEPRECATED = re.compile(r'Deprecated opt ([^\s:/]+)/(\S+) found')


def validator_output(text: str) -> tuple[set, set]:
    """(unknown, deprecated) ``(group, option)`` pairs in its log."""
    unknown = {m.groups() for m in _UNKNOWN.finditer(text)}
    deprecated = {m.groups() for m in _DEPRECATED.finditer(text)}
    return unknown, deprecated


def validate(env: environments.HeatEnv, opt_data: dict, conf_file: Path,
             timeout: float = 120) -> tuple[set, set]:
    """oslo-config-validator of ``conf_file`` against ``opt_data``."""
    with tempfile.TemporaryDirectory(prefix='hut-validate-') as tmp:
        data_file = Path(tmp) / 'opt-data.json'
        data_file.write_text(json.dumps(opt_data))
        proc = environments.run_python(
            env.python, ['-m', 'oslo_config.validator', '--opt-data',
                         str(data_file), '--input-file', str(conf_file)],
            f'oslo-config-validator of {env.label}', timeout=timeout,
            check=False)
    if proc.returncode not in (0, 1):
        tail = proc.stderr.strip().splitlines()[-3:]
        raise environments.IntegrityError(
            f'oslo-config-validator of {env.label} failed on {conf_file} '
            f'(exit {proc.returncode}): ' + ' | '.join(tail))
    return validator_output(proc.stdout + proc.stderr)


def config_file_finding(conf_file: Path, old_label: str, new_label: str,
                        old_result: tuple[set, set] | None,
                        new_result: tuple[set, set]) -> report.Finding:
    """What the new release would make of a deployed heat.conf."""
    new_unknown, new_deprecated = new_result
    old_unknown = old_result[0] if old_result else set()
    ignored = sorted(new_unknown - old_unknown)
    neither = sorted(new_unknown & old_unknown)
    read_by = f' (read by {old_label})' if old_result else ''
    details = [f'ignored by {new_label}{read_by}: [{g}] {o}'
               for g, o in ignored]
    details += [f'deprecated in {new_label}: [{g}] {o}'
                for g, o in sorted(new_deprecated)]
    details += [f'unknown to both releases (a plugin\'s option or a typo): '
                f'[{g}] {o}' for g, o in neither]
    if ignored or new_deprecated:
        status = report.WARNING
        summary = (f'{conf_file}: {len(ignored)} options {new_label} would '
                   f'ignore, {len(new_deprecated)} deprecated')
    else:
        status = report.PASSED
        summary = (f'{conf_file}: every option is read by {new_label}'
                   + (f' ({len(neither)} unknown to both releases)'
                      if neither else ''))
    return report.Finding('config-file', status, summary, details, {
        'file': str(conf_file),
        'ignored_by_new': [list(p) for p in ignored],
        'deprecated_in_new': [list(p) for p in sorted(new_deprecated)],
        'unknown_to_both': [list(p) for p in neither]})
