"""Fault drills of the check catalogue: one module per check, found
automatically.

A check that passes proves little until it is seen to fail when what it
guards is broken. Each module here declares ``DRILL``: the fault, injected
in the cloud itself (Heat's database, Keystone, Heat's API as the stacks'
owner or the operator; never the project's own state file), the moment of
the upgrade it is injected at, the phase that must then fail, and text the
failure must contain. That text comes from the check's own assertion
(``asserts='own'``: a unit test proves it occurs in the check's module and
not in ``checks/base.py``), or, for a check whose only proof in that phase
is the comparison of its outputs, from that comparison
(``asserts='outputs'``). ``catalogue_drills`` runs them all in one batch on
the shared mini-cloud. A check that runs on the mini-cloud without a drill
is not done (a unit test enforces it); gate-only checks carry their drills
too, run where their services exist.
"""

from collections.abc import Callable
import dataclasses
import importlib
import json
import os
from pathlib import Path
import pkgutil
import time
from typing import Any

import openstack

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.minicloud import cloud as cloud_mod

# When a fault may be injected: with the old Heat up after pre-upgrade
# (through the APIs), with Heat down (the database, Keystone), or with the
# new Heat up before post-upgrade.
MOMENTS = ('pre-upgrade', 'heat-down', 'new-heat-up')
# The phases a drill may expect to fail.
PHASES = ('during-upgrade', 'post-upgrade')
# Whose assertion a drill makes fail: the check's own (text of its module)
# or the generic comparison of the outputs (text of checks/base.py).
ASSERTS = ('own', 'outputs')
OUTPUTS_EXPECT = 'outputs after the upgrade differ'


@dataclasses.dataclass(frozen=True)
class Drill:
    """One fault drill: what is broken, when, and which phase catches it.

    ``inject`` receives a ``Toolbox`` bound to the check's drill stack.
    ``expect`` is text the failure of ``phase`` must contain, after the
    ``check <name>:`` prefix every check failure carries: with
    ``asserts='own'``, fixed text of the check's own assertion (in its
    module, not in the base class); with ``asserts='outputs'``,
    ``OUTPUTS_EXPECT``.
    """

    check: str
    fault: str
    moment: str
    phase: str
    expect: str
    inject: Callable[['Toolbox'], None]
    asserts: str = 'own'

    def __post_init__(self):
        if self.moment not in MOMENTS:
            raise ValueError(f'drill of {self.check}: unknown moment '
                             f'{self.moment!r}; moments: {MOMENTS}')
        if self.phase not in PHASES:
            raise ValueError(f'drill of {self.check}: unknown phase '
                             f'{self.phase!r}; phases: {PHASES}')
        if self.asserts not in ASSERTS:
            raise ValueError(f'drill of {self.check}: asserts must be one '
                             f'of {ASSERTS}, not {self.asserts!r}')
        if self.asserts == 'outputs' and self.expect != OUTPUTS_EXPECT:
            raise ValueError(f'drill of {self.check}: a drill of the output '
                             f'comparison expects {OUTPUTS_EXPECT!r}')


def all_drills() -> dict[str, Drill]:
    """Every drill module of this package, by check name."""
    found = {}
    for module in pkgutil.iter_modules(__path__):
        drill = importlib.import_module(f'{__name__}.{module.name}').DRILL
        if drill.check != module.name:
            raise ValueError(f'drill module {module.name} declares a drill '
                             f'of {drill.check}')
        found[drill.check] = drill
    return dict(sorted(found.items()))


class Toolbox:
    """What a drill uses to break its check's stack on the mini-cloud.

    ``plan`` is the running full plan (an ``UpgradeRun``); ``state_dir``
    the drills' state directory, where the check's record says what its
    stack is.
    """

    def __init__(self, plan, state_dir: Path, check: str):
        self.plan = plan
        self.state_file = Path(state_dir) / f'{check}.json'
        self.check = check
        self._admin = None
        self._member = None

    # -- what the check recorded --------------------------------------------
    @property
    def record(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text())['record']

    @property
    def stack_id(self) -> str:
        return self.record['stack']['id']

    # -- the cloud, as its operator ---------------------------------------
    @property
    def admin(self):
        if self._admin is None:
            self._admin = self.plan.cloud.admin_connection()
        return self._admin

    @property
    def member(self):
        """The member the checks run as: the owner of their stacks."""
        if self._member is None:
            os.environ['OS_CLIENT_CONFIG_FILE'] = str(
                self.plan.cloud.clouds_yaml)
            self._member = openstack.connect(cloud=cloud_mod.MEMBER_CLOUD)
        return self._member

    def heat(self, method: str, url: str, body: Any = None) -> Any:
        """A Heat API call as the stacks' owner (the old Heat is up)."""
        return _api.call(self.member, method, url, body)

    def wait_stack(self, status: str, timeout: float = 120) -> None:
        """Wait until the stack is ``status`` (the old Heat is up)."""
        deadline = time.monotonic() + timeout
        while self.member.orchestration.get_stack(
                self.stack_id).status != status:
            if time.monotonic() > deadline:
                raise AssertionError(f'drill of {self.check}: the stack did '
                                     f'not reach {status}')
            time.sleep(1)

    def stack_url(self) -> str:
        return _api.stack_url(self.record)

    # -- Heat's database ----------------------------------------------------
    def db(self, sql: str, *args) -> list[tuple]:
        return self.plan.cloud.db.execute(sql, database='heat',
                                          args=args or None)

    def resource_row(self, name: str, stack_id: str | None = None) -> int:
        """The database id of resource ``name`` of the stack."""
        rows = self.db('SELECT id FROM resource WHERE stack_id = %s AND '
                       'name = %s', stack_id or self.stack_id, name)
        if len(rows) != 1:
            raise AssertionError(f'drill of {self.check}: resource {name} '
                                 f'of stack {stack_id or self.stack_id} '
                                 f'has {len(rows)} rows')
        return rows[0][0]

    def nested_stack(self, name: str) -> str:
        """The nested stack id of resource ``name`` (a group, a chain)."""
        return self.db('SELECT nova_instance FROM resource WHERE id = %s',
                       self.resource_row(name))[0][0]

    def remove_resource(self, name: str, stack_id: str | None = None) -> None:
        """Delete a resource's rows, as if it had never been made."""
        row = self.resource_row(name, stack_id)
        self.db('DELETE FROM resource_data WHERE resource_id = %s', row)
        self.db('DELETE FROM resource WHERE id = %s', row)

    def set_resource_data(self, name: str, key: str, value: str) -> None:
        self.db('UPDATE resource_data SET value = %s WHERE resource_id = %s '
                'AND `key` = %s', value, self.resource_row(name), key)

    def edit_raw_template(self, column: str,
                          edit: Callable[[dict[str, Any]], None]) -> None:
        """Change the stack's stored template or environment (JSON)."""
        assert column in ('template', 'environment')
        raw_id = self.db('SELECT raw_template_id FROM stack WHERE id = %s',
                         self.stack_id)[0][0]
        doc = json.loads(self.db(f'SELECT {column} FROM raw_template WHERE '
                                 f'id = %s', raw_id)[0][0])
        edit(doc)
        self.db(f'UPDATE raw_template SET {column} = %s WHERE id = %s',
                json.dumps(doc), raw_id)

    def set_stored_property(self, name: str, prop: str, value: Any,
                            stack_id: str | None = None) -> None:
        """Change a property value Heat stored for resource ``name``.

        Heat compares an update's properties with the stored ones (not the
        template's): a stored value the update does not repeat makes Heat
        replace a resource whose property is not update_allowed, as if the
        old release had stored something else.
        """
        row = self.resource_row(name, stack_id)
        prop_id = self.db('SELECT rsrc_prop_data_id FROM resource WHERE '
                          'id = %s', row)[0][0]
        if prop_id is None:
            raise AssertionError(f'drill of {self.check}: resource {name} '
                                 f'has no stored properties')
        data, encrypted = self.db('SELECT data, encrypted FROM '
                                  'resource_properties_data WHERE id = %s',
                                  prop_id)[0]
        if encrypted:
            raise AssertionError(f'drill of {self.check}: the properties of '
                                 f'{name} are encrypted')
        props = json.loads(data)
        props[prop] = value
        self.db('UPDATE resource_properties_data SET data = %s WHERE id = %s',
                json.dumps(props), prop_id)

    def set_metadata(self, name: str, metadata: dict[str, Any]) -> None:
        """Overwrite the metadata Heat keeps for resource ``name``."""
        self.db('UPDATE resource SET rsrc_metadata = %s WHERE id = %s',
                json.dumps(metadata), self.resource_row(name))

    def edit_snapshot(self, snapshot_id: str,
                      edit: Callable[[dict[str, Any]], None]) -> None:
        """Change the data Heat stored for one of the stack's snapshots."""
        rows = self.db('SELECT data FROM snapshot WHERE id = %s AND '
                       'stack_id = %s', snapshot_id, self.stack_id)
        if len(rows) != 1:
            raise AssertionError(f'drill of {self.check}: snapshot '
                                 f'{snapshot_id} has {len(rows)} rows')
        data = json.loads(rows[0][0])
        edit(data)
        self.db('UPDATE snapshot SET data = %s WHERE id = %s',
                json.dumps(data), snapshot_id)

    def live_engine_ids(self) -> list[str]:
        """Engine ids of the running heat-engine workers, newest first."""
        return [row[0] for row in self.db(
            "SELECT engine_id FROM service WHERE deleted_at IS NULL AND "
            "`binary` = 'heat-engine' ORDER BY created_at DESC")]
