"""Whether old and new engines can share one message bus.

Heat's RPC carries JSON payloads, not versioned objects: what decides
whether two releases understand each other is each service's RPC API
version and the methods and arguments its endpoints take. The probe reads
both from each release's source (server classes: ``RPC_API_VERSION`` and
the endpoints' signatures; client classes: the method, arguments and
version of each message). A message goes through when the receiving
release has the method, takes every argument sent, gets every argument it
requires, and serves the version the sender pins (same major, minor not
higher): oslo.messaging rejects anything else with UnsupportedVersion.
A cast that is rejected is simply lost: the stack waits forever.

Heat's rule for its RPC API is "always add, never delete or modify":
endpoints or arguments removed, and arguments that became required, are
flagged too.

Not comparing is a failure, never a pass: a service whose server or client
class the probe did not find, or found without endpoints, messages or
version, on either side, makes the finding FAILED, naming what was not
found.
"""

from typing import Any

from heat_upgrade_tests.integrity import report

SERVICE_NAMES = {'engine': 'engine (heat-api and engines -> heat-engine)',
                 'worker': 'worker (engine -> engine worker, convergence)'}


def version_key(version: str | None) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in str(version).split('.'))
    except ValueError:
        return ()


def serves(server_version: str | None, requested: str) -> bool:
    """Whether a server of ``server_version`` accepts ``requested``."""
    have, want = version_key(server_version), version_key(requested)
    if not have or not want:
        return False
    return have[0] == want[0] and want[1:] <= have[1:]


def call_problems(call: dict[str, Any], server: dict[str, Any]) -> list[str]:
    """Why ``server`` would not handle ``call``; empty when it would."""
    problems = []
    if not serves(server['version'], call['version']):
        problems.append(f'serves RPC {server["version"]}, the message '
                        f'pins {call["version"]}')
    method = server['methods'].get(call['method'])
    if method is None:
        return problems + [f'has no method {call["method"]}']
    params = {p['name'] for p in method['params']}
    required = {p['name'] for p in method['params'] if p['required']}
    extra = sorted(set(call['args']) - params)
    if extra and not method['var_kw']:
        problems.append(f'takes no argument {", ".join(extra)}')
    missing = sorted(required - set(call['args']))
    if missing and not call.get('dynamic_args'):
        problems.append(f'requires {", ".join(missing)}, not sent')
    return problems


def mix_breaks(sender: dict[str, Any], receiver: dict[str, Any]
               ) -> list[dict[str, Any]]:
    """Messages of ``sender``'s client that ``receiver``'s server drops."""
    breaks = []
    for call in sender['calls']:
        problems = call_problems(call, receiver)
        if problems:
            breaks.append({'method': call['method'],
                           'version': call['version'],
                           'kind': call.get('kind', 'call'),
                           'problems': problems})
    return breaks


def api_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What the new server removed or made stricter ("never delete")."""
    changes = []
    for name, method in sorted(old['methods'].items()):
        kept = new['methods'].get(name)
        if kept is None:
            changes.append(f'endpoint {name} removed')
            continue
        old_params = {p['name'] for p in method['params']}
        new_params = {p['name']: p for p in kept['params']}
        for param in sorted(old_params - set(new_params)):
            if not kept['var_kw']:
                changes.append(f'{name}: argument {param} removed')
        for param, info in sorted(new_params.items()):
            if info['required'] and param not in {
                    p['name'] for p in method['params'] if p['required']}:
                changes.append(f'{name}: argument {param} is now required')
    return changes


def _consequence(kind: str) -> str:
    if kind == 'cast':
        return ('a cast: the receiver refuses it and nobody is told; the '
                'stack stays IN_PROGRESS')
    return 'a call: the request fails with the receiver\'s error'


def not_found(service: str, side: dict[str, Any] | None,
              label: str) -> list[str]:
    """What the probe did not find of ``service`` in one release.

    A comparison needs the server class with its endpoints and the client
    class with its messages, on both sides: without them every rule passes
    vacuously, and "one bus can carry both" would be claimed of nothing.
    """
    if not side:
        return [f'{label}: no {service} RPC service described']
    if 'error' in side:
        return [f'{label}: {service}: {side["error"]}']
    missing = []
    if not side.get('methods'):
        missing.append(f'{label}: {service}: no RPC endpoints found in '
                       f'{side.get("server") or "the server class"}')
    if not side.get('calls'):
        missing.append(f'{label}: {service}: no messages found in '
                       f'{side.get("client") or "the client class"}')
    if side.get('version') is None:
        missing.append(f'{label}: {service}: no RPC_API_VERSION in '
                       f'{side.get("server") or "the server class"}')
    return missing


def compare(old: dict[str, Any], new: dict[str, Any], old_label: str,
            new_label: str) -> report.Finding:
    """The compatibility finding of two releases' RPC descriptions."""
    details = []
    data: dict[str, Any] = {}
    versions = []
    broken = []
    flagged = []
    not_compared = []
    for service in sorted(set(old) | set(new)):
        o, n = old.get(service), new.get(service)
        missing = not_found(service, o, old_label) + not_found(
            service, n, new_label)
        if missing:
            not_compared += missing
            details += [f'NOT COMPARED {m}' for m in missing]
            continue
        versions.append(f'{service} RPC {o["version"]} -> {n["version"]}')
        new_to_old = mix_breaks(n, o)
        old_to_new = mix_breaks(o, n)
        changes = api_changes(o, n)
        data[service] = {
            'old_version': o['version'], 'new_version': n['version'],
            'old_methods': len(o['methods']),
            'new_methods': len(n['methods']),
            'added_methods': sorted(set(n['methods']) - set(o['methods'])),
            'new_to_old': new_to_old, 'old_to_new': old_to_new,
            'api_changes': changes}
        title = SERVICE_NAMES.get(service, service)
        details.append(f'{title}: {o["version"]} -> {n["version"]}, '
                       f'{len(o["methods"])} -> {len(n["methods"])} '
                       f'endpoints')
        for direction, items, receiver in (
                (f'{new_label} sends, {old_label} receives', new_to_old,
                 old_label),
                (f'{old_label} sends, {new_label} receives', old_to_new,
                 new_label)):
            for item in items:
                broken.append(f'{service} {item["method"]} '
                              f'({direction})')
                details.append(
                    f'  BREAKS {direction}: {item["method"]} at '
                    f'{item["version"]}: {receiver} '
                    f'{"; ".join(item["problems"])} '
                    f'({_consequence(item["kind"])})')
        for change in changes:
            flagged.append(f'{service}: {change}')
            details.append(f'  FLAG {change} (always add, never delete or '
                           f'modify)')
    if not_compared or not versions:
        what = '; '.join(not_compared) or (
            'neither release described any RPC service')
        data.update(breaks=broken, flagged=flagged,
                    not_compared=not_compared)
        done = (f'compared only {", ".join(versions)}' if versions
                else 'compared nothing')
        return report.Finding(
            'rpc', report.FAILED,
            f'{done}: {what}; whether old and new engines can share one '
            f'bus is unknown', details, data)
    if broken:
        summary = (f'{", ".join(versions)}: old and new engines cannot '
                   f'share one bus ({len(broken)} message kinds lost or '
                   f'refused); upgrade every engine at once, or run the new '
                   f'release on a vhost of its own')
        status = report.WARNING
    elif flagged:
        summary = f'{", ".join(versions)}: {len(flagged)} API changes flagged'
        status = report.WARNING
    else:
        summary = (f'{", ".join(versions)}: every message of either release '
                   f'is understood by the other; one bus can carry both')
        status = report.PASSED
    data['breaks'] = broken
    data['flagged'] = flagged
    return report.Finding('rpc', status, summary, details, data)
