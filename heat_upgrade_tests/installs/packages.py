"""The system binaries the mini-cloud runs, and the packages that hold them.

MariaDB and RabbitMQ come from Debian, not PyPI. The paths are absolute
because the usual entry points are no use here: ``/usr/sbin/rabbitmq-server``
and ``/usr/sbin/rabbitmqctl`` are a wrapper that switches to the
``rabbitmq`` user and drops the environment which points the private
instance at its own files and ports.

``mariadb-server-core`` is chosen over ``mariadb-server`` because it brings
``mariadbd`` and ``mariadb-install-db`` without a system service that an
init system would start; ``mariadb-install-db`` cannot run without
``my_print_defaults``, which is in ``mariadb-client-core`` (no service
either). ``rabbitmq-server`` has no such split: where an
init system runs, installing it may start a system broker. The mini-cloud
never uses or stops that broker; its own instance has its own ports and
its own epmd.

Open vSwitch and OVN (``NETWORK_BINARIES``) are a table of their own,
installed only by what runs them (the compute part of the mini-cloud), so
a run without compute does not pull them. ``ovs-vswitchd`` is taken from
``/usr/lib/openvswitch-switch``, not from ``/usr/sbin``: the latter is an
alternatives link that may point at the DPDK build. ``ip`` and ``ping``
are the data-plane probes (a network namespace on a port of OVN, and what
it answers).

The guest image (``guest``) is built with host tools too, in tables of
their own: ``GUEST_BUILD_BINARIES`` (the FAT disk, written and made
bootable without a mount) and ``GUEST_BOOT_BINARIES`` (what boots a guest
outside Nova, and makes a config drive as Nova does). ``syslinux``'s
installer writes ``ldlinux.sys`` and ``ldlinux.c32`` itself, so
``syslinux-common`` (only recommended by it) is not needed for a BIOS
boot. The guest's own packages (the kernel, ``busybox-static``) are never
installed on the host: ``guest`` downloads and unpacks them.

libvirt (``LIBVIRT_BINARIES``) is a table of its own, installed only by
what runs guests, so a run without compute does not pull QEMU. Its
packages are the ones without a system service: ``libvirt-daemon``
(``libvirtd``, ``virtlogd`` and, as a dependency, the qemu driver) and
``libvirt-clients`` (``virsh``), never ``libvirt-daemon-system``, whose
install starts a system libvirtd where an init system runs (and creates
the ``libvirt-qemu`` account: ``minicloud.libvirt`` says how the run does
without it). ``unshare`` and ``mount`` make the run's libvirt private
(a mount namespace of its own); Debian installs them everywhere.

Nova (``NOVA_BINARIES``) needs ``qemu-img`` (a server's disk on its
image) and ``genisoimage`` (its config drive) at run time, and, to build
its venv, what compiles ``libvirt-python`` against the machine's libvirt:
the libvirt headers, ``pkg-config``, a C compiler and Python's headers
(``python3-dev`` for Debian's Python; another Python brings its own).
"""

from collections.abc import Mapping
import os
from pathlib import Path
import shutil
import sysconfig

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import processes

MARIADBD = '/usr/sbin/mariadbd'
MARIADB_INSTALL_DB = '/usr/bin/mariadb-install-db'
MY_PRINT_DEFAULTS = '/usr/bin/my_print_defaults'
MARIADB_CLIENT = '/usr/bin/mariadb'
MARIADB_DUMP = '/usr/bin/mariadb-dump'
RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl'
EPMD = '/usr/bin/epmd'

OVSDB_SERVER = '/usr/sbin/ovsdb-server'
OVSDB_TOOL = '/usr/bin/ovsdb-tool'
OVS_APPCTL = '/usr/bin/ovs-appctl'
OVS_VSCTL = '/usr/bin/ovs-vsctl'
OVS_VSWITCHD = '/usr/lib/openvswitch-switch/ovs-vswitchd'
OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'
OVN_NORTHD = '/usr/bin/ovn-northd'
OVN_NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema'
OVN_SB_SCHEMA = '/usr/share/ovn/ovn-sb.ovsschema'
OVN_CONTROLLER = '/usr/bin/ovn-controller'
OVN_NBCTL = '/usr/bin/ovn-nbctl'
OVN_SBCTL = '/usr/bin/ovn-sbctl'
OVN_APPCTL = '/usr/bin/ovn-appctl'
IP = '/usr/sbin/ip'
PING = '/usr/bin/ping'
LIBVIRTD = '/usr/sbin/libvirtd'
VIRTLOGD = '/usr/sbin/virtlogd'
VIRSH = '/usr/bin/virsh'
UNSHARE = '/usr/bin/unshare'
MOUNT = '/usr/bin/mount'

# Binary -> Debian package that installs it. epmd comes from erlang-base,
# which rabbitmq-server depends on.
BINARIES = {
    MARIADBD: 'mariadb-server-core',
    MARIADB_INSTALL_DB: 'mariadb-server-core',
    MY_PRINT_DEFAULTS: 'mariadb-client-core',
    MARIADB_CLIENT: 'mariadb-client-core',
    MARIADB_DUMP: 'mariadb-client',
    RABBITMQ_SERVER: 'rabbitmq-server',
    RABBITMQCTL: 'rabbitmq-server',
    EPMD: 'erlang-base',
}

# The same for Open vSwitch and OVN (a schema is a file to read, not to
# run, but is looked for the same way). Debian 12 ships OVS 3.1 and OVN
# 23.03.
NETWORK_BINARIES = {
    OVSDB_SERVER: 'openvswitch-common',
    OVSDB_TOOL: 'openvswitch-common',
    OVS_APPCTL: 'openvswitch-common',
    OVS_VSCTL: 'openvswitch-switch',
    OVS_VSWITCHD: 'openvswitch-switch',
    OVS_SCHEMA: 'openvswitch-switch',
    OVN_NORTHD: 'ovn-central',
    OVN_NB_SCHEMA: 'ovn-central',
    OVN_SB_SCHEMA: 'ovn-central',
    OVN_CONTROLLER: 'ovn-host',
    OVN_NBCTL: 'ovn-common',
    OVN_SBCTL: 'ovn-common',
    OVN_APPCTL: 'ovn-common',
    IP: 'iproute2',
    PING: 'iputils-ping',
}

SYSLINUX = '/usr/bin/syslinux'
MCOPY = '/usr/bin/mcopy'
MKFS_FAT = '/sbin/mkfs.fat'
QEMU_X86 = '/usr/bin/qemu-system-x86_64'
GENISOIMAGE = '/usr/bin/genisoimage'

GUEST_BUILD_BINARIES = {
    SYSLINUX: 'syslinux',
    MCOPY: 'mtools',
    MKFS_FAT: 'dosfstools',
}
GUEST_BOOT_BINARIES = {
    QEMU_X86: 'qemu-system-x86',
    GENISOIMAGE: 'genisoimage',
}

# The same for the run's private libvirt (minicloud/libvirt.py).
LIBVIRT_BINARIES = {
    LIBVIRTD: 'libvirt-daemon',
    VIRTLOGD: 'libvirt-daemon',
    VIRSH: 'libvirt-clients',
    QEMU_X86: 'qemu-system-x86',
    UNSHARE: 'util-linux',
    MOUNT: 'mount',
}

QEMU_IMG = '/usr/bin/qemu-img'
LIBVIRT_HEADER = '/usr/include/libvirt/libvirt.h'
PKG_CONFIG = '/usr/bin/pkg-config'
CC = '/usr/bin/gcc'
PYTHON_HEADER = str(Path(sysconfig.get_paths()['include']) / 'Python.h')

NOVA_BINARIES = {
    QEMU_IMG: 'qemu-utils',
    GENISOIMAGE: 'genisoimage',
    LIBVIRT_HEADER: 'libvirt-dev',
    PKG_CONFIG: 'pkgconf',
    CC: 'gcc',
    PYTHON_HEADER: 'python3-dev',
}

# Files read rather than run: present is enough.
_DATA_FILES = frozenset({OVS_SCHEMA, OVN_NB_SCHEMA, OVN_SB_SCHEMA,
                         LIBVIRT_HEADER, PYTHON_HEADER})

# What the compute part of the mini-cloud needs ([minicloud] compute).
COMPUTE_TABLES = (NETWORK_BINARIES, LIBVIRT_BINARIES, GUEST_BUILD_BINARIES,
                  NOVA_BINARIES)

APT_UPDATE_TIMEOUT = 300
APT_INSTALL_TIMEOUT = 900


def _usable(path: str) -> bool:
    mode = os.R_OK if path in _DATA_FILES else os.X_OK
    return os.access(path, mode)


def missing_packages(binaries: Mapping[str, str] = BINARIES) -> list[str]:
    """The packages to install for the binaries not found, sorted."""
    return sorted({package for binary, package in binaries.items()
                   if not _usable(binary)})


def ensure_system_packages(log_file: Path,
                           binaries: Mapping[str, str] = BINARIES,
                           needed_by: str = 'the mini-cloud') -> None:
    """Install the missing packages with apt-get, or say which they are.

    ``binaries`` is one of the tables above (``BINARIES``: what every run
    needs). Nothing is done when every binary is there. Installing needs
    root and apt-get; without them the error names the packages, so the
    user can install them the way their machine wants; ``needed_by`` says
    what needs them.
    """
    packages = missing_packages(binaries)
    if not packages:
        return
    names = ' '.join(packages)
    if os.geteuid() != 0 or shutil.which('apt-get') is None:
        raise exceptions.MiniCloudError(
            f'{needed_by} needs the Debian packages {names}; install them '
            f'(as root: apt-get install --no-install-recommends {names})')
    env = {'DEBIAN_FRONTEND': 'noninteractive'}
    # The machine's packages, for every user: the usual umask, not the
    # run's private one.
    processes.run(['apt-get', 'update'], log_file, 'apt-get update',
                  env=env, timeout=APT_UPDATE_TIMEOUT, umask=0o022)
    processes.run(['apt-get', 'install', '-y', '--no-install-recommends']
                  + packages, log_file, f'apt-get install {names}',
                  env=env, timeout=APT_INSTALL_TIMEOUT, umask=0o022)
    absent = [binary for binary in binaries if not _usable(binary)]
    if absent:
        raise exceptions.MiniCloudError(
            f'apt-get installed {names} but {", ".join(absent)} still '
            f'cannot be run; see {log_file}')
