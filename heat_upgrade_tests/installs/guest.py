"""The guest image: a tiny Linux built at run time from Debian packages.

The checks that carry a server need an image that boots in seconds under
QEMU's TCG (no working KVM on the machines this project runs on), takes
its address by DHCP, runs its user data when it starts with ``#!`` (as
CirrOS does) and writes a heartbeat to its serial console. Nothing is
downloaded but Debian packages, and nothing is installed from them into
the host: the guest's own packages are fetched as ``.deb`` files
(``apt-get download``) and unpacked (``dpkg-deb -x``):

- the kernel of ``linux-image-cloud-amd64`` (the versioned package its
  meta package depends on), with the few modules the guest loads, found
  with their dependencies from the modules' own ``depends=`` fields (the
  .deb has no ``modules.dep``: ``depmod`` makes it at install time);
- ``busybox-static``, the guest's whole userland. It is unpacked, not
  installed on the host: on Debian it conflicts with ``busybox``, which a
  host's initramfs-tools often needs.

The initramfs is a newc cpio archive written here (gzip, no root, no
device node made on the host); the disk is a FAT file system without a
partition table, made by ``mkfs.fat``, filled by ``mcopy`` and made
bootable by the mtools ``syslinux`` installer: nothing is mounted and no
loop device is used. The host tools come through ``packages``.

An image is kept in the cache under a key of its inputs (the packages'
versions, the builder's version, its init and module list): a second
build with the same inputs is a cache hit that runs no tool at all but
``apt-cache`` and ``dpkg-query``.
"""

from collections.abc import Iterable, Mapping, Sequence
import dataclasses
import fcntl
import gzip
import hashlib
import io
import json
import os
from pathlib import Path
import re
import shutil
import struct
import tempfile
import time

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests import processes

# Bump when the way an image is built changes, so cached images are
# rebuilt; the init, the udhcpc script and the module list are in the key
# by their content anyway.
BUILDER_VERSION = 2

KERNEL_META_PACKAGE = 'linux-image-cloud-amd64'
BUSYBOX_PACKAGE = 'busybox-static'
# Host packages whose files end up in the image (syslinux writes its
# ldlinux.sys and ldlinux.c32); their versions are part of the key.
HOST_PACKAGES = ('syslinux', 'mtools', 'dosfstools')

# The drivers the guest loads, in this order, each with the modules it
# depends on before it. Any of them may be built into another kernel.
DRIVERS = (
    # Network and disks on the virtio bus (Nova's defaults for KVM/QEMU).
    'virtio_pci', 'virtio_net', 'virtio_blk',
    # A Nova config drive: an ISO 9660 CD-ROM on the IDE bus of the 'pc'
    # machine (Nova's default on x86_64); ata_piix brings libata and
    # scsi_mod, sr_mod brings cdrom.
    'ata_piix', 'sr_mod', 'isofs',
    # A vfat config drive ([DEFAULT] config_drive_format = vfat) is a
    # virtio disk; FAT's default code page and character sets.
    'vfat', 'nls_cp437', 'nls_ascii', 'nls_utf8',
)

# console=ttyS0 last: /dev/console is the serial port, where Nova's
# console log and the heartbeat are.
KERNEL_CMDLINE = ('console=tty0 console=ttyS0 quiet '
                  # No checksum offload (the init says why), for a kernel
                  # with virtio-net built in.
                  'virtio_net.csum=0 virtio_net.gso=0')
CONFIG_DRIVE_LABEL = 'config-2'
HEARTBEAT = 'hut-heartbeat'
ADDRESS = 'hut-address'
USER_DATA_START = 'hut-userdata-start'
USER_DATA_END = 'hut-userdata-end'

# What Glance should say about the image so Nova boots it as tested.
# hw_machine_type: the cloud kernel has no AHCI driver (SATA_AHCI is not
# set), and on a q35 machine Nova puts a config drive on SATA; on 'pc'
# (Nova's default on x86_64, pinned here against a deployment that
# changed [libvirt] hw_machine_type) it is an IDE CD-ROM, which the
# guest reads with ata_piix.
IMAGE_PROPERTIES = {
    'hw_machine_type': 'pc',
    'hw_cdrom_bus': 'ide',
    'hw_disk_bus': 'virtio',
    'hw_vif_model': 'virtio',
    'os_type': 'linux',
    'architecture': 'x86_64',
}

IMAGE_NAME = 'guest.raw'
MANIFEST = 'guest.json'
_GUEST_DIR = 'guest'
_DEBS_DIR = 'debs'
_BUILD_PREFIX = '.build-'
_KERNEL = 'vmlinuz'
_INITRD = 'initrd.gz'
_FAT_LABEL = 'HUTGUEST'
# Room on the FAT file system beyond its files: syslinux's own files and
# the slack of clusters and directories.
_SLACK = 4 * 1024 * 1024
_MIB = 1024 * 1024

_STEP_TIMEOUT = 300


class GuestImageError(exceptions.MiniCloudError):
    """The guest image could not be built; the message says why."""


@dataclasses.dataclass(frozen=True)
class GuestImage:
    """A built guest disk and what it carries."""

    path: Path
    format: str
    size: int
    # 'sha256:<hex>' of the image file.
    digest: str
    kernel_version: str
    # The modules the init loads, in its order (dependencies first).
    drivers: tuple[str, ...]
    # Drivers of DRIVERS built into the kernel (nothing to load).
    builtin: tuple[str, ...]
    # Debian package -> version, of everything in the image.
    packages: tuple[tuple[str, str], ...]
    key: str
    # Whether this call found it in the cache.
    cached: bool = False

    @property
    def kernel(self) -> Path | None:
        """The guest's kernel beside the disk (the KVM probe boots it).

        None for an image cached before it was kept there.
        """
        path = self.path.parent / _KERNEL
        return path if path.is_file() else None

    @property
    def properties(self) -> dict[str, str]:
        """Image properties to hand to Glance with it."""
        return dict(IMAGE_PROPERTIES)

    def to_json(self) -> dict:
        doc = dataclasses.asdict(self)
        doc['path'] = str(self.path)
        doc['packages'] = dict(self.packages)
        doc.pop('cached')
        return doc

    @classmethod
    def from_json(cls, doc: Mapping, path: Path) -> 'GuestImage':
        return cls(path=path, format=doc['format'], size=doc['size'],
                   digest=doc['digest'],
                   kernel_version=doc['kernel_version'],
                   drivers=tuple(doc['drivers']),
                   builtin=tuple(doc['builtin']),
                   packages=tuple(sorted(doc['packages'].items())),
                   key=doc['key'], cached=True)


# --- Kernel modules: names, modinfo, modules.dep, load order. ---

_KO = re.compile(r'\.ko(\.(xz|gz|zst))?$')


def module_name(path: str) -> str:
    """``kernel/drivers/net/virtio_net.ko`` -> ``virtio_net``.

    Names are compared with ``-`` read as ``_``, as the kernel does.
    """
    return _KO.sub('', os.path.basename(path)).replace('-', '_')


def parse_modules_dep(text: str) -> dict[str, list[str]]:
    """``modules.dep`` text -> {module path: the paths it depends on}."""
    deps = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        path, sep, rest = line.partition(':')
        if not sep or not path.strip():
            raise GuestImageError(
                f'modules.dep line {number} is not "module: deps": {line}')
        deps[path.strip()] = rest.split()
    return deps


def resolve_modules(dep_text: str, wanted: Sequence[str],
                    builtin: Iterable[str] = ()
                    ) -> tuple[list[str], list[str]]:
    """The module paths to load for ``wanted``, dependencies first.

    Returns ``(paths in load order, wanted names built into the
    kernel)``; each path once. A wanted module neither in ``dep_text``
    nor built in is an error naming it; so is a dependency that
    ``modules.dep`` names but has no line of its own.
    """
    deps = parse_modules_dep(dep_text)
    by_name = {module_name(path): path for path in deps}
    builtin_names = {module_name(name) for name in builtin}
    order: list[str] = []
    inside: set[str] = set()
    built_in: list[str] = []

    def visit(path: str, chain: tuple[str, ...]) -> None:
        if path in order:
            return
        if path in inside:
            raise GuestImageError(
                'modules.dep has a dependency cycle: '
                + ' -> '.join(module_name(p) for p in chain + (path,)))
        if path not in deps:
            raise GuestImageError(
                f'modules.dep names {path} (needed by '
                f'{module_name(chain[-1])}) but has no line for it')
        inside.add(path)
        # modprobe's order: the last of a line is loaded first.
        for dep in reversed(deps[path]):
            visit(dep, chain + (path,))
        inside.discard(path)
        order.append(path)

    for name in wanted:
        key = module_name(name)
        if key in by_name:
            visit(by_name[key], ())
        elif key in builtin_names:
            if key not in built_in:
                built_in.append(key)
        else:
            raise GuestImageError(
                f'the kernel has no module {name}: neither in modules.dep '
                'nor built in')
    return order, built_in


def modinfo(data: bytes) -> dict[str, list[str]]:
    """The ``.modinfo`` section of a kernel module (ELF64, little-endian).

    ``{key: [values]}``: ``depends``, ``name``, ``vermagic``, ``alias``...
    """
    if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
        raise GuestImageError('not a 64-bit little-endian ELF module')
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3a)

    def section(index):
        name, _, _, _, offset, size = struct.unpack_from(
            '<IIQQQQ', data, shoff + index * shentsize)
        return name, offset, size

    _, names_offset, _ = section(shstrndx)
    for index in range(shnum):
        name, offset, size = section(index)
        end = data.index(b'\0', names_offset + name)
        if data[names_offset + name:end] == b'.modinfo':
            info: dict[str, list[str]] = {}
            for field in data[offset:offset + size].split(b'\0'):
                key, sep, value = field.decode('utf-8', 'replace'
                                               ).partition('=')
                if sep:
                    info.setdefault(key, []).append(value)
            return info
    raise GuestImageError('the module has no .modinfo section')


def modules_dep_for(modules_dir: Path, wanted: Sequence[str],
                    builtin: Iterable[str] = ()) -> str:
    """``modules.dep`` text for ``wanted`` and what they depend on.

    Read from each module's own ``depends=`` field, as ``depmod`` does,
    for the modules reached from ``wanted`` only; each line names every
    module its module needs, nearest last, as ``depmod`` writes them.
    Paths are relative to ``modules_dir`` (``lib/modules/VERSION``).
    """
    builtin_names = {module_name(name) for name in builtin}
    paths = {}
    for path in sorted(modules_dir.rglob('*.ko*')):
        if _KO.search(path.name):
            paths.setdefault(module_name(path.name),
                             path.relative_to(modules_dir).as_posix())
    direct: dict[str, list[str]] = {}
    todo = [module_name(name) for name in wanted
            if module_name(name) in paths]
    while todo:
        name = todo.pop()
        if name in direct:
            continue
        path = paths[name]
        if not path.endswith('.ko'):
            raise GuestImageError(
                f'{path} is compressed; this builder reads plain .ko files')
        info = modinfo((modules_dir / path).read_bytes())
        needs = [module_name(dep) for value in info.get('depends', [])
                 for dep in value.split(',') if dep]
        for dep in needs:
            if dep not in paths and dep not in builtin_names:
                raise GuestImageError(
                    f'module {name} depends on {dep}, which the kernel '
                    'package does not have')
        direct[name] = [dep for dep in needs if dep in paths]
        todo.extend(direct[name])

    def closure(name, seen):
        found = []
        for dep in direct[name]:
            if dep not in seen:
                seen.add(dep)
                found.extend(closure(dep, seen))
                found.append(dep)
        return found

    lines = []
    for name in sorted(direct, key=lambda n: paths[n]):
        needs = closure(name, set())
        # depmod's order: what is loaded last (nearest) first.
        lines.append(f'{paths[name]}: '
                     + ' '.join(paths[dep] for dep in reversed(needs)))
    return '\n'.join(line.rstrip() for line in lines) + '\n'


# --- What runs in the guest. ---

UDHCPC_SCRIPT = r'''#!/bin/sh
# udhcpc's event script: address, MTU, routes and resolv.conf.
event="$1"
case "$event" in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} \
        dev "$interface"
    if [ -n "$staticroutes" ]; then
        # Classless routes (RFC 3442): "dest/prefix gateway" pairs.
        set -- $staticroutes
        while [ $# -ge 2 ]; do
            if [ "$2" = 0.0.0.0 ]; then
                ip route replace "$1" dev "$interface"
            else
                ip route replace "$1" via "$2" dev "$interface"
            fi
            shift 2
        done
    elif [ -n "$router" ]; then
        for gateway in $router; do
            ip route replace default via "$gateway" dev "$interface"
            break
        done
    fi
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
    for server in $dns; do
        echo "nameserver $server" >> /etc/resolv.conf
    done
    if [ "$event" = bound ]; then
        echo "@ADDRESS@ $interface $ip" > /dev/console
    fi
    ;;
esac
exit 0
'''

INIT_TEMPLATE = r'''#!/bin/sh
# The guest's init (busybox sh, PID 1): modules, network, config drive,
# user data, then a heartbeat on the serial console forever.
/bin/busybox mkdir -p /proc /sys /dev /run /tmp /sbin /usr/bin /usr/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root
mkdir -p /dev/pts /dev/shm /mnt/config /var/run /var/log
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/hut
exec </dev/null >/dev/console 2>&1
say() { echo "$*" > /dev/console; }

say "hut-init kernel=$(uname -r)"
for module in @MODULES@; do
    # virtio-net without checksum offload: on Open vSwitch's userspace
    # datapath nobody completes a partial checksum, so TCP answers (not
    # ICMP) would reach the other end unreadable.
    case $module in
        */virtio_net.ko*) args="csum=0 gso=0" ;;
        *) args="" ;;
    esac
    insmod "/lib/modules/@KERNEL@/$module" $args \
        || say "hut-init: insmod $module failed"
done
hostname hut-guest
ip link set lo up

# DHCP on eth0: up to 20 tries a second apart, then udhcpc stays in the
# background (renewing the lease, or still trying).
tries=0
while [ ! -e /sys/class/net/eth0 ] && [ $tries -lt 10 ]; do
    usleep 200000
    tries=$((tries + 1))
done
if [ -e /sys/class/net/eth0 ]; then
    udhcpc -i eth0 -s /etc/udhcpc.script -t 20 -T 1 -A 5 -b -S \
        -x hostname:hut-guest
else
    say "hut-init: no eth0"
fi

# The config drive: a file system labelled @LABEL@ (ISO 9660 on a CD-ROM,
# or vfat on a disk), waited for a few seconds while the disks appear.
drive=""
tries=0
while [ $tries -lt 20 ]; do
    drive=$(findfs LABEL=@LABEL@ 2>/dev/null) && [ -n "$drive" ] && break
    drive=""
    usleep 250000
    tries=$((tries + 1))
done
if [ -n "$drive" ] && { mount -r -t iso9660 "$drive" /mnt/config 2>/dev/null \
        || mount -r -t vfat "$drive" /mnt/config; }; then
    say "hut-config-drive $drive"
    meta=/mnt/config/openstack/latest/meta_data.json
    if [ -r "$meta" ]; then
        # The keys' names are no server's name: drop them first.
        flat=$(sed 's/"keys": *\[[^]]*\]//' "$meta")
        uuid=$(echo "$flat" | grep -o '"uuid": *"[^"]*"' | head -n 1 \
            | sed 's/.*"\([^"]*\)"$/\1/')
        name=$(echo "$flat" | grep -o '"name": *"[^"]*"' | head -n 1 \
            | sed 's/.*"\([^"]*\)"$/\1/')
        host=$(echo "$flat" | grep -o '"hostname": *"[^"]*"' | head -n 1 \
            | sed 's/.*"\([^"]*\)"$/\1/')
        say "hut-metadata uuid=$uuid name=$name"
        [ -n "$host" ] && hostname "$host"
    fi
    userdata=/mnt/config/openstack/latest/user_data
    if [ -r "$userdata" ]; then
        if [ "$(head -c 2 "$userdata")" = '#!' ]; then
            cp "$userdata" /run/hut/user-data
            chmod +x /run/hut/user-data
            (
                say "@START@"
                cd /root 2>/dev/null || cd /
                /run/hut/user-data
                say "@END@ rc=$?"
            ) </dev/null >/dev/console 2>&1 &
        else
            say "hut-userdata not a script (no #!): not run"
        fi
    else
        say "hut-userdata none"
    fi
else
    say "hut-config-drive none"
fi

# The heartbeat, forever; as PID 1 this loop also reaps orphans.
read -r boot_id < /proc/sys/kernel/random/boot_id
while :; do
    read -r uptime idle < /proc/uptime
    echo "@HEARTBEAT@ boot_id=$boot_id uptime=$uptime" > /dev/console
    sleep 2
done
'''


def init_script(kernel_version: str, module_paths: Sequence[str]) -> str:
    """The guest's /init for these modules (paths under lib/modules/V)."""
    for path in module_paths:
        if not re.fullmatch(r'[A-Za-z0-9_./+-]+', path):
            raise GuestImageError(f'unexpected module path {path!r}')
    text = INIT_TEMPLATE
    for placeholder, value in (('@MODULES@', ' '.join(module_paths)),
                               ('@KERNEL@', kernel_version),
                               ('@LABEL@', CONFIG_DRIVE_LABEL),
                               ('@START@', USER_DATA_START),
                               ('@END@', USER_DATA_END),
                               ('@HEARTBEAT@', HEARTBEAT)):
        text = text.replace(placeholder, value)
    return text


def udhcpc_script() -> str:
    return UDHCPC_SCRIPT.replace('@ADDRESS@', ADDRESS)


def syslinux_cfg(cmdline: str = KERNEL_CMDLINE) -> str:
    return (f'SERIAL 0 115200\nDEFAULT guest\nPROMPT 0\nTIMEOUT 0\n'
            f'LABEL guest\n  KERNEL /{_KERNEL}\n  INITRD /{_INITRD}\n'
            f'  APPEND {cmdline}\n')


# --- The initramfs: a newc cpio archive. ---

@dataclasses.dataclass(frozen=True)
class Entry:
    """One member of the archive: a directory, file, symlink or device."""

    name: str
    mode: int
    data: bytes = b''
    rdev: tuple[int, int] = (0, 0)


def newc_archive(entries: Iterable[Entry]) -> bytes:
    """The entries as a newc (``cpio -H newc``) archive with its trailer.

    Owned by root, dated 0: the same entries give the same bytes.
    """
    out = io.BytesIO()

    def pad():
        out.write(b'\0' * (-out.tell() % 4))

    def member(ino, name, mode, data, rdev):
        encoded = name.encode() + b'\0'
        fields = (ino, mode, 0, 0, 2 if mode & 0o40000 else 1, 0,
                  len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
        out.write(b'070701' + b''.join(b'%08X' % f for f in fields))
        out.write(encoded)
        pad()
        out.write(data)
        pad()

    for ino, entry in enumerate(entries, 1):
        member(ino, entry.name.lstrip('/'), entry.mode, entry.data,
               entry.rdev)
    member(0, 'TRAILER!!!', 0, b'', (0, 0))
    return out.getvalue()


def initramfs_entries(busybox: bytes, kernel_version: str,
                      modules: Mapping[str, bytes], modules_dep: str,
                      init: str, udhcpc: str) -> list[Entry]:
    """What the guest's initramfs holds; ``modules`` by path under V/."""
    directory, regular, link = 0o40755, 0o100644, 0o120777
    executable = 0o100755
    names = ['bin', 'dev', 'etc', 'lib', 'mnt', 'proc', 'root', 'run',
             'sbin', 'sys', 'tmp', 'usr', 'usr/bin', 'usr/sbin', 'usr/share',
             'usr/share/udhcpc', 'var', 'lib/modules',
             f'lib/modules/{kernel_version}']
    for path in modules:
        parts = Path(path).parent.parts
        for end in range(1, len(parts) + 1):
            name = f'lib/modules/{kernel_version}/' + '/'.join(parts[:end])
            if name not in names:
                names.append(name)
    entries = [Entry(name, directory) for name in names]
    entries += [
        Entry('dev/console', 0o20600, rdev=(5, 1)),
        Entry('bin/busybox', executable, busybox),
        Entry('bin/sh', link, b'busybox'),
        Entry('init', executable, init.encode()),
        Entry('etc/udhcpc.script', executable, udhcpc.encode()),
        Entry('usr/share/udhcpc/default.script', link,
              b'../../../etc/udhcpc.script'),
        Entry('etc/passwd', regular, b'root:x:0:0:root:/root:/bin/sh\n'),
        Entry('etc/group', regular, b'root:x:0:\n'),
        Entry('etc/hostname', regular, b'hut-guest\n'),
        Entry(f'lib/modules/{kernel_version}/modules.dep', regular,
              modules_dep.encode()),
    ]
    entries += [Entry(f'lib/modules/{kernel_version}/{path}', regular, data)
                for path, data in sorted(modules.items())]
    return entries


# --- Inputs: package versions and the cache key. ---

def parse_apt_show(text: str) -> dict[str, dict[str, str]]:
    """``apt-cache show`` paragraphs -> {package: {field: value}}.

    The first paragraph of a package wins (``--no-all-versions`` shows
    only the candidate).
    """
    found: dict[str, dict[str, str]] = {}
    for paragraph in re.split(r'\n\s*\n', text):
        fields: dict[str, str] = {}
        last = None
        for line in paragraph.splitlines():
            if line[:1] in (' ', '\t') and last:
                fields[last] += '\n' + line.strip()
                continue
            key, sep, value = line.partition(':')
            if sep:
                last = key.strip()
                fields[last] = value.strip()
        if 'Package' in fields:
            found.setdefault(fields['Package'], fields)
    return found


def kernel_package(meta: Mapping[str, str]) -> tuple[str, str | None]:
    """The versioned kernel package a kernel meta package depends on.

    ``(name, version)``; the version is None unless the dependency pins
    it exactly (``(= 6.1.192-3)``, as Debian's meta packages do).
    """
    for alternative in re.split(r'[,|]', meta.get('Depends', '')):
        match = re.fullmatch(r'\s*(linux-image-\d\S*)\s*(\(\s*=\s*([^)\s]+)'
                             r'\s*\))?\s*', alternative)
        if match:
            return match.group(1), match.group(3)
    raise GuestImageError(
        f'{meta.get("Package", KERNEL_META_PACKAGE)} depends on no '
        f'linux-image-<version> package: {meta.get("Depends", "")!r}')


def cache_key(package_versions: Mapping[str, str]) -> str:
    """The key of an image built from these packages by this builder."""
    doc = {
        'builder': BUILDER_VERSION,
        'packages': dict(sorted(package_versions.items())),
        'drivers': list(DRIVERS),
        'init': INIT_TEMPLATE,
        'udhcpc': UDHCPC_SCRIPT,
        'syslinux': syslinux_cfg(),
    }
    blob = json.dumps(doc, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _guest_versions(log_file: Path) -> dict[str, str]:
    """Candidate versions of the guest's packages: {package: version}."""
    show = _apt_show([KERNEL_META_PACKAGE, BUSYBOX_PACKAGE], log_file)
    kernel, version = kernel_package(show[KERNEL_META_PACKAGE])
    if version is None:
        version = _apt_show([kernel], log_file)[kernel]['Version']
    return {kernel: version,
            BUSYBOX_PACKAGE: show[BUSYBOX_PACKAGE]['Version']}


def _apt_show(names: Sequence[str], log_file: Path
              ) -> dict[str, dict[str, str]]:
    try:
        text = processes.run(
            ['apt-cache', 'show', '--no-all-versions'] + list(names),
            log_file, f'apt-cache show {" ".join(names)}', timeout=60)
    except exceptions.MiniCloudError as exc:
        raise GuestImageError(
            f'apt knows no candidate for {" or ".join(names)} (is this '
            f'Debian, and did apt-get update run?): {exc}') from None
    found = parse_apt_show(text)
    for name in names:
        if name not in found or 'Version' not in found[name]:
            raise GuestImageError(
                f'apt-cache shows no version of the Debian package {name}')
    return found


def _host_versions(log_file: Path) -> dict[str, str]:
    """Versions of the host tools that write into the image.

    A tool found outside dpkg (not a Debian host) counts as 'unknown'.
    """
    try:
        text = processes.run(
            ['dpkg-query', '-W', '-f', '${Package} ${Version}\\n']
            + list(HOST_PACKAGES), log_file,
            'dpkg-query of the image tools', timeout=60)
    except exceptions.MiniCloudError:
        return {name: 'unknown' for name in HOST_PACKAGES}
    found = dict(line.split(' ', 1) for line in text.splitlines()
                 if ' ' in line)
    return {name: found.get(name, '') for name in HOST_PACKAGES}


# --- The build. ---

def build(cache_dir: Path, log_file: Path,
          timeout: float = 900) -> GuestImage:
    """The guest image for today's packages, from the cache or built.

    ``cache_dir/guest/KEY/guest.raw``, with its manifest beside it; the
    downloaded .debs stay in ``cache_dir/guest/debs``. Tools' output goes
    to ``log_file``. Errors are one line (GuestImageError, or the
    packages' MiniCloudError naming the Debian packages to install).
    """
    deadline = time.monotonic() + timeout
    packages.ensure_system_packages(
        log_file, packages.GUEST_BUILD_BINARIES,
        needed_by='building the guest image')
    versions = _guest_versions(log_file)
    host = _host_versions(log_file)
    key = cache_key({**versions, **{f'host:{k}': v for k, v in
                                    host.items()}})
    guest_dir = Path(cache_dir).expanduser().absolute() / _GUEST_DIR
    target = guest_dir / key
    found = _cached(target)
    if found is not None:
        return found
    guest_dir.mkdir(parents=True, exist_ok=True)
    with _locked(guest_dir / '.lock', _remaining(deadline)):
        found = _cached(target)
        if found is not None:
            return found
        for leftover in guest_dir.glob(f'{_BUILD_PREFIX}*'):
            shutil.rmtree(leftover, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f'{_BUILD_PREFIX}{key}-',
                                     dir=guest_dir))
        try:
            image = _build(work, guest_dir / _DEBS_DIR, target, key,
                           versions, log_file, deadline)
            if os.path.lexists(target):  # incomplete: no valid manifest
                shutil.rmtree(target)
            (work / 'image').rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _forget_others(guest_dir, key, versions)
    return image


def _cached(target: Path) -> GuestImage | None:
    try:
        doc = json.loads((target / MANIFEST).read_text())
        image = GuestImage.from_json(doc, target / IMAGE_NAME)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        if image.path.stat().st_size != image.size:
            return None
    except OSError:
        return None
    return image


def _build(work: Path, debs_dir: Path, target: Path, key: str,
           versions: Mapping[str, str], log_file: Path,
           deadline: float) -> GuestImage:
    kernel_pkg = next(name for name in versions
                      if name.startswith('linux-image-'))
    debs = {name: _download(name, version, debs_dir, work, log_file,
                            deadline)
            for name, version in versions.items()}
    unpacked = {}
    for name, deb in debs.items():
        unpacked[name] = work / 'unpacked' / name
        unpacked[name].mkdir(parents=True)
        processes.run(['dpkg-deb', '-x', deb, unpacked[name]], log_file,
                      f'unpacking {deb.name}',
                      timeout=min(_STEP_TIMEOUT, _remaining(deadline)))
    kernel_root = unpacked[kernel_pkg]
    modules_dir, kernel_version = _modules_dir(kernel_root, kernel_pkg)
    vmlinuz = kernel_root / 'boot' / f'vmlinuz-{kernel_version}'
    if not vmlinuz.is_file():
        raise GuestImageError(f'{kernel_pkg} has no boot/vmlinuz-'
                              f'{kernel_version}')
    builtin = _read_lines(modules_dir / 'modules.builtin')
    dep_text = modules_dep_for(modules_dir, DRIVERS, builtin)
    load, built_in = resolve_modules(dep_text, DRIVERS, builtin)
    busybox = unpacked[BUSYBOX_PACKAGE] / 'bin' / 'busybox'
    if not busybox.is_file():
        raise GuestImageError(f'{BUSYBOX_PACKAGE} has no bin/busybox')
    entries = initramfs_entries(
        busybox.read_bytes(), kernel_version,
        {path: (modules_dir / path).read_bytes() for path in load},
        dep_text, init_script(kernel_version, load), udhcpc_script())
    files = work / 'files'
    files.mkdir()
    (files / _INITRD).write_bytes(
        gzip.compress(newc_archive(entries), compresslevel=9, mtime=0))
    shutil.copyfile(vmlinuz, files / _KERNEL)
    (files / 'syslinux.cfg').write_text(syslinux_cfg())
    (work / 'image').mkdir()
    raw = work / 'image' / IMAGE_NAME
    _make_disk(raw, files, log_file, deadline)
    shutil.copyfile(vmlinuz, work / 'image' / _KERNEL)
    image = GuestImage(
        path=target / IMAGE_NAME, format='raw', size=raw.stat().st_size,
        digest='sha256:' + _sha256(raw), kernel_version=kernel_version,
        drivers=tuple(module_name(path) for path in load),
        builtin=tuple(built_in),
        packages=tuple(sorted(versions.items())), key=key)
    (work / 'image' / MANIFEST).write_text(
        json.dumps(image.to_json(), indent=2, sort_keys=True) + '\n')
    return image


def _download(name: str, version: str, debs_dir: Path, work: Path,
              log_file: Path, deadline: float) -> Path:
    """``debs_dir/NAME_VERSION.deb``, downloaded by apt unless there."""
    safe = version.replace(':', '%3a')
    deb = debs_dir / f'{name}_{safe}.deb'
    if deb.is_file():
        return deb
    fetch = work / 'download'
    fetch.mkdir(exist_ok=True)
    try:
        processes.run(
            ['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root',
             f'{name}={version}'], log_file,
            f'apt-get download {name}={version}', cwd=fetch,
            timeout=min(_STEP_TIMEOUT, _remaining(deadline)))
    except exceptions.MiniCloudError as exc:
        raise GuestImageError(
            f'the Debian package {name} {version} could not be '
            f'downloaded: {exc}') from None
    got = sorted(fetch.glob(f'{name}_*.deb'))
    if not got:
        raise GuestImageError(
            f'apt-get download {name}={version} left no .deb; see '
            f'{log_file}')
    debs_dir.mkdir(parents=True, exist_ok=True)
    os.replace(got[0], deb)
    return deb


def _modules_dir(root: Path, package: str) -> tuple[Path, str]:
    for base in (root / 'lib' / 'modules', root / 'usr' / 'lib' / 'modules'):
        if base.is_dir():
            versions = sorted(p for p in base.iterdir() if p.is_dir())
            if len(versions) == 1:
                return versions[0], versions[0].name
    raise GuestImageError(f'{package} has not exactly one lib/modules/'
                          '<version> directory')


def _read_lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text().splitlines()
                if line.strip()]
    except OSError:
        return []


def _make_disk(raw: Path, files: Path, log_file: Path,
               deadline: float) -> None:
    """A FAT disk holding ``files``, booted by syslinux; no mount."""
    content = sum(p.stat().st_size for p in files.iterdir())
    size = -(-(content + _SLACK) // _MIB) * _MIB
    env = {'MTOOLS_SKIP_CHECK': '1'}

    def run(argv, what):
        processes.run(argv, log_file, what, env=env,
                      timeout=min(_STEP_TIMEOUT, _remaining(deadline)))

    run([packages.MKFS_FAT, '-n', _FAT_LABEL, '-C', raw,
         str(size // 1024)], 'mkfs.fat of the guest disk')
    run([packages.MCOPY, '-i', raw] + sorted(files.iterdir()) + ['::/'],
        'mcopy of the kernel and initramfs onto the guest disk')
    run([packages.SYSLINUX, '--install', raw],
        'syslinux --install on the guest disk')


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as stream:
        for block in iter(lambda: stream.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _forget_others(guest_dir: Path, key: str,
                   versions: Mapping[str, str]) -> None:
    """Remove images of other keys, and .debs of other versions."""
    for path in guest_dir.iterdir():
        if path.is_dir() and path.name not in (key, _DEBS_DIR) \
                and not path.name.startswith('.') \
                and (path / MANIFEST).exists():
            shutil.rmtree(path, ignore_errors=True)
    wanted = {f'{name}_{version.replace(":", "%3a")}.deb'
              for name, version in versions.items()}
    debs = guest_dir / _DEBS_DIR
    if debs.is_dir():
        for deb in debs.glob('*.deb'):
            if deb.name not in wanted:
                deb.unlink()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise exceptions.TimeoutExpired('timed out building the guest image')
    return left


class _locked:
    """An exclusive lock on a file, waited for within ``timeout``."""

    def __init__(self, path: Path, timeout: float):
        self.path = path
        self.timeout = timeout
        self.fd: int | None = None

    def _try(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def __enter__(self):
        processes.wait_until(self._try, self.timeout,
                             'another build of the guest image to finish')
        return self

    def __exit__(self, *exc_info):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
