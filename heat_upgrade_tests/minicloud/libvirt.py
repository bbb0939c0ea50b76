"""A private libvirt for one run: Debian's libvirtd and virtlogd.

Nova's compute driver talks to a libvirt daemon. The run starts its own,
so that a machine's system libvirt (its sockets in ``/run/libvirt``, its
domains, its ``/etc/libvirt``) is neither needed nor touched, and nothing
of the run is left behind.

What libvirt 9.0 lets a configuration file move: the daemon's sockets
(``unix_sock_dir``), its log (``log_outputs``) and pid file
(``--pid-file``). What it does not: a daemon run by root is "privileged",
and its qemu driver (``qemu:///system``) keeps compile-time paths, read
in libvirt's ``src/qemu/qemu_conf.c``: its state in ``/run/libvirt/qemu``,
``/var/lib/libvirt/qemu`` and ``/var/cache/libvirt/qemu``, the domains'
logs in ``/var/log/libvirt/qemu``, its configuration in
``/etc/libvirt/qemu.conf`` (and the domains, networks, pools and secrets
that start with it under ``/etc/libvirt``); virtlogd listens on
``/run/libvirt/virtlogd-sock`` whatever its configuration says, and the
qemu driver looks for it there (``src/logging/log_manager.c``). The qemu
driver also refuses to start unless the account ``libvirt-qemu`` exists
(created by ``libvirt-daemon-system``, which also starts a system
libvirtd). Only the embedded driver (``qemu:///embed?root=DIR``) takes a
root directory, and it runs inside its client's process: no use to Nova,
whose guests must outlive nova-compute. ``qemu:///session`` (paths under
``$XDG_*``) needs a daemon run by another user than root, whose guests
get no tap device or Open vSwitch port (libvirt needs ``CAP_NET_ADMIN``
for them), and Nova runs as root here.

So each daemon runs in a mount namespace of its own (util-linux's
``unshare``), where those directories are bind mounts of directories of
the run: the same files for both daemons and for the QEMU processes they
start (libvirt's own paths, short enough for a socket), unseen outside.
Where the host has no ``libvirt-qemu`` account, the namespace sees copies
of ``/etc/passwd`` and ``/etc/group`` that have one (QEMU runs as root
anyway). The clients (virsh, Nova) reach the daemon through its socket in
the run's directory: ``qemu:///system?socket=PATH``.

Two things a privileged libvirt shares with the host are turned off:
cgroups (``cgroup_controllers = [ ]``: libvirt would put each guest in
``/sys/fs/cgroup/*/machine/qemu-ID-NAME.libvirt-qemu``, and two daemons
number and Nova names their domains alike) and the D-Bus system bus
(systemd-machined would register each guest under that same host-wide
name; firewalld and polkit are not wanted either). So this libvirt runs
beside a system libvirt, or another run's, sharing nothing but the
kernel: ``/dev/kvm``, the guests' tap devices, the CPU and memory
(``doc/source/libvirt.rst``). The fixture refuses to start only beside a
daemon still running on its own directory (left by a run that was
killed), naming its pid and socket.
"""

from collections.abc import Sequence
import grp
import os
from pathlib import Path
import pwd
import signal
import socket
import time
from typing import NamedTuple
import urllib.parse

import fixtures

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import mountns
from heat_upgrade_tests.minicloud import ovn
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

# A Unix socket path longer than this (108 bytes with the final NUL on
# Linux) is cut and the daemon cannot listen on it.
_MAX_SOCKET_PATH = 107
# The longest name libvirtd gives a socket in unix_sock_dir.
_LONGEST_SOCKET = 'libvirt-admin-sock'

# The compile-time directories of a privileged libvirt (Debian's build:
# sysconfdir /etc, localstatedir /var, runstatedir /run).
ETC_DIR = Path('/etc/libvirt')
RUN_DIR = Path('/run/libvirt')
LIB_DIR = Path('/var/lib/libvirt')
CACHE_DIR = Path('/var/cache/libvirt')
LOG_DIR = Path('/var/log/libvirt')

# libvirt's daemons, as /proc/PID/comm names them.
DAEMONS = ('libvirtd', 'virtlogd', 'virtqemud')

# The account the qemu driver looks up at start (Debian's qemu_user and
# qemu_group), and a line for each in the namespace's copies.
QEMU_ACCOUNT = 'libvirt-qemu'

# Guests' TCP ports (consoles, their websockets, migrations): below
# 32768, as the ephemeral range is taken by outgoing connections
# (FIELD-NOTES), beside the mini-cloud's services (23000-29999) and away
# from a system libvirt's (5700 and 5900 upwards, 49152-49215).
DISPLAY_PORTS = (21900, 22899)
WEBSOCKET_PORTS = (21700, 21899)
MIGRATION_PORTS = (22900, 22999)

START_TIMEOUT = 90
STOP_TIMEOUT = 30
VIRSH_TIMEOUT = 60
# A guest destroyed at the end of a run, or its QEMU killed.
GUEST_END_TIMEOUT = 30


class Paths(NamedTuple):
    """Where the run's libvirt keeps everything, under two directories."""

    base: Path
    logs: Path

    @property
    def etc(self) -> Path:
        return self.base / 'etc'

    @property
    def run(self) -> Path:
        return self.base / 'run'

    @property
    def lib(self) -> Path:
        return self.base / 'lib'

    @property
    def cache(self) -> Path:
        return self.base / 'cache'

    @property
    def domain_logs(self) -> Path:
        """What the daemons see as /var/log/libvirt (qemu/NAME.log)."""
        return self.logs / 'libvirt'

    @property
    def sockets(self) -> Path:
        """``unix_sock_dir``: outside the namespace, so clients reach it."""
        return self.base / 'sock'

    @property
    def libvirtd_conf(self) -> Path:
        return self.base / 'libvirtd.conf'

    @property
    def virtlogd_conf(self) -> Path:
        return self.base / 'virtlogd.conf'

    @property
    def qemu_conf(self) -> Path:
        return self.etc / 'qemu.conf'

    @property
    def libvirtd_pid(self) -> Path:
        return self.base / 'libvirtd.pid'

    @property
    def virtlogd_pid(self) -> Path:
        return self.base / 'virtlogd.pid'

    @property
    def libvirtd_log(self) -> Path:
        return self.logs / 'libvirtd.log'

    @property
    def virtlogd_log(self) -> Path:
        return self.logs / 'virtlogd.log'

    @property
    def virsh_log(self) -> Path:
        return self.logs / 'virsh.log'

    @property
    def no_system_bus(self) -> Path:
        """Where libvirtd looks for the D-Bus system bus: nothing, ever."""
        return self.base / 'no-system-bus'

    @property
    def passwd(self) -> Path:
        return self.base / 'passwd'

    @property
    def group(self) -> Path:
        return self.base / 'group'

    @property
    def socket(self) -> Path:
        """libvirtd's read-write socket: what the URI names."""
        return self.sockets / 'libvirt-sock'

    @property
    def virtlogd_socket(self) -> Path:
        """virtlogd's socket, at /run/libvirt/virtlogd-sock inside."""
        return self.run / 'virtlogd-sock'

    @property
    def guest_pid_files(self) -> Path:
        """The qemu driver's pid file per running domain (NAME.pid)."""
        return self.run / 'qemu'


def connection_uri(socket_path: Path) -> str:
    """The URI of the privileged qemu driver through ``socket_path``.

    What Nova's ``[libvirt] connection_uri`` and ``virsh -c`` take. The
    ``socket`` parameter makes libvirt's client connect there instead of
    ``/run/libvirt/libvirt-sock``.
    """
    return ('qemu:///system?socket='
            + urllib.parse.quote(str(socket_path), safe='/'))


def _quoted(value: Path | str) -> str:
    # libvirt's configuration strings have no escapes.
    text = str(value)
    if any(c in text for c in '"\\\n'):
        raise exceptions.MiniCloudError(
            f'libvirt cannot take the path {text!r} in its configuration; '
            f'choose a [minicloud] work_dir without quotes or backslashes')
    return f'"{text}"'


def libvirtd_conf(paths: Paths) -> str:
    """libvirtd.conf: its sockets, its log, nothing on the network.

    Sockets for root only and without authentication (Nova runs as root
    here); no TCP or TLS listener; no audit records in the host's audit
    log.
    """
    return '\n'.join([
        f'unix_sock_dir = {_quoted(paths.sockets)}',
        'unix_sock_ro_perms = "0700"',
        'unix_sock_rw_perms = "0700"',
        'unix_sock_admin_perms = "0700"',
        'auth_unix_ro = "none"',
        'auth_unix_rw = "none"',
        'listen_tls = 0',
        'listen_tcp = 0',
        'audit_level = 0',
        f'log_outputs = {_quoted(f"3:file:{paths.libvirtd_log}")}',
        '',
    ])


def virtlogd_conf(paths: Paths) -> str:
    """virtlogd.conf: only its own log can be set (its socket cannot)."""
    return f'log_outputs = {_quoted(f"3:file:{paths.virtlogd_log}")}\n'


def qemu_conf() -> str:
    """qemu.conf, seen by the daemon as /etc/libvirt/qemu.conf.

    QEMU runs as root: the run's files (kernels, disks) are under root's
    home, which another account cannot enter, and so libvirt has nothing
    to chown (``dynamic_ownership``). No security driver: AppArmor
    profiles would be loaded into the host's kernel and written to
    ``/etc/apparmor.d``. No cgroups: their names are host-wide (the
    module's docstring); Nova sets no CPU shares by default, so only
    flavors with ``quota:*`` extra specs would need them. Guests' logs go
    through virtlogd, as on a deployed compute node. Guests' ports stay
    below 32768.
    """
    return '\n'.join([
        'user = "root"',
        'group = "root"',
        'dynamic_ownership = 0',
        'remember_owner = 0',
        'security_driver = "none"',
        'cgroup_controllers = [ ]',
        'stdio_handler = "logd"',
        f'remote_display_port_min = {DISPLAY_PORTS[0]}',
        f'remote_display_port_max = {DISPLAY_PORTS[1]}',
        f'remote_websocket_port_min = {WEBSOCKET_PORTS[0]}',
        f'remote_websocket_port_max = {WEBSOCKET_PORTS[1]}',
        f'migration_port_min = {MIGRATION_PORTS[0]}',
        f'migration_port_max = {MIGRATION_PORTS[1]}',
        '',
    ])


def libvirtd_env(paths: Paths,
                 ovs_rundir: Path | None = None) -> dict[str, str]:
    """libvirtd's environment beyond the run's.

    The D-Bus system bus is an address where nothing listens: libvirt
    then registers no guest with systemd-machined (host-wide names) and
    asks neither firewalld nor polkit anything. A guest interface with
    ``<virtualport type='openvswitch'>`` makes libvirtd run ``ovs-vsctl``
    itself, with no ``--db``: it finds the database at
    ``$OVS_RUNDIR/db.sock`` (``/run/openvswitch`` by default), so a run's
    private Open vSwitch is named here.
    """
    env = {'DBUS_SYSTEM_BUS_ADDRESS': f'unix:path={paths.no_system_bus}'}
    if ovs_rundir is not None:
        env['OVS_RUNDIR'] = str(ovs_rundir)
    return env


def namespace_mounts(paths: Paths, accounts: bool) -> list[tuple[Path, Path]]:
    """(source under the run, target the daemons see), in mount order.

    ``accounts``: also the copies of /etc/passwd and /etc/group that hold
    the ``libvirt-qemu`` account.
    """
    mounts = [(paths.etc, ETC_DIR), (paths.run, RUN_DIR),
              (paths.lib, LIB_DIR), (paths.cache, CACHE_DIR),
              (paths.domain_logs, LOG_DIR)]
    if accounts:
        mounts += [(paths.passwd, Path('/etc/passwd')),
                   (paths.group, Path('/etc/group'))]
    return mounts


def with_qemu_account(passwd: str, group: str) -> tuple[str, str]:
    """/etc/passwd and /etc/group texts with a ``libvirt-qemu`` line each.

    Its id is the highest free system id (below 1000) in both files;
    nothing runs or owns a file under it.
    """
    used = {int(f[2]) for text in (passwd, group)
            for f in (line.split(':') for line in text.splitlines())
            if len(f) > 2 and f[2].isdigit()}
    free = next((i for i in range(999, 99, -1) if i not in used), None)
    if free is None:
        raise exceptions.MiniCloudError(
            f'no free system id for a private {QEMU_ACCOUNT} account')
    passwd = passwd if passwd.endswith('\n') or not passwd else passwd + '\n'
    group = group if group.endswith('\n') or not group else group + '\n'
    return (passwd + f'{QEMU_ACCOUNT}:x:{free}:{free}:the run\'s libvirt, '
            f'unused:/nonexistent:/usr/sbin/nologin\n',
            group + f'{QEMU_ACCOUNT}:x:{free}:\n')


def _account_missing() -> bool:
    try:
        pwd.getpwnam(QEMU_ACCOUNT)
        grp.getgrnam(QEMU_ACCOUNT)
    except KeyError:
        return True
    return False


class Daemon(NamedTuple):
    """A libvirt daemon found running: what a refusal names."""

    name: str
    pid: int
    sockets: tuple[str, ...]
    argv: tuple[str, ...]

    def __str__(self) -> str:
        # Its clients' socket; the read-only and admin ones say no more.
        main = [s for s in self.sockets
                if not s.endswith(('-sock-ro', '-admin-sock'))]
        where = ', '.join(main or self.sockets) or 'none seen'
        return f'{self.name} (pid {self.pid}, socket {where})'


def listening_unix_sockets(pid: int, proc: Path = Path('/proc')
                           ) -> tuple[str, ...]:
    """The paths of the Unix sockets process ``pid`` listens on.

    Its descriptors (``socket:[INODE]``) matched with its network
    namespace's ``net/unix`` (flag ``__SO_ACCEPTCON``, 0x10000: listening).
    Paths are as the process named them, in its own mount namespace.
    """
    inodes = set()
    try:
        for fd in (proc / str(pid) / 'fd').iterdir():
            target = os.readlink(fd)
            if target.startswith('socket:['):
                inodes.add(target[len('socket:['):-1])
        table = (proc / str(pid) / 'net' / 'unix').read_text()
    except OSError:
        return ()
    found = []
    for line in table.splitlines()[1:]:
        fields = line.split()
        if (len(fields) >= 8 and fields[6] in inodes
                and int(fields[3], 16) & 0x10000):
            found.append(fields[7])
    return tuple(sorted(set(found)))


def running_daemons(proc: Path = Path('/proc')) -> list[Daemon]:
    """The libvirtd, virtlogd and virtqemud processes running."""
    daemons = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / 'comm').read_text().strip()
            argv = (entry / 'cmdline').read_bytes()
        except OSError:
            continue
        if name in DAEMONS:
            pid = int(entry.name)
            daemons.append(Daemon(
                name, pid, listening_unix_sockets(pid, proc),
                tuple(a.decode(errors='replace')
                      for a in argv.split(b'\0') if a)))
    return sorted(daemons, key=lambda d: d.pid)


def refusal(daemons: Sequence[Daemon], paths: Paths) -> str | None:
    """Why the run's libvirt must not start; None: it may.

    Only daemons still running on the same directory (their command line
    names its configuration files: left by a run that was killed) stand
    in the way: two daemons on one state directory would each take the
    other's guests for their own. Any other libvirt daemon, a system
    libvirtd or another run's, shares nothing with this one.
    """
    configs = {str(paths.libvirtd_conf), str(paths.virtlogd_conf)}
    left = [str(d) for d in daemons if configs & set(d.argv)]
    if not left:
        return None
    return (f'{"; ".join(left)} still runs on {paths.base}, left by an '
            f'earlier run: stop it, or choose another [minicloud] work_dir')


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
    except OSError:
        return False
    return True


def virsh(uri: str, *args: str, log_file: Path,
          timeout: float = VIRSH_TIMEOUT) -> str:
    """``virsh -c URI ARGS``, bounded; its output. Fails in one line."""
    return processes.run([packages.VIRSH, '-c', uri, *args], log_file,
                         f'virsh {" ".join(args)}', timeout=timeout)


class Libvirt(fixtures.Fixture):
    """The run's libvirtd and virtlogd under ``base_dir``, stopped on cleanup.

    Ready once ``virsh -c URI version`` names the hypervisor. Cleanup
    stops both daemons (SIGTERM together, SIGKILL after ``stop_timeout``)
    and removes what the start left on the host (the empty mount points
    it made), unless guests still run: they are their caller's to
    destroy, and outlive the daemons (QEMU is not in a daemon's process
    group), as on a compute node whose libvirt restarts; a fixture
    started again on the same directory finds them. The configuration,
    state and logs are kept under ``base_dir`` and ``log_dir``.
    """

    def __init__(self, base_dir: Path, log_dir: Path,
                 start_timeout: float = START_TIMEOUT,
                 stop_timeout: float = STOP_TIMEOUT,
                 ovs_rundir: Path | None = None):
        super().__init__()
        self.paths = Paths(Path(base_dir), Path(log_dir))
        self.ovs_rundir = ovs_rundir
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.libvirtd: processes.ManagedProcess | None = None
        self.virtlogd: processes.ManagedProcess | None = None
        self.start_seconds: float | None = None
        self.stop_seconds: float | None = None
        self._targets: list[Path] = []

    @property
    def connection_uri(self) -> str:
        """The URI Nova's ``[libvirt] connection_uri`` must be."""
        return connection_uri(self.paths.socket)

    def virsh(self, *args: str, timeout: float = VIRSH_TIMEOUT) -> str:
        """``virsh`` bound to this libvirt; its output (log: virsh.log)."""
        return virsh(self.connection_uri, *args,
                     log_file=self.paths.virsh_log, timeout=timeout)

    def _setUp(self) -> None:
        paths = self.paths
        started = time.monotonic()
        longest = paths.sockets / _LONGEST_SOCKET
        if len(str(longest)) > _MAX_SOCKET_PATH:
            raise exceptions.MiniCloudError(
                f'the libvirt socket path {longest} is longer than '
                f'{_MAX_SOCKET_PATH} characters; choose a shorter '
                f'[minicloud] work_dir')
        missing = packages.missing_packages(packages.LIBVIRT_BINARIES)
        if missing:
            raise exceptions.MiniCloudError(
                f'the run\'s libvirt needs the Debian packages '
                f'{" ".join(missing)}; install them (as root: apt-get '
                f'install --no-install-recommends {" ".join(missing)})')
        why = refusal(running_daemons(), paths)
        if why:
            raise exceptions.MiniCloudError(why)
        accounts = _account_missing()
        self._write_files(accounts)
        mounts = namespace_mounts(paths, accounts)
        # Cleanups run in reverse: the daemons stop (together: stop_all,
        # which cleans each up), then the host's traces go. Guests outlive
        # them, as a hypervisor's outlive a restart of libvirt; the run
        # ends its own (LibvirtService).
        self.addCleanup(self._remove_host_traces)
        self.addCleanup(self.stop)
        self._targets = [target for _source, target in mounts]
        mountns.make_mount_points(self._targets)

        self.virtlogd = _started(processes.ManagedProcess(
            'virtlogd', mountns.namespace_argv(mounts, [
                packages.VIRTLOGD, '--config', paths.virtlogd_conf,
                '--pid-file', paths.virtlogd_pid]),
            paths.virtlogd_log, cwd=paths.base,
            stop_timeout=self.stop_timeout))
        self.virtlogd.wait_ready(
            lambda: _answers(paths.virtlogd_socket), self.start_timeout,
            f'virtlogd to listen on {paths.virtlogd_socket}')

        self.libvirtd = _started(processes.ManagedProcess(
            'libvirtd', mountns.namespace_argv(mounts, [
                packages.LIBVIRTD, '--config', paths.libvirtd_conf,
                '--pid-file', paths.libvirtd_pid]),
            paths.libvirtd_log, env=libvirtd_env(paths, self.ovs_rundir),
            cwd=paths.base, stop_timeout=self.stop_timeout))
        self.libvirtd.wait_ready(
            self._answers, self.start_timeout,
            f'libvirtd to answer virsh version on {paths.socket}')
        self.start_seconds = time.monotonic() - started

    def _write_files(self, accounts: bool) -> None:
        paths = self.paths
        for path in (paths.etc, paths.run, paths.lib, paths.cache,
                     paths.domain_logs, paths.sockets):
            path.mkdir(parents=True, exist_ok=True)
        # What a daemon killed earlier left: a new one must make its own,
        # and no wait may take an old one for it.
        for stale in [*paths.sockets.glob('*-sock*'),
                      *paths.run.glob('virtlogd*-sock')]:
            stale.unlink(missing_ok=True)
        paths.libvirtd_conf.write_text(libvirtd_conf(paths))
        paths.virtlogd_conf.write_text(virtlogd_conf(paths))
        paths.qemu_conf.write_text(qemu_conf())
        if accounts:
            passwd, group = with_qemu_account(
                Path('/etc/passwd').read_text(),
                Path('/etc/group').read_text())
            paths.passwd.write_text(passwd)
            paths.group.write_text(group)

    def _answers(self) -> bool:
        try:
            out = self.virsh('version', timeout=10)
        except exceptions.UpgradeTestError:
            return False
        return 'Running hypervisor' in out

    def pids(self) -> list[int]:
        """The daemons' pids (running ones)."""
        return [p.popen.pid for p in (self.libvirtd, self.virtlogd)
                if p is not None and p.running and p.popen is not None]

    def guest_pids(self) -> dict[str, int]:
        """Running guests: domain name -> QEMU pid.

        Read from the qemu driver's pid files, so it answers whether or
        not the daemons run.
        """
        guests = {}
        for pid_file in sorted(self.paths.guest_pid_files.glob('*.pid')):
            if pid_file.name == 'driver.pid':
                continue
            try:
                pid = int(pid_file.read_text().strip())
            except (OSError, ValueError):
                continue
            if _alive(pid):
                guests[pid_file.stem] = pid
        return guests

    def end_guests(self) -> None:
        """Destroy the run's guests, bounded; kill the QEMU left.

        For the end of the run: nothing of it may keep running. Each is
        destroyed through libvirt while it answers; a QEMU still running
        after that (libvirt killed, or stuck) gets SIGKILL.
        """
        for name in self.guest_pids():
            if self.libvirtd is None or not self.libvirtd.running:
                break
            try:
                self.virsh('destroy', name, timeout=GUEST_END_TIMEOUT)
            except exceptions.UpgradeTestError:
                pass  # killed below
        self._kill_guests()

    def _kill_guests(self) -> None:
        left = list(self.guest_pids().values())
        kill_qemu(left, GUEST_END_TIMEOUT, f'the guests\' QEMU (pids '
                  f'{", ".join(map(str, left))}) to exit after SIGKILL')

    def stop(self) -> None:
        """Stop both daemons, bounded; guests keep running."""
        running = [p for p in (self.libvirtd, self.virtlogd)
                   if p is not None]
        self.libvirtd = self.virtlogd = None
        if not running:
            return
        started = time.monotonic()
        processes.stop_all(running)
        self.stop_seconds = time.monotonic() - started

    def _remove_host_traces(self) -> None:
        # Sockets of daemons that had to be killed.
        for stale in [*self.paths.sockets.glob('*-sock*'),
                      *self.paths.run.glob('virtlogd*-sock')]:
            stale.unlink(missing_ok=True)
        if self.guest_pids():
            return
        mountns.remove_mount_points(self._targets)


def kill_qemu(pids: Sequence[int], timeout: float, what: str,
              interval: float = 0.2) -> None:
    """SIGKILL each QEMU of ``pids``, then wait (bounded) until all ended.

    For guests libvirt could not end (stuck, or no longer running).
    """
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if pids:
        processes.wait_until(lambda: not any(_alive(pid) for pid in pids),
                             timeout, what, interval=interval)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not reaped, does not)."""
    try:
        stat = Path(f'/proc/{pid}/stat').read_text()
    except OSError:
        return False
    return stat.rpartition(')')[2].split()[:1] != ['Z']


def _started(process: processes.ManagedProcess
             ) -> processes.ManagedProcess:
    """``process.setUp()``, its first error raised as it was.

    Not ``processes.use``: the fixture stops its daemons together
    (``stop_all``, which cleans each up) rather than one after the
    other through its own cleanups.
    """
    try:
        process.setUp()
    except fixtures.MultipleExceptions as exc:
        error = exc.args[0]
        raise error[1].with_traceback(error[2])
    return process


class LibvirtService(service.Service):
    """The run's libvirt, for the whole run (compute part).

    Never stopped by a plan: its guests run through every moment of the
    upgrade, as grenade leaves the hypervisor running. It finds the run's
    Open vSwitch through ``OVS_RUNDIR`` (libvirt plugs ports without
    telling ``ovs-vsctl`` a database).
    """

    name = 'libvirt'
    title = 'libvirt'
    versioned = False
    compute = True

    def start(self, release=None, process=None, instance=None,
              bus=None) -> str:
        cloud = self.cloud
        switch = ovn.Layout(Path(cloud.run_dir / 'ovn').absolute(),
                            Path(cloud.log_dir).absolute(), cloud.host,
                            None, None)
        self.server = processes.use(cloud, Libvirt(
            cloud.run_dir / 'libvirt', cloud.log_dir,
            ovs_rundir=switch.run_dir))
        # Before libvirt stops: the run's guests end with the run.
        cloud.addCleanup(self.server.end_guests)
        return f'libvirt at {self.server.connection_uri}'

    def stop(self, release=None, process=None, instance=None) -> str:
        raise exceptions.MiniCloudError(
            'libvirt runs for the whole run, as grenade leaves the '
            'hypervisor running')

    def running(self):
        server = self.server
        return [p for p in (server.libvirtd, server.virtlogd)
                if p is not None] if server else []
