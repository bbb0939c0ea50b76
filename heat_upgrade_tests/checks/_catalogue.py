"""What each check creates, needs and proves, for people to read.

Not a check (its name starts with ``_``). The docs' check table (a Sphinx
extension, ``doc/source/_exts/check_table.py``) is built from this at docs
build time, so the table cannot drift from the registry.
"""

from typing import Any

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import state

# Every phase a check takes part in (the mixed phase is the framework's).
PHASES = tuple(p for p in state.PHASES if p != state.MIXED)


def _overrides(check: type[base.ResourceCheck], method: str) -> bool:
    return getattr(check, method) is not getattr(base.ResourceCheck, method)


def proves(check: type[base.ResourceCheck]) -> dict[str, str]:
    """One sentence per phase the check does something in."""
    found = {}
    for phase in PHASES:
        if phase in check.proves:
            found[phase] = check.proves[phase]
        elif phase == 'pre-upgrade':
            status = ' or '.join(check.expected_status)
            found[phase] = f'the stack is {status}; its outputs are recorded'
        elif phase == 'verify':
            found[phase] = ('read-only, between upgrade steps: the '
                            'status and outputs pre-upgrade recorded, '
                            'and what the other services show')
        elif phase == 'during-upgrade' and not _overrides(
                check, 'verify_outside_heat'):
            found[phase] = 'nothing: the stack makes nothing outside Heat'
        elif phase == 'post-upgrade':
            if isinstance(check.update, base.NoUpdate):
                found[phase] = (f'the new Heat shows the same outputs; no '
                                f'update: {check.update.reason}')
            else:
                found[phase] = 'the new Heat shows the same outputs, then ' \
                               'updates the stack'
        elif phase == 'destroy':
            found[phase] = 'the stack is deleted'
    return found


def needs(check: type[base.ResourceCheck]) -> list[str]:
    """What the cloud must offer, in words; [] for a plain member."""
    found = []
    if check.needs_admin:
        found.append('admin credentials')
    elif check.reads_as_admin:
        found.append(f'admin credentials ({check.reads_as_admin})')
    found += [f'the {s} service' for s in check.required_services]
    found += list(check.required_resource_types)
    if check.min_series:
        found.append(f'Heat {check.min_series} or newer before the upgrade')
    return found


def describe(check: type[base.ResourceCheck]) -> dict[str, Any]:
    """Everything the check table shows about one check."""
    return {
        'name': check.name,
        'id': check.idempotent_id,
        'creates': check.description,
        'needs': needs(check),
        'minicloud': check.runs_on_minicloud(),
        'proves': proves(check),
        'known_failures': [
            {'phase': k.phase, 'from': k.from_series, 'to': k.to_series,
             'reason': k.reason} for k in check.known_failures],
    }
