"""Swift for the mini-cloud: proxy, account, container and object servers.

The real Swift of a series (PyPI; PyECLib's wheel carries its own
liberasurecode, so no Debian package is needed), each server a process of
its own on loopback, as Swift serves itself (eventlet WSGI servers, not
uwsgi). Everything lives under ``run_dir``: configuration (``swift_dir``,
so nothing is read from ``/etc/swift``), rings built at the first start
with ``swift-ring-builder`` (one replica, one device, one zone), and the
device directory, checked first for the user extended attributes Swift
keeps its object metadata in.

The proxy authenticates with Keystone (keystonemiddleware's authtoken and
Swift's keystoneauth, ``delay_auth_decision`` so that a temporary URL
needs no token) and has ``tempurl`` enabled: ``OS::Swift::Container`` and
``OS::Heat::SwiftSignalHandle`` work. An upgrade stops the four servers
and starts the new release's on the same rings and data; Swift has no
database migration.
"""

from concurrent import futures
import os
from pathlib import Path
import secrets
import socket

import fixtures

from heat_upgrade_tests import datafiles
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

SERVERS = ('object', 'container', 'account')
# Each server's ``main``, run after pointing Swift at the mini-cloud's
# swift.conf: Swift before 2.36 (2025.1's 2.35) validates
# /etc/swift/swift.conf before it reads ``swift_dir`` from the server's
# configuration, so its servers would not start from a work directory.
_MODULES = {'object': 'swift.obj.server',
            'container': 'swift.container.server',
            'account': 'swift.account.server',
            'proxy': 'swift.proxy.server'}
_SERVE = ('import sys; from swift.common import utils; '
          'utils.set_swift_dir(%r); from %s import main; sys.exit(main())')
SERVICE_USER = 'swift'
DEVICE = 'd1'
PART_POWER = 6
# Operators of an account: the roles Heat's member user holds.
OPERATOR_ROLES = 'admin,member'


def check_xattrs(directory: Path) -> None:
    """Fail in one line unless ``directory`` keeps user xattrs.

    Swift stores each object's metadata in ``user.swift.metadata``; on a
    filesystem without user extended attributes every PUT fails late.
    """
    probe = Path(directory) / '.xattr-probe'
    probe.write_bytes(b'')
    try:
        os.setxattr(probe, 'user.heat-upgrade-tests', b'1')
        if os.getxattr(probe, 'user.heat-upgrade-tests') != b'1':
            raise OSError('the attribute read back differs')
    except OSError as exc:
        raise exceptions.MiniCloudError(
            f'Swift needs user extended attributes, and {directory} has '
            f'none ({exc}); set [minicloud] work_dir on another filesystem')
    finally:
        probe.unlink()


def port_open(host: str, port: int, timeout: float = 2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Swift(fixtures.Fixture):
    """Swift's four servers of the release in ``venv``, on loopback."""

    def __init__(self, venv: Path, run_dir: Path, host: str,
                 ports: dict[str, int], auth_url: str, password: str,
                 log_dir: Path, start_timeout: float = 120):
        super().__init__()
        self.venv = Path(venv)
        self.run_dir = Path(run_dir)
        self.etc = self.run_dir / 'etc'
        self.devices = self.run_dir / 'node'
        self.host = host
        # proxy, object, container, account -> port
        self.ports = dict(ports)
        self.auth_url = auth_url
        self.password = password
        self.log_dir = Path(log_dir)
        self.start_timeout = start_timeout
        self.processes: list[processes.ManagedProcess] = []

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.ports["proxy"]}'

    @property
    def endpoint(self) -> str:
        return self.url + '/v1/AUTH_%(tenant_id)s'

    def _setUp(self) -> None:
        (self.devices / DEVICE).mkdir(parents=True, exist_ok=True)
        self.etc.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        check_xattrs(self.devices / DEVICE)
        self._write_config()
        self._build_rings()
        self.addCleanup(self.stop)
        self.start()

    def _write_config(self) -> None:
        suffix = secrets.token_hex(8)
        datafiles.write_private(self.etc / 'swift.conf', (
            '[swift-hash]\n'
            f'swift_hash_path_suffix = {suffix}\n'
            f'swift_hash_path_prefix = {secrets.token_hex(8)}\n\n'
            '[storage-policy:0]\nname = Policy-0\ndefault = yes\n'))
        common = (
            '[DEFAULT]\n'
            f'bind_ip = {self.host}\n'
            'workers = 1\n'
            # Whoever runs the mini-cloud; Swift would switch to 'swift'.
            f'user = {_user()}\n'
            f'swift_dir = {self.etc}\n'
            f'devices = {self.devices}\n'
            'mount_check = false\n'
            'log_level = INFO\n')
        for server in SERVERS:
            datafiles.write_private(self.etc / f'{server}-server.conf', (
                common + f'bind_port = {self.ports[server]}\n\n'
                f'[pipeline:main]\npipeline = {server}-server\n\n'
                f'[app:{server}-server]\nuse = egg:swift#{server}\n'))
        keystone_url = keystone.base_url(self.auth_url)
        datafiles.write_private(self.etc / 'proxy-server.conf', (
            common + f'bind_port = {self.ports["proxy"]}\n\n'
            '[pipeline:main]\n'
            'pipeline = catch_errors gatekeeper healthcheck proxy-logging '
            'listing_formats tempurl authtoken keystoneauth copy dlo '
            'versioned_writes proxy-logging proxy-server\n\n'
            '[app:proxy-server]\nuse = egg:swift#proxy\n'
            'account_autocreate = true\n\n'
            '[filter:catch_errors]\nuse = egg:swift#catch_errors\n\n'
            '[filter:gatekeeper]\nuse = egg:swift#gatekeeper\n\n'
            '[filter:healthcheck]\nuse = egg:swift#healthcheck\n\n'
            '[filter:proxy-logging]\nuse = egg:swift#proxy_logging\n\n'
            '[filter:listing_formats]\nuse = egg:swift#listing_formats\n\n'
            '[filter:tempurl]\nuse = egg:swift#tempurl\n\n'
            '[filter:copy]\nuse = egg:swift#copy\n\n'
            '[filter:dlo]\nuse = egg:swift#dlo\n\n'
            '[filter:versioned_writes]\n'
            'use = egg:swift#versioned_writes\n\n'
            '[filter:keystoneauth]\nuse = egg:swift#keystoneauth\n'
            f'operator_roles = {OPERATOR_ROLES}\n\n'
            '[filter:authtoken]\n'
            'paste.filter_factory = '
            'keystonemiddleware.auth_token:filter_factory\n'
            # Anonymous requests (a temporary URL) reach tempurl's check.
            'delay_auth_decision = true\n'
            f'www_authenticate_uri = {keystone_url}/v3\n'
            f'auth_url = {keystone_url}/v3\n'
            'auth_type = password\n'
            f'username = {SERVICE_USER}\n'
            f'password = {self.password}\n'
            f'project_name = {keystone.SERVICE_PROJECT}\n'
            'user_domain_id = default\nproject_domain_id = default\n'))

    def _build_rings(self) -> None:
        """The three rings, built side by side (each tool run is ~1 s)."""
        with futures.ThreadPoolExecutor(max_workers=len(SERVERS)) as pool:
            jobs = [pool.submit(self._build_ring, server)
                    for server in SERVERS]
        for job in jobs:
            job.result()

    def _build_ring(self, server: str) -> None:
        log = self.log_dir / f'swift-ring-builder-{server}.log'
        builder = self.venv / 'bin' / 'swift-ring-builder'
        path = self.etc / f'{server}.builder'
        if (self.etc / f'{server}.ring.gz').exists():
            return
        device = f'r1z1-{self.host}:{self.ports[server]}/{DEVICE}'
        for args in (['create', str(PART_POWER), '1', '1'],
                     ['add', device, '1'], ['rebalance']):
            processes.run([builder, path, *args], log,
                          f'swift-ring-builder {server} {args[0]}',
                          cwd=self.etc, timeout=60)

    def start(self) -> None:
        """Start the four servers of ``self.venv``; again after ``stop``."""
        if self.processes:
            return
        for server in (*SERVERS, 'proxy'):
            process = processes.ManagedProcess(
                f'swift-{server}-server',
                [self.venv / 'bin' / 'python', '-c', _SERVE % (
                    str(self.etc), _MODULES[server]),
                 self.etc / f'{server}-server.conf', '--verbose'],
                self.log_dir / f'swift-{server}.log')
            process.setUp()
            self.processes.append(process)
        for process, server in zip(self.processes, (*SERVERS, 'proxy')):
            port = self.ports[server]
            process.wait_ready(
                lambda p=port: port_open(self.host, p), self.start_timeout,
                f'swift-{server}-server to listen on {self.host}:{port}')
        processes.wait_until(
            lambda: keystone.http_ok(self.url + '/healthcheck'),
            self.start_timeout, f'swift\'s proxy to answer on {self.url}')

    def stop(self) -> None:
        """Stop the four servers (bounded); the cleanup does it anyway."""
        running, self.processes = self.processes, []
        processes.stop_all(running)


def _user() -> str:
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def register(auth_url: str, admin_password: str, password: str,
             endpoint: str, region: str = keystone.REGION) -> None:
    """The ``swift`` service user and the ``object-store`` endpoints."""
    keystone.register_service(
        auth_url, admin_password, SERVICE_USER, password, 'swift',
        'object-store', 'Swift Object Storage', endpoint, region)


class SwiftService(service.Service):
    """Swift's four servers; no database, the same rings and data."""

    name = 'swift'
    title = 'Swift'
    port_options = ('swift_proxy_port', 'swift_object_port',
                    'swift_container_port', 'swift_account_port')

    def start(self, release, process=None, instance=None, bus=None) -> str:
        cloud, opts = self.cloud, self.cloud.opts
        self.serve(release, lambda: Swift(
            release.venv, cloud.run_dir / 'swift', cloud.host,
            {'proxy': opts.swift_proxy_port,
             'object': opts.swift_object_port,
             'container': opts.swift_container_port,
             'account': opts.swift_account_port},
            cloud.auth_url, cloud.password('swift'), cloud.log_dir,
            start_timeout=opts.service_timeout))
        return f'swift at {self.url}'

    def register(self) -> None:
        cloud = self.cloud
        register(cloud.auth_url, cloud.password('admin'),
                 cloud.password('swift'), self.server.endpoint)

    @property
    def url(self) -> str:
        return self.server.url

    def running(self):
        return list(self.server.processes) if self.server else []
