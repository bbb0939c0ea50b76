"""A private RabbitMQ node for Heat's RPC.

Every file and port of the node is its own, so a system RabbitMQ (which
installing the Debian package may start) is neither used nor disturbed:

* ``/usr/lib/rabbitmq/bin/rabbitmq-server`` is run directly, since the
  ``/usr/sbin`` wrapper switches to the ``rabbitmq`` user and drops the
  environment that points the node at its files;
* ``HOME`` holds the node's own Erlang cookie, and
  ``RABBITMQ_CONF_ENV_FILE`` replaces ``/etc/rabbitmq/rabbitmq-env.conf``;
* the node registers with an epmd of its own on ``epmd_port`` (by default
  every Erlang node on a machine shares the one on 4369), started here in
  the foreground so that its cleanup is certain.
"""

import json
import os
from pathlib import Path
import secrets
import socket
import string
import time
import urllib.parse

import fixtures

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

CTL_TIMEOUT = 60
STOP_TIMEOUT = 60


class RabbitMQ(fixtures.Fixture):
    """A RabbitMQ node under ``base_dir``, stopped on cleanup.

    Its data (users, vhosts) is kept under ``base_dir``, so a later
    fixture on the same directory finds them again. Cleanup stops the
    node with ``rabbitmqctl stop``, makes sure its process group is gone,
    then stops its epmd: no Erlang process is left behind.
    """

    def __init__(self, base_dir: Path, port: int, dist_port: int,
                 epmd_port: int, log_dir: Path, host: str = '127.0.0.1',
                 nodename: str = 'heat-upgrade-tests@localhost',
                 start_timeout: float = 90):
        super().__init__()
        self.base_dir = Path(base_dir)
        self.port = port
        self.dist_port = dist_port
        self.epmd_port = epmd_port
        self.log_dir = Path(log_dir)
        self.host = host
        self.nodename = nodename
        self.start_timeout = start_timeout
        self.home = self.base_dir / 'home'
        self.config_file = self.base_dir / 'rabbitmq.conf'
        self.log_file = self.log_dir / 'rabbitmq.log'
        self.ctl_log_file = self.log_dir / 'rabbitmqctl.log'
        self.server: processes.ManagedProcess | None = None
        self.epmd: processes.ManagedProcess | None = None

    @property
    def env(self) -> dict[str, str]:
        """The environment of the server and of every rabbitmqctl call."""
        base = self.base_dir
        return {
            'HOME': str(self.home),
            'RABBITMQ_NODENAME': self.nodename,
            'RABBITMQ_NODE_PORT': str(self.port),
            'RABBITMQ_DIST_PORT': str(self.dist_port),
            'RABBITMQ_MNESIA_BASE': str(base / 'mnesia'),
            'RABBITMQ_LOG_BASE': str(self.log_dir / 'rabbitmq'),
            'RABBITMQ_PID_FILE': str(base / 'rabbitmq.pid'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': str(base / 'enabled_plugins'),
            'RABBITMQ_CONFIG_FILE': str(self.config_file),
            'RABBITMQ_ADVANCED_CONFIG_FILE': str(base / 'advanced.config'),
            'RABBITMQ_CONF_ENV_FILE': str(base / 'rabbitmq-env.conf'),
            # Erlang distribution (the CLI's way in) on loopback only.
            'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS':
                '-kernel inet_dist_use_interface {127,0,0,1}',
            'ERL_EPMD_PORT': str(self.epmd_port),
            'ERL_EPMD_ADDRESS': '127.0.0.1',
            'ERL_CRASH_DUMP': str(base / 'erl_crash.dump'),
        }

    def _setUp(self) -> None:
        self._write_files()
        # Cleanups run in reverse: rabbitmqctl stop, the node's process
        # group, our epmd (it must outlive the node, or rabbitmqctl cannot
        # find the node), and last any other epmd left on the port.
        self.addCleanup(self._stop_epmd)
        self._start_epmd()
        self.server = processes.use(self, processes.ManagedProcess(
            'rabbitmq', [packages.RABBITMQ_SERVER], self.log_file,
            env=self.env, cwd=self.base_dir, stop_timeout=STOP_TIMEOUT))
        self.addCleanup(self._stop_node)
        self.server.wait_ready(
            self._started, self.start_timeout,
            f'RabbitMQ node {self.nodename} to start')

    def restart(self) -> float:
        """Stop the node and start it again on its data; the seconds.

        Users, permissions and vhosts are kept (Mnesia), and so are the
        durable queues (Heat's topic queues, with their persistent
        messages); the transient ones (replies, fanout, Neutron's) are
        gone: oslo.messaging must reconnect and declare them again.
        """
        start = time.monotonic()
        self._stop_node()
        if self.server is not None:
            self.server.stop()
        self.server = processes.use(self, processes.ManagedProcess(
            'rabbitmq', [packages.RABBITMQ_SERVER], self.log_file,
            env=self.env, cwd=self.base_dir, stop_timeout=STOP_TIMEOUT))
        self.server.wait_ready(
            self._started, self.start_timeout,
            f'RabbitMQ node {self.nodename} to start again')
        return time.monotonic() - start

    def _write_files(self) -> None:
        for path in (self.home, self.base_dir / 'mnesia', self.log_dir):
            path.mkdir(parents=True, exist_ok=True)
        cookie = self.home / '.erlang.cookie'
        if not cookie.exists():
            # Erlang refuses a cookie file others can read.
            value = ''.join(secrets.choice(string.ascii_uppercase)
                            for _ in range(20))
            fd = os.open(cookie, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
            with os.fdopen(fd, 'w') as f:
                f.write(value)
        # Only this listener: RabbitMQ would otherwise listen on every
        # address.
        self.config_file.write_text(
            f'listeners.tcp.default = {self.host}:{self.port}\n')
        (self.base_dir / 'enabled_plugins').write_text('[].\n')
        (self.base_dir / 'rabbitmq-env.conf').write_text('')

    def _start_epmd(self) -> None:
        # In the foreground, in its own process group: the ManagedProcess
        # cleanup then stops it for certain. (An epmd that the node starts
        # itself daemonizes out of reach.)
        self.epmd = processes.use(self, processes.ManagedProcess(
            'epmd', [packages.EPMD, '-port', str(self.epmd_port),
                     '-address', '127.0.0.1'],
            self.log_dir / 'epmd.log', cwd=self.base_dir))
        self.epmd.wait_ready(
            self._epmd_answers, 10,
            f'epmd to listen on port {self.epmd_port}')

    def _epmd_answers(self) -> bool:
        # A NAMES_REQ, which epmd answers with its port number: a bare
        # connect would make it log a "partial packet" per probe.
        try:
            with socket.create_connection(('127.0.0.1', self.epmd_port),
                                          timeout=2) as sock:
                sock.sendall(b'\x00\x01n')
                return len(sock.recv(4)) == 4
        except OSError:
            return False

    def _started(self) -> bool:
        try:
            self.ctl('await_startup', '--timeout', '10',
                     what=f'waiting for {self.nodename}', timeout=30)
        except exceptions.UpgradeTestError:
            return False
        return True

    def _stop_node(self) -> None:
        if self.server is None or not self.server.running:
            return
        server = self.server
        try:
            self.ctl('stop', what=f'stopping {self.nodename}',
                     timeout=STOP_TIMEOUT)
            # rabbitmqctl returns while the VM is still halting.
            processes.wait_until(lambda: not server.running, STOP_TIMEOUT,
                                 f'RabbitMQ node {self.nodename} to exit',
                                 interval=0.2)
        except exceptions.UpgradeTestError:
            # The ManagedProcess cleanup that follows terminates it.
            pass

    def _stop_epmd(self) -> None:
        # Our own epmd is stopped by its ManagedProcess cleanup, before
        # this one runs. One still answering on the port was started by
        # the node after ours died: ask it to go the Erlang way.
        if not self._epmd_answers():
            return
        try:
            processes.run([packages.EPMD, '-kill'], self.ctl_log_file,
                          f'stopping epmd on port {self.epmd_port}',
                          env=self.env, timeout=CTL_TIMEOUT)
        except exceptions.UpgradeTestError:
            pass

    def ctl(self, *args: str, what: str, timeout: float = CTL_TIMEOUT,
            secret_args: tuple[str, ...] = ()) -> str:
        """Run ``rabbitmqctl -n NODE ARGS`` against this node."""
        return processes.run(
            [packages.RABBITMQCTL, '-n', self.nodename] + list(args),
            self.ctl_log_file, what, env=self.env, timeout=timeout,
            secret_args=secret_args)

    def _names(self, command: str, key: str) -> set[str]:
        out = self.ctl(command, '--quiet', '--formatter', 'json',
                       what=f'rabbitmqctl {command}')
        return {item[key] for item in json.loads(out)}

    def add_vhost(self, vhost: str) -> None:
        """Create ``vhost`` unless it exists."""
        if vhost not in self._names('list_vhosts', 'name'):
            self.ctl('add_vhost', vhost, what=f'adding vhost {vhost}')

    def add_user(self, user: str, password: str, vhost: str = '/') -> None:
        """Create ``user`` (or reset its password) with all of ``vhost``.

        The password is an argument of rabbitmqctl; it is masked in the
        log and in error messages.
        """
        if user in self._names('list_users', 'user'):
            self.ctl('change_password', user, password,
                     what=f'setting the password of user {user}',
                     secret_args=(password,))
        else:
            self.ctl('add_user', user, password,
                     what=f'adding user {user}', secret_args=(password,))
        self.ctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*',
                 what=f'giving user {user} vhost {vhost}')

    def transport_url(self, user: str, password: str,
                      vhost: str = '/') -> str:
        """The oslo.messaging URL of ``user`` on ``vhost``.

        The default vhost ``/`` is an empty path, as oslo.messaging reads
        it; any other is quoted whole (``a/b`` becomes ``a%2Fb``).
        """
        quote = urllib.parse.quote
        host = f'[{self.host}]' if ':' in self.host else self.host
        path = '' if vhost == '/' else quote(vhost, safe='')
        return (f'rabbit://{quote(user, safe="")}:{quote(password, safe="")}'
                f'@{host}:{self.port}/{path}')


class RabbitMQService(service.Service):
    """The run's RabbitMQ, from the machine's binaries, for the whole run."""

    name = 'rabbitmq'
    title = 'RabbitMQ'
    port_options = ('rabbit_port', 'rabbit_dist_port', 'epmd_port')
    versioned = False

    def start(self, release=None, process=None, instance=None,
              bus=None) -> str:
        cloud, opts = self.cloud, self.cloud.opts
        self.server = processes.use(cloud, RabbitMQ(
            cloud.run_dir / 'rabbitmq', opts.rabbit_port,
            opts.rabbit_dist_port, opts.epmd_port, cloud.log_dir,
            host=cloud.host, start_timeout=opts.service_timeout))
        return f'rabbitmq on {cloud.host}:{opts.rabbit_port}'

    def stop(self, release=None, process=None, instance=None) -> str:
        raise exceptions.MiniCloudError(
            'RabbitMQ runs for the whole run (restart it instead)')
