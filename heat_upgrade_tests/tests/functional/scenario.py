"""ONE real mini-cloud per upgrade pair, shared by the functional tests.

Building a mini-cloud takes minutes, so the scenario runs once per process
(the functional env runs serially): the full upgrade of the default pair,
with every drill set's hooks run at their moments of the upgrade. The drills
run the same commands a user runs, with state directories of their own, so
the main run is not disturbed. Each test then asserts one thing about the
recorded results. The plan upgrades Keystone, runs this project's upgrade
and upgrades Heat in the order grenade's settings give (see
``grenade_drills.upgrade_order``).
"""

import dataclasses
import functools
import json
import os
from pathlib import Path
import tempfile
import traceback
from typing import Any

from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.plans import driver
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests.tests.functional import catalogue_drills
from heat_upgrade_tests.tests.functional import gone_drills
from heat_upgrade_tests.tests.functional import grenade_drills
from heat_upgrade_tests.tests.functional import integrity_drills

WORK_DIR = os.path.join(config.CACHE_HOME, 'functional')
# What the keystone destroy drill found in Heat and Keystone, as the admin,
# right after its destroy phase (the cloud is gone when the tests run).
KEYSTONE_DESTROYED: dict[str, Any] = {}


@dataclasses.dataclass
class Scenario:
    plan: upgrade.UpgradeRun
    drills: dict[str, upgrade.PhaseRun]
    error: str | None


class Drills:
    """Fault drills, each a phase command run at a moment of the upgrade.

    A drill set is any object with ``hooks()`` returning ``{moment:
    callable(plan)}``; the moments are the names ``UpgradeRun.run``
    calls hooks after. Results go into the shared ``results`` dict.
    """

    def __init__(self, results: dict):
        self.results = results

    def _conf(self, plan, name, checks=None):
        cloud = plan.cloud
        return cloud.write_phase_conf(
            cloud.run_dir / f'drill-{name}.conf',
            cloud.run_dir / f'state-drill-{name}', enabled_checks=checks)

    def _run(self, plan, name, conf, phase):
        self.results[name] = upgrade.run_phase_command(
            conf, phase, plan.run_dir / 'logs' / f'drill-{name}.log',
            echo=False)

    def old_heat_up(self, plan):
        # A later phase run without the earlier phase's state.
        self._run(plan, 'missing_state',
                  self._conf(plan, 'missing-state'), 'during-upgrade')
        # A keystone stack of its own, to break behind Heat's back later.
        self._run(plan, 'keystone_pre',
                  self._conf(plan, 'keystone', ['keystone_objects']),
                  'pre-upgrade')

    def pre_upgrade(self, plan):
        # during-upgrade while Heat is still up proves nothing: it fails.
        self._run(plan, 'during_with_heat_up', plan.cloud.phase_conf,
                  'during-upgrade')

    def heat_down(self, plan):
        state_file = (plan.cloud.run_dir / 'state-drill-keystone' /
                      'keystone_objects.json')
        user_id = json.loads(state_file.read_text())[
            'record']['outputs']['user_id']
        plan.cloud.admin_connection().identity.delete_user(user_id)
        self._run(plan, 'keystone_user_deleted',
                  self._conf(plan, 'keystone', ['keystone_objects']),
                  'during-upgrade')
        # post-upgrade while the new Heat is down: fails fast, no hang.
        self._run(plan, 'post_with_heat_down', plan.cloud.phase_conf,
                  'post-upgrade')

    def post_upgrade(self, plan):
        self._run(plan, 'keystone_destroy',
                  self._conf(plan, 'keystone', ['keystone_objects']),
                  'destroy')
        try:
            KEYSTONE_DESTROYED.update(self._left_by_destroy(plan))
        except Exception:
            KEYSTONE_DESTROYED['error'] = traceback.format_exc()

    def _left_by_destroy(self, plan) -> dict[str, Any]:
        """The destroyed stack and its Keystone objects, seen as admin."""
        state_file = (plan.cloud.run_dir / 'state-drill-keystone' /
                      'keystone_objects.json')
        record = json.loads(state_file.read_text())['record']
        admin = plan.cloud.admin_connection()
        stack = admin.orchestration.find_stack(record['stack']['id'],
                                               ignore_missing=True)
        outputs = record['outputs']
        identity = admin.identity
        found = {}
        for kind, find in (('user', identity.find_user),
                           ('group', identity.find_group),
                           ('role', identity.find_role)):
            obj = find(outputs[f'{kind}_id'], ignore_missing=True)
            found[kind] = None if obj is None else obj.id
        return {'stack_id': record['stack']['id'],
                'stack_status': None if stack is None else stack.status,
                'keystone': found}

    def hooks(self):
        return {'old-heat-up': self.old_heat_up,
                'pre-upgrade': self.pre_upgrade,
                'heat-down': self.heat_down,
                'post-upgrade': self.post_upgrade}


# Drill sets run in this order at each moment; add new ones here.
DRILL_SETS = [Drills, grenade_drills.GrenadeHookDrills,
              integrity_drills.IntegrityDrills,
              catalogue_drills.CatalogueDrills, gone_drills.GoneDrills]


def combined_hooks(drill_sets) -> dict:
    moments: dict[str, list] = {}
    for drill_set in drill_sets:
        for moment, hook in drill_set.hooks().items():
            moments.setdefault(moment, []).append(hook)

    def run_all(hooks):
        def run(plan):
            for hook in hooks:
                hook(plan)
        return run
    return {moment: run_all(hooks) for moment, hooks in moments.items()}


@functools.cache
def scenario() -> Scenario:
    """Build the mini-cloud, upgrade it with every drill set; once."""
    # $HEAT_UPGRADE_TESTS_CONFIG may move the ports and the work directory
    # (to run beside another mini-cloud) or select checks; by default the
    # functional tests keep out of the work directory of `tox -e upgrade`.
    conf = config.load()
    default = {o.name: o.default for o in config.minicloud_opts}['work_dir']
    if conf.minicloud.work_dir == default:
        conf.set_override('work_dir', WORK_DIR, 'minicloud')
    # Heat's own tests before and after: on in CI, here, once.
    if grenade_drills.heat_tests_enabled():
        conf.set_override('enabled', True, 'heat_tests')
    old, new = driver.resolve_pair(conf)
    # Upgrade Keystone, this project and Heat where grenade would: in the
    # order the grenade settings give, with the job's plugins sorted.
    with tempfile.TemporaryDirectory(prefix='hut-grenade-order-') as tmp:
        order = grenade_drills.upgrade_order(Path(tmp))
    plan = upgrade.UpgradeRun(
        conf, old, new, plan='full',
        orders={'upgrade': grenade_drills.with_in_tree(
            order, conf.minicloud.compute)})
    results: dict[str, upgrade.PhaseRun] = {}
    error = None
    try:
        plan.run(hooks=combined_hooks(d(results) for d in DRILL_SETS))
    except exceptions.UpgradeTestError as exc:
        error = str(exc)
    print(driver.summary(plan), flush=True)
    driver.write_report(plan)
    return Scenario(plan, results, error)
