"""What a run leaves behind: stacks and Keystone objects, counted.

``inventory`` lists, as the admin, every stack (all projects, nested ones
included) and every Keystone user, group, role, project and domain; a run
takes one before pre-upgrade and one after destroy, and ``left_behind``
is what the second has that the first had not: what the run's checks made
and did not remove (Heat's stack-domain users and projects included).
Deleted stacks Heat still lists as DELETE_COMPLETE do not count.
"""

from collections.abc import Callable
from typing import Any

import keystoneauth1.exceptions as ks_exc
import openstack.exceptions as sdk_exc

from heat_upgrade_tests import exceptions

KINDS = ('stacks', 'users', 'groups', 'roles', 'projects', 'domains')
Inventory = dict[str, dict[str, str]]


def inventory(admin_conn, stacks: Callable[[], dict[str, str]] | None = None
              ) -> Inventory:
    """Every stack and Keystone object, ``{kind: {id: name}}``.

    ``stacks`` lists the stacks (id: name) where the API cannot: Heat's
    default policy denies every project's list (``stacks:global_index``)
    even to the admin, so the mini-cloud reads Heat's database. Without
    it the API's list is used (a policy that allows it).
    """
    try:
        found: Inventory = {'stacks': stacks() if stacks is not None
                            else _stacks(admin_conn)}
        identity = admin_conn.identity
        for kind, listing in (('users', identity.users),
                              ('groups', identity.groups),
                              ('roles', identity.roles),
                              ('projects', identity.projects),
                              ('domains', identity.domains)):
            found[kind] = {o.id: o.name for o in listing()}
    except (sdk_exc.SDKException, ks_exc.ClientException) as exc:
        text = str(exc).strip().splitlines()
        raise exceptions.UpgradeTestError(
            f'cannot count what the run left: '
            f'{text[0] if text else type(exc).__name__}')
    return found


def _stacks(admin_conn) -> dict[str, str]:
    response = admin_conn.orchestration.get(
        '/stacks?global_tenant=True&show_nested=True&show_hidden=True',
        raise_exc=False)
    if response.status_code != 200:
        raise exceptions.UpgradeTestError(
            f'cannot count what the run left: Heat answered GET /stacks '
            f'with HTTP {response.status_code}')
    return {s['id']: s['stack_name'] for s in response.json()['stacks']
            if s.get('stack_status') != 'DELETE_COMPLETE'}


def left_behind(before: Inventory, after: Inventory) -> dict[str, Any]:
    """Per kind, what ``after`` has that ``before`` had not (id: name)."""
    return {kind: {i: n for i, n in after.get(kind, {}).items()
                   if i not in before.get(kind, {})} for kind in KINDS}


def describe(left: dict[str, Any]) -> list[str]:
    """Summary lines: the counts, then each object left behind by name."""
    counts = ', '.join(f'{len(left.get(k, {}))} {k}' for k in KINDS)
    total = sum(len(left.get(k, {})) for k in KINDS)
    lines = [f'left behind by the run: {counts}'
             + ('' if total else ' (nothing)')]
    for kind in KINDS:
        for obj_id, name in sorted(left.get(kind, {}).items(),
                                   key=lambda item: item[1] or ''):
            lines.append(f'  {kind[:-1]} {name} ({obj_id})')
    return lines
