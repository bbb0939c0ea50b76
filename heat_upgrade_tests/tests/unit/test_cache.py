"""prune-venvs: only the venvs of releases no series names go."""

from pathlib import Path

import fixtures
import testtools

from heat_upgrade_tests.installs import cache
from heat_upgrade_tests.installs import venvs
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests import releases


class PruneTest(testtools.TestCase):

    def venv(self, root: Path, name: str, marker: bool = True) -> Path:
        path = root / name
        (path / 'bin').mkdir(parents=True)
        (path / 'bin' / 'python').write_text('x' * 10)
        if marker:
            (path / venvs.MARKER).write_text('hash\n')
        return path

    @base.idempotent_id('25f7c48c-81bd-4512-9a96-fb31c39e566e')
    def test_only_unreferenced_release_venvs_go(self):
        root = Path(self.useFixture(fixtures.TempDir()).path)
        known = releases.load_series()
        newest = list(known.values())[-1]
        keep = [self.venv(root, f'heat-{newest.heat_version}'),
                self.venv(root, f'neutron-{newest.neutron_version}'),
                self.venv(root, f'swift-{newest.swift_version}'),
                self.venv(root, 'heat-src-0123456789ab'),
                self.venv(root, 'heat-tests-tempest-47.0.0-plugin-3.0.0'),
                self.venv(root, 'neutron-1.0.0', marker=False)]
        gone = [self.venv(root, 'neutron-20.0.0'),
                self.venv(root, 'keystone-1.2.3')]
        leftover = root / '.build-heat-27.0.1-abc'
        leftover.mkdir()
        listed = [p for p, _ in cache.prune(root, dry_run=True)]
        self.assertEqual(sorted(gone + [leftover]), sorted(listed))
        self.assertTrue(all(p.exists() for p in listed))
        removed = cache.prune(root)
        self.assertEqual(sorted(listed), sorted(p for p, _ in removed))
        self.assertFalse(any(p.exists() for p in listed))
        self.assertTrue(all(p.exists() for p in keep))

    @base.idempotent_id('57cfabbc-dcda-4f9e-9c17-7f54d8492b39')
    def test_every_series_names_all_four_services(self):
        for series in releases.load_series().values():
            for service in releases.packages():
                self.assertIn(f'{service}-',
                              ' '.join(cache.wanted_names({series.name:
                                                           series})))
