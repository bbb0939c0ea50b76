"""Bad input: each a one-line error naming the problem, non-zero exit.

The commands run as a user runs them, in a subprocess; the unreachable
cloud is a closed port on the loopback.
"""

import os
import socket
import subprocess
import sys
import uuid

import fixtures
import testtools
import yaml

from heat_upgrade_tests.phases.suite import base


class CommandErrorsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.clouds = os.path.join(self.dir, 'clouds.yaml')
        with open(self.clouds, 'w') as f:
            yaml.safe_dump({'clouds': {'closed': {
                'auth': {'auth_url': f'http://127.0.0.1:{self._free_port()}'
                                     f'/v3',
                         'username': 'u', 'password': 'p',
                         'project_name': 'p', 'user_domain_name': 'Default',
                         'project_domain_name': 'Default'},
                'identity_api_version': 3}}}, f)

    @staticmethod
    def _free_port():
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            return sock.getsockname()[1]

    def write_conf(self, text):
        path = os.path.join(self.dir, 'hut.conf')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def run_cmd(self, *args, env=None):
        full_env = dict(os.environ)
        full_env.pop('HEAT_UPGRADE_TESTS_CONFIG', None)
        full_env.pop('OS_CLOUD', None)
        full_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, '-m', 'heat_upgrade_tests.cmd', *args],
            capture_output=True, text=True, env=full_env, timeout=120,
            cwd=self.dir)
        return proc

    def assertOneLineError(self, proc, *fragments):
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertNotIn('Traceback', proc.stderr + proc.stdout)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(1, len(lines), proc.stderr)
        self.assertTrue(lines[0].startswith('heat-upgrade-tests: error: '))
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01')
    def test_unknown_series(self):
        proc = self.run_cmd('upgrade', '--from', '1999.1')
        self.assertOneLineError(proc, "unknown release series '1999.1'",
                                '2026.2')

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02')
    def test_backwards_upgrade(self):
        proc = self.run_cmd('upgrade', '--from', '2026.2', '--to', '2026.1')
        self.assertOneLineError(proc, 'must be a later series')

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c03')
    def test_unreachable_cloud(self):
        conf = self.write_conf(
            f'[cloud]\ncloud = closed\nclouds_file = {self.clouds}\n'
            f'[phases]\nstate_dir = {self.dir}/state\n')
        proc = self.run_cmd('--config-file', conf, 'phase', 'pre-upgrade')
        self.assertOneLineError(proc, "cannot reach the identity service "
                                      "of cloud 'closed'")

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c04')
    def test_missing_clouds_yaml_entry(self):
        conf = self.write_conf(
            f'[cloud]\nclouds_file = {self.clouds}\n'
            f'[phases]\nstate_dir = {self.dir}/state\n')
        proc = self.run_cmd('--config-file', conf, 'phase', 'pre-upgrade',
                            env={'OS_CLOUD': 'nope'})
        self.assertOneLineError(proc, "clouds.yaml has no usable entry "
                                      "'nope'")

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c05')
    def test_corrupt_state_file(self):
        state = os.path.join(self.dir, 'state')
        os.makedirs(state)
        with open(os.path.join(state, 'values_and_outputs.json'), 'w') as f:
            f.write('{"check": "values_and_outp')
        conf = self.write_conf(
            f'[cloud]\ncloud = closed\nclouds_file = {self.clouds}\n'
            f'[phases]\nstate_dir = {state}\n'
            f'enabled_checks = values_and_outputs\n')
        proc = self.run_cmd('--config-file', conf, 'phase', 'post-upgrade')
        self.assertOneLineError(proc, 'values_and_outputs.json is corrupt')

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c06')
    def test_missing_state_names_the_phase_to_run_first(self):
        conf = self.write_conf(
            f'[cloud]\ncloud = closed\nclouds_file = {self.clouds}\n'
            f'[phases]\nstate_dir = {self.dir}/none\n')
        proc = self.run_cmd('--config-file', conf, 'phase', 'during-upgrade')
        self.assertOneLineError(proc, 'run the pre-upgrade phase before '
                                      'during-upgrade')

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c07')
    def test_busy_port(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            sock.listen()
            port = sock.getsockname()[1]
            # Every other port free, whatever else runs on this machine.
            others = ''.join(
                f'{name} = {self._free_port()}\n' for name in (
                    'heat_api_port', 'mysql_port', 'rabbit_port',
                    'rabbit_dist_port', 'epmd_port', 'swift_proxy_port',
                    'swift_object_port', 'swift_container_port',
                    'swift_account_port', 'neutron_port'))
            conf = self.write_conf(
                f'[minicloud]\nkeystone_port = {port}\n{others}'
                f'work_dir = {self.dir}/run\n')
            proc = self.run_cmd('--config-file', conf, 'upgrade')
        self.assertOneLineError(proc, f'port {port} (keystone)',
                                'already in use')
        self.assertFalse(os.path.exists(os.path.join(self.dir, 'run')))

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08')
    def test_missing_config_file(self):
        proc = self.run_cmd('--config-file', '/nonexistent/hut.conf',
                            'list-checks')
        self.assertOneLineError(proc, '/nonexistent/hut.conf does not exist')

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c09')
    def test_unknown_check(self):
        conf = self.write_conf('[phases]\nenabled_checks = nope\n')
        proc = self.run_cmd('--config-file', conf, 'phase', 'pre-upgrade')
        self.assertOneLineError(proc, 'unknown check(s) nope')

    @base.idempotent_id('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c10')
    def test_no_api_passes_with_nothing_answering(self):
        # Grenade's verify_noapi: Keystone is down too (the cloud here is
        # a closed port). The phase authenticates nowhere; checks without
        # a data-plane probe are skipped with their reason; it passes.
        from heat_upgrade_tests import state as state_mod
        checks = ('values_and_outputs', 'keystone_objects')
        state_dir = os.path.join(self.dir, 'state')
        for name in checks:
            state = state_mod.CheckState(state_dir, name)
            doc = state.new(str(uuid.uuid4()))
            doc.update(run_id='r1', phases={'pre-upgrade': 'passed'},
                       record={'stack': {'id': 'sid', 'name': 'sname'},
                               'parameters': {}, 'outputs': {'x': 1}})
            state.save(doc)
        conf = self.write_conf(
            f'[cloud]\ncloud = closed\nadmin_cloud = closed\n'
            f'clouds_file = {self.clouds}\n'
            f'[phases]\nstate_dir = {state_dir}\n'
            f'enabled_checks = {",".join(checks)}\n')
        proc = self.run_cmd('--config-file', conf, 'phase', 'no-api')
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        for name in checks:
            self.assertRegex(proc.stdout, rf'test_{name}\S*( \[[\d.]+s\])? '
                                          rf'\.\.\. SKIPPED: {name} has no '
                                          rf'data-plane probe')
        self.assertIn('every test was skipped; nothing failed', proc.stdout)


class HookStepNamesTest(testtools.TestCase):
    """The hooks' step names for Heat's own tests reach heat_tests.run."""

    @base.idempotent_id('4b129145-4d22-4c0f-9894-54e17d8041f5')
    def test_phase_takes_the_heat_tests_steps(self):
        from heat_upgrade_tests import cmd
        from heat_upgrade_tests import heat_tests
        calls = []
        self.useFixture(fixtures.MockPatchObject(
            heat_tests, 'run', lambda conf, side: calls.append(side) or 0))
        self.useFixture(fixtures.EnvironmentVariable(
            'HEAT_UPGRADE_TESTS_CONFIG'))
        for step, side in (('heat-tests-before', 'before'),
                           ('heat-tests-after', 'after')):
            self.assertEqual(0, cmd.main(['phase', step]))
            self.assertEqual(side, calls[-1])
        self.assertEqual(2, len(calls))
