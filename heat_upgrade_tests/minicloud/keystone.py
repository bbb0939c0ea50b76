"""Keystone for the mini-cloud, and what Heat needs registered in it.

Keystone 30 has no ``keystone-wsgi-public`` script any more: its WSGI
module is served with uwsgi (the ``pyuwsgi`` wheel, so nothing is
compiled) from Keystone's own venv. uwsgi needs ``Connection: close`` and a
larger buffer: without them clients that keep connections alive get
``ConnectionResetError(104)``.

Registering Heat (users, roles, domain, services, endpoints) runs in the
driver's own Python through openstacksdk, in one authenticated session: each
``openstack`` CLI call costs about 3 s here, and dozens are needed.
"""

from concurrent import futures
import grp
import os
from pathlib import Path
import pwd

import fixtures
import openstack
import requests
import yaml

from heat_upgrade_tests import datafiles
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

DEFAULT_DOMAIN = 'default'
REGION = 'RegionOne'
ADMIN_USER = 'admin'
ADMIN_PROJECT = 'admin'
SERVICE_PROJECT = 'service'
HEAT_USER = 'heat'
STACK_DOMAIN = 'heat'
STACK_DOMAIN_ADMIN = 'heat_domain_admin'
STACK_OWNER_ROLE = 'heat_stack_owner'
STACK_USER_ROLE = 'heat_stack_user'
MEMBER_ROLE = 'member'
# The non-admin owner of the checks' stacks.
MEMBER_PROJECT = 'heat-upgrade-tests'
MEMBER_USER = 'heat-upgrade-member'
INTERFACES = ('public', 'internal', 'admin')
# Seconds uwsgi gives a stopping worker (its default is 60): see uwsgi_argv.
WORKER_RELOAD_MERCY = 5


class Keystone(fixtures.Fixture):
    """A bootstrapped Keystone served by uwsgi on ``host:port``.

    Everything it writes stays under ``run_dir`` (configuration, fernet and
    credential keys) and ``log_dir``; the database must exist and be empty
    or hold an earlier Keystone schema.

    One uwsgi process by default: Keystone's cache lives in its memory
    (keystone.conf), and a second process would keep its own copy, which
    the first one's invalidations never reach.
    """

    def __init__(self, venv: Path, run_dir: Path, db_url: str, host: str,
                 port: int, admin_password: str, log_dir: Path,
                 start_timeout: float = 120, workers: int = 1):
        super().__init__()
        self.venv = Path(venv)
        self.run_dir = Path(run_dir)
        self.db_url = db_url
        self.host = host
        self.port = port
        self.admin_password = admin_password
        self.log_dir = Path(log_dir)
        self.start_timeout = start_timeout
        self.workers = workers
        self.conf_file = self.run_dir / 'keystone.conf'
        self.process: processes.ManagedProcess | None = None

    @property
    def auth_url(self) -> str:
        return f'http://{self.host}:{self.port}/v3'

    def _setUp(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        key_dirs = {name: self.run_dir / name for name in
                    ('fernet-keys', 'receipt-keys', 'credential-keys')}
        for path in key_dirs.values():
            path.mkdir(mode=0o700, exist_ok=True)
        datafiles.render_template('keystone.conf', self.conf_file, {
            'log_file': self.log_dir / 'keystone.log',
            'db_url': self.db_url,
            'fernet_keys': key_dirs['fernet-keys'],
            'receipt_keys': key_dirs['receipt-keys'],
            'credential_keys': key_dirs['credential-keys'],
        })
        # The keys' owner: whoever runs Keystone here (root on the CI).
        owner = ['--keystone-user', pwd.getpwuid(os.getuid()).pw_name,
                 '--keystone-group', grp.getgrgid(os.getgid()).gr_name]
        # The keys need no database: made while db_sync migrates it.
        with futures.ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [pool.submit(self._manage, 'db_sync'),
                    pool.submit(self._setup_keys, owner)]
        for job in jobs:
            job.result()
        # The password goes through the environment: run() logs argv.
        self._manage(
            'bootstrap',
            '--bootstrap-username', ADMIN_USER,
            '--bootstrap-project-name', ADMIN_PROJECT,
            '--bootstrap-role-name', 'admin',
            '--bootstrap-service-name', 'keystone',
            '--bootstrap-region-id', REGION,
            '--bootstrap-admin-url', self.auth_url,
            '--bootstrap-internal-url', self.auth_url,
            '--bootstrap-public-url', self.auth_url,
            env={'OS_BOOTSTRAP_PASSWORD': self.admin_password})
        self.start()

    def _setup_keys(self, owner: list[str]) -> None:
        self._manage('fernet_setup', *owner)
        self._manage('credential_setup', *owner)

    def start(self) -> None:
        """Serve the bootstrapped Keystone; again after ``stop``.

        Grenade stops Keystone with every other service before its no-api
        moment and starts it again when it upgrades it: the plans do the
        same, on the same database and keys.
        """
        if self.process is not None and self.process.running:
            return
        self.process = processes.use(self, processes.ManagedProcess(
            'keystone', self._uwsgi_argv(),
            self.log_dir / 'keystone-uwsgi.log',
            env={'OS_KEYSTONE_CONFIG_DIR': str(self.run_dir),
                 'OS_KEYSTONE_CONFIG_FILES': self.conf_file.name},
            term_leader_only=True))
        self.process.wait_ready(self._answers, self.start_timeout,
                                f'keystone to answer on {self.auth_url}')

    def db_sync(self, venv: Path) -> None:
        """Migrate the database with the keystone-manage of ``venv``.

        A service-by-service upgrade migrates Keystone's database with the
        new release while the old one is stopped; the new one then serves
        it (``start`` after setting ``venv``).
        """
        self._manage('db_sync', venv=Path(venv))

    def _manage(self, *args: str, env: dict[str, str] | None = None,
                venv: Path | None = None) -> None:
        processes.run(
            [(venv or self.venv) / 'bin' / 'keystone-manage',
             '--config-file', self.conf_file, *args],
            self.log_dir / 'keystone-manage.log',
            f'keystone-manage {args[0]}', env=env,
            timeout=self.start_timeout)

    def _uwsgi_argv(self) -> list[str]:
        return uwsgi_argv(self.venv, 'keystone.wsgi.api:application',
                          self.host, self.port, self.workers)

    def _answers(self) -> bool:
        return http_ok(self.auth_url)

    def stop(self) -> None:
        """Stop serving (bounded); the cleanup does it anyway."""
        if self.process is not None:
            self.process.stop()
            processes.wait_until(lambda: not self._answers(), 30,
                                 f'keystone to stop answering on '
                                 f'{self.auth_url}')


def uwsgi_argv(venv: Path, module: str, host: str, port: int,
               workers: int, pyargv: list[str] | None = None) -> list[str]:
    """The uwsgi command line serving a WSGI ``module`` from ``venv``.

    ``--die-on-term`` makes SIGTERM stop uwsgi (by default it reloads);
    the SIGTERM goes to the master alone (``term_leader_only``), which
    stops its workers gracefully, as devstack's systemd units do;
    ``--need-app`` makes it exit when the application cannot be loaded,
    instead of serving errors; ``--lazy-apps`` loads the application in
    each worker after the fork, so no database or message-bus connection
    is shared between processes.
    """
    argv = [str(Path(venv) / 'bin' / 'uwsgi'),
            '--http-socket', f'{host}:{port}',
            '--module', module,
            '--master', '--processes', str(workers), '--threads', '1',
            '--enable-threads', '--lazy-apps', '--need-app',
            '--die-on-term', '--exit-on-reload',
            # A stopping worker finishes its request and exits, but Python
            # then waits for the application's non-daemon threads (heat-api's
            # messaging): uwsgi kills it after this many seconds, not 60.
            '--worker-reload-mercy', str(WORKER_RELOAD_MERCY),
            '--add-header', 'Connection: close',
            '--buffer-size', '65535',
            '--hook-master-start', 'unix_signal:15 gracefully_kill_them_all']
    if pyargv:
        argv += ['--pyargv', ' '.join(pyargv)]
    return argv


def http_ok(url: str, timeout: float = 5) -> bool:
    """Whether a GET of ``url`` answers with a 2xx or 3xx status."""
    try:
        resp = requests.get(url, timeout=timeout,
                            headers={'Connection': 'close'})
    except requests.RequestException:
        return False
    return resp.status_code < 400


def admin_connection(auth_url: str, admin_password: str,
                     region: str = REGION) -> openstack.connection.Connection:
    """An openstacksdk connection as Keystone's bootstrap admin.

    It reads neither clouds.yaml nor ``OS_*`` variables, so a user's own
    configuration cannot redirect it to another cloud.
    """
    try:
        return openstack.connect(
            auth_url=auth_url, username=ADMIN_USER, password=admin_password,
            project_name=ADMIN_PROJECT, user_domain_id=DEFAULT_DOMAIN,
            project_domain_id=DEFAULT_DOMAIN, region_name=region,
            identity_api_version='3', load_yaml_config=False,
            load_envvars=False)
    except openstack.exceptions.SDKException as exc:
        raise exceptions.MiniCloudError(f'cannot reach keystone at '
                                        f'{auth_url}: {exc}')


def register_heat(auth_url: str, admin_password: str, heat_password: str,
                  domain_admin_password: str, heat_api_url: str,
                  heat_cfn_url: str, region: str = REGION) -> None:
    """Create in Keystone what Heat needs; safe to run again.

    The ``service`` project; the ``heat`` user with ``admin`` and
    ``service`` on it; the roles ``heat_stack_owner`` and
    ``heat_stack_user``; the ``heat`` domain for stack users, with
    ``heat_domain_admin`` holding ``admin`` on it; the ``orchestration``
    and ``cloudformation`` services and their endpoints. Existing objects
    are reused, passwords and endpoint URLs set to the values given.
    """
    conn = admin_connection(auth_url, admin_password, region)
    try:
        idp = conn.identity
        roles = _roles(idp, ['admin', 'service', STACK_OWNER_ROLE,
                             STACK_USER_ROLE])
        _service_user(idp, HEAT_USER, heat_password, roles)
        domain = _first(idp.domains(name=STACK_DOMAIN)) or idp.create_domain(
            name=STACK_DOMAIN, description='Users created by Heat stacks')
        domain_admin = _user(idp, STACK_DOMAIN_ADMIN, domain_admin_password,
                             domain.id)
        idp.assign_domain_role_to_user(domain, domain_admin, roles['admin'])
        _service(idp, 'heat', 'orchestration', 'Heat Orchestration API',
                 heat_api_url.rstrip('/') + '/v1/%(tenant_id)s', region)
        _service(idp, 'heat-cfn', 'cloudformation',
                 'Heat CloudFormation API',
                 heat_cfn_url.rstrip('/') + '/v1', region)
    except openstack.exceptions.SDKException as exc:
        raise exceptions.MiniCloudError(
            f'registering heat in keystone failed: {exc}')
    finally:
        conn.close()


def base_url(auth_url: str) -> str:
    """Keystone's URL without ``/v3``: what services' configs append to."""
    url = auth_url.rstrip('/')
    return url[:-len('/v3')] if url.endswith('/v3') else url


def register_service(auth_url: str, admin_password: str, user: str,
                     password: str, name: str, service_type: str,
                     description: str, url: str,
                     region: str = REGION) -> None:
    """A service user (``admin`` on ``service``) and the service's endpoints.

    What Swift and Neutron need to validate tokens, and what Heat needs to
    find them in the catalogue. Safe to run again.
    """
    conn = admin_connection(auth_url, admin_password, region)
    try:
        idp = conn.identity
        _service_user(idp, user, password, _roles(idp, ['admin', 'service']))
        _service(idp, name, service_type, description, url, region)
    except openstack.exceptions.SDKException as exc:
        raise exceptions.MiniCloudError(
            f'registering {name} in keystone failed: {exc}')
    finally:
        conn.close()


def create_member(auth_url: str, admin_password: str, project: str,
                  user: str, password: str) -> None:
    """Create a non-admin ``user`` with role ``member`` on ``project``.

    ``member`` is all Heat's default policy asks of a stack owner: the
    stack rules are ``role:member and project_id:%(project_id)s`` (reads:
    ``role:reader``, which Keystone's bootstrap makes ``member`` imply).
    ``heat_stack_owner`` is a leftover of older policies and not needed.
    ``OS::Keystone::*`` and some other resource types stay admin-only.
    Safe to run again.
    """
    conn = admin_connection(auth_url, admin_password)
    try:
        idp = conn.identity
        roles = _roles(idp, [MEMBER_ROLE])
        proj = _project(idp, project, DEFAULT_DOMAIN,
                        'Owner of the upgrade tests\' stacks')
        member = _user(idp, user, password, DEFAULT_DOMAIN, proj.id)
        idp.assign_project_role_to_user(proj, member, roles[MEMBER_ROLE])
    except openstack.exceptions.SDKException as exc:
        raise exceptions.MiniCloudError(
            f'creating user {user} in keystone failed: {exc}')
    finally:
        conn.close()


# Every Keystone request costs about 0.25 s here (no cache): list with
# filters rather than use find_*(), which tries a GET by ID first.

def _service_user(idp, user: str, password: str, roles: dict):
    """A service user with ``admin`` and ``service`` on ``service``."""
    project = _project(idp, SERVICE_PROJECT, DEFAULT_DOMAIN,
                       'Service users of the mini-cloud')
    account = _user(idp, user, password, DEFAULT_DOMAIN, project.id)
    for role_name in ('admin', 'service'):
        idp.assign_project_role_to_user(project, account, roles[role_name])
    return account


def _first(iterable):
    return next(iter(iterable), None)


def _roles(idp, names: list[str]) -> dict:
    """The roles called ``names``, created where missing."""
    found = {role.name: role for role in idp.roles()}
    for name in names:
        if name not in found:
            found[name] = idp.create_role(name=name)
    return found


def _project(idp, name: str, domain_id: str, description: str):
    found = _first(idp.projects(name=name, domain_id=domain_id))
    if found is not None:
        return found
    return idp.create_project(name=name, domain_id=domain_id,
                              description=description)


def _user(idp, name: str, password: str, domain_id: str,
          default_project_id: str | None = None):
    found = _first(idp.users(name=name, domain_id=domain_id))
    if found is not None:
        # Re-running with new passwords (a new run's secrets) must work.
        return idp.update_user(found, password=password, enabled=True)
    attrs = {'name': name, 'password': password, 'domain_id': domain_id}
    if default_project_id:
        attrs['default_project_id'] = default_project_id
    return idp.create_user(**attrs)


def _service(idp, name: str, service_type: str, description: str, url: str,
             region: str) -> None:
    service = _first(s for s in idp.services(type=service_type)
                     if s.name == name)
    if service is None:
        service = idp.create_service(name=name, type=service_type,
                                     description=description, enabled=True)
    existing = {ep.interface: ep for ep in idp.endpoints(
        service_id=service.id) if ep.region_id == region}
    for interface in INTERFACES:
        endpoint = existing.get(interface)
        if endpoint is None:
            idp.create_endpoint(service_id=service.id, interface=interface,
                                url=url, region_id=region, enabled=True)
        elif endpoint.url != url:
            idp.update_endpoint(endpoint, url=url)


def write_clouds_yaml(path: Path, auth_url: str,
                      entries: dict[str, dict]) -> None:
    """Write a clouds.yaml (mode 0600) with one cloud per entry.

    Each entry gives ``username``, ``password``, ``project_name`` and any
    other auth or cloud setting; the rest (Identity v3, region, the
    default domain) is filled in.
    """
    auth_keys = {'username', 'password', 'project_name', 'project_id',
                 'user_domain_name', 'user_domain_id', 'project_domain_name',
                 'project_domain_id', 'domain_name', 'domain_id',
                 'system_scope'}
    clouds = {}
    for name, entry in entries.items():
        auth = {'auth_url': auth_url, 'user_domain_id': DEFAULT_DOMAIN,
                'project_domain_id': DEFAULT_DOMAIN}
        cloud = {'region_name': REGION, 'identity_api_version': 3,
                 'interface': 'public'}
        for key, value in entry.items():
            (auth if key in auth_keys else cloud)[key] = value
        for scope in ('user_domain', 'project_domain'):
            if f'{scope}_name' in auth:
                auth.pop(f'{scope}_id', None)
        cloud['auth'] = auth
        clouds[name] = cloud
    datafiles.write_private(Path(path),
                            yaml.safe_dump({'clouds': clouds},
                                           default_flow_style=False))


class KeystoneService(service.Service):
    """Keystone: where every other service registers, first to start."""

    name = 'keystone'
    title = 'Keystone'
    migrate_tool = 'keystone-manage db_sync'
    port_options = ('keystone_port',)
    has_database = True

    def start(self, release, process=None, instance=None, bus=None) -> str:
        cloud = self.cloud
        self.serve(release, lambda: Keystone(
            release.venv, cloud.run_dir / 'keystone', self.db_url,
            cloud.host, cloud.opts.keystone_port, cloud.password('admin'),
            cloud.log_dir, start_timeout=cloud.opts.service_timeout))
        return f'keystone at {self.server.auth_url}'

    def migrate(self, release) -> str:
        self.server.db_sync(release.venv)
        return f'keystone {release.label}'

    def register(self) -> None:
        """The non-admin member who owns the checks' stacks."""
        cloud = self.cloud
        create_member(cloud.auth_url, cloud.password('admin'),
                      MEMBER_PROJECT, MEMBER_USER, cloud.password('member'))

    @property
    def url(self) -> str:
        return self.cloud.auth_url

    def running(self):
        process = self.server.process if self.server else None
        return [process] if process is not None else []
