"""Each shipped plan, printed for a fixed seed, pinned by a golden file.

The printed plan is what a user reads before a run and what ``--seed``
replays: a change of the plan language, of the walker or of where a plan's
parts live must not change it unnoticed. The golden files sit beside this
module (``golden/plans/NAME.txt``); after a deliberate change of a plan,
write them again with ``python -m heat_upgrade_tests.tests.unit.
test_plan_golden`` and review the diff.
"""

from pathlib import Path
import sys
import tempfile

import testtools

from heat_upgrade_tests import config
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import pairs
from heat_upgrade_tests.plans import upgrade

GOLDEN_DIR = Path(__file__).parent / 'golden' / 'plans'
SEED = 20261207


def printed(name: str) -> str:
    """Plan ``name`` on its default pair, as a run with SEED prints it."""
    plan = model.get(name)
    with tempfile.TemporaryDirectory() as tmp:
        conf = config.load(config_files=[])
        conf.set_override('work_dir', str(Path(tmp) / 'run'), 'minicloud')
        old, new = pairs.resolve(plan, None, None, Path(tmp) / 'cache',
                                 Path(tmp) / 'logs')
        run = upgrade.UpgradeRun(conf, old, new, plan=plan, echo=False,
                                 seed=SEED)
        return run.render() + '\n'


class PlanGoldenTest(testtools.TestCase):

    @base.idempotent_id('5c0f6f2e-8a3b-4b1e-9d57-1f2c8e7a4d10')
    def test_every_shipped_plan_prints_as_its_golden_file(self):
        shipped = sorted(model.load_all())
        self.assertEqual(shipped, sorted(
            p.stem for p in GOLDEN_DIR.glob('*.txt')),
            'a golden file for each shipped plan, and none for another')
        for name in shipped:
            self.assertEqual((GOLDEN_DIR / f'{name}.txt').read_text(),
                             printed(name), name)


def write_golden_files() -> None:
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for name in model.load_all():
        (GOLDEN_DIR / f'{name}.txt').write_text(printed(name))
        print(f'wrote {GOLDEN_DIR / name}.txt')


if __name__ == '__main__':
    write_golden_files()
    sys.exit(0)
