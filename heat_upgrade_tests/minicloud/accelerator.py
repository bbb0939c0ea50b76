"""Which accelerator Nova's guests get: KVM only if a KVM guest boots.

``/dev/kvm`` is no proof, and neither is libvirt, which offers domain
type ``kvm`` wherever the device opens. On this project's machines (a
Firecracker guest, no vmx/svm) ``/dev/kvm`` is served by ``kvm_pvm``:
QEMU with KVM hangs or aborts booting Linux (FIELD-NOTES). A firmware
alone is no proof either: SeaBIOS runs to its end there ("No bootable
device.") under KVM, in real mode, where Linux never prints a line. So
the probe boots a Linux kernel (the tiny guest's) in a transient domain
of type ``kvm`` (no ``<cpu>``, as Nova's ``cpu_mode = none``) and waits,
bounded, for it to get through its whole start: with no root file system
it panics ("VFS: Unable to mount root fs"), reboots (``panic=-1``) and
the domain ends (``on_reboot`` destroy). Anything else, a failure or the
bound, chooses ``qemu`` (TCG) and says why. The domain and its QEMU are
removed whatever happened.
"""

import json
import os
from pathlib import Path
import secrets
import time
from typing import Literal, NamedTuple
import xml.etree.ElementTree as ET

from heat_upgrade_tests import datafiles
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import libvirt
from heat_upgrade_tests import processes

PROBE_TIMEOUT = 10.0
# The probe's guest: enough memory for a distribution kernel to unpack
# itself (Debian's cloud kernel resets before its first line in 64 MiB).
PROBE_MEMORY_MIB = 128
CMDLINE = 'console=ttyS0 panic=-1'
# What a kernel prints once it has started everything and looks for its
# root file system (none: it panics) or its init (an initramfs).
BOOTED = ('VFS: Unable to mount root fs', 'Run /init as init process')

CREATE_TIMEOUT = 60
STATE_TIMEOUT = 3
# libvirt's destroy waits up to 15 s for a QEMU stuck in the kernel
# before SIGKILL.
DESTROY_TIMEOUT = 30

Accelerator = Literal['kvm', 'qemu']


class BootProbe(NamedTuple):
    """One bounded boot of the probe guest: what was seen, how long."""

    domain_type: str
    booted: bool
    saw: str
    seconds: float


class Choice(NamedTuple):
    """The accelerator for Nova's ``[libvirt] virt_type``, and why."""

    name: Accelerator
    reason: str
    probe: BootProbe | None


def domain_xml(name: str, domain_type: str, kernel: Path,
               serial_log: Path, memory_mib: int = PROBE_MEMORY_MIB) -> str:
    """A transient domain booting ``kernel`` alone, its console to a file.

    No disk, network, display or balloon; no ``<cpu>`` element. A reboot
    ends it, so a kernel that panics (``panic=-1``) leaves no domain.
    """
    domain = ET.Element('domain', type=domain_type)
    ET.SubElement(domain, 'name').text = name
    ET.SubElement(domain, 'memory', unit='MiB').text = str(memory_mib)
    ET.SubElement(domain, 'vcpu').text = '1'
    os_el = ET.SubElement(domain, 'os')
    ET.SubElement(os_el, 'type', arch='x86_64', machine='pc').text = 'hvm'
    ET.SubElement(os_el, 'kernel').text = str(kernel)
    ET.SubElement(os_el, 'cmdline').text = CMDLINE
    for event in ('on_poweroff', 'on_reboot', 'on_crash'):
        ET.SubElement(domain, event).text = 'destroy'
    devices = ET.SubElement(domain, 'devices')
    serial = ET.SubElement(devices, 'serial', type='file')
    ET.SubElement(serial, 'source', path=str(serial_log))
    ET.SubElement(serial, 'target', port='0')
    ET.SubElement(devices, 'controller', type='usb', model='none')
    ET.SubElement(devices, 'memballoon', model='none')
    return ET.tostring(domain, encoding='unicode')


def booted(console: str) -> bool:
    """Whether a serial console's text shows a kernel through its start."""
    return any(marker in console for marker in BOOTED)


def last_line(console: str) -> str:
    """The console's last line, short, for a reason; or that it is empty."""
    lines = [line.strip() for line in console.splitlines() if line.strip()]
    if not lines:
        return 'nothing on its serial console'
    return f'its serial console ends with "{lines[-1][:120]}"'


def _read(path: Path) -> str:
    try:
        return path.read_text(errors='replace')
    except OSError:
        return ''


def boot_probe(uri: str, kernel: Path, work_dir: Path,
               domain_type: str = 'kvm',
               timeout: float = PROBE_TIMEOUT) -> BootProbe:
    """Boot ``kernel`` in a domain of ``domain_type``; never hangs.

    Returns whether the kernel got through its start within ``timeout``
    seconds, and what was seen otherwise (virsh's error, the domain's
    state, the console's last line). The domain and its QEMU process are
    gone when it returns. ``work_dir`` holds the domain's XML, its
    console and ``probe.log``.
    """
    started = time.monotonic()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    name = f'hut-probe-{domain_type}-{os.getpid()}-{secrets.token_hex(3)}'
    serial = work_dir / f'{name}.console.log'
    xml_file = work_dir / f'{name}.xml'
    log = work_dir / 'probe.log'
    xml_file.write_text(domain_xml(name, domain_type, Path(kernel), serial))

    def result(ok: bool, saw: str) -> BootProbe:
        return BootProbe(domain_type, ok, saw, time.monotonic() - started)

    try:
        try:
            libvirt.virsh(uri, 'create', str(xml_file), log_file=log,
                          timeout=CREATE_TIMEOUT)
        except exceptions.UpgradeTestError as exc:
            return result(False, f'the {domain_type} domain did not start: '
                                 f'{exc}')
        state = ['running']

        def ended() -> str | None:
            if booted(_read(serial)):
                return None
            now = _state(uri, name, log)
            if now is not None:
                state[0] = now
                return None
            # The kernel may have printed its start, panicked and ended
            # (panic=-1) between the look above and this one.
            console = _read(serial)
            if booted(console):
                return None
            return f'the domain ended, {last_line(console)}'

        try:
            processes.wait_until(
                lambda: booted(_read(serial)), timeout,
                f'the {domain_type} guest to boot its kernel',
                interval=0.25, failed=ended)
        except exceptions.MiniCloudError as exc:
            return result(False, str(exc).split(': ', 1)[-1])
        except exceptions.TimeoutExpired:
            return result(False, f'no kernel start in {timeout:.0f}s: the '
                                 f'domain is {state[0]}, '
                                 f'{last_line(_read(serial))}')
        return result(True, f'the kernel started ("{_marker(serial)}")')
    finally:
        _remove(uri, name, log)


def _marker(serial: Path) -> str:
    console = _read(serial)
    return next((m for m in BOOTED if m in console), '')


def _state(uri: str, name: str, log: Path) -> str | None:
    """The domain's state with its reason; None once it is gone."""
    try:
        out = libvirt.virsh(uri, 'domstate', '--reason', name, log_file=log,
                            timeout=STATE_TIMEOUT)
    except exceptions.TimeoutExpired:
        return 'not answering (virsh domstate timed out)'
    except exceptions.MiniCloudError:
        return None
    return out.strip() or 'unknown'


def _remove(uri: str, name: str, log: Path) -> None:
    """Destroy the domain; kill its QEMU if libvirt could not."""
    try:
        libvirt.virsh(uri, 'destroy', name, log_file=log,
                      timeout=DESTROY_TIMEOUT)
    except exceptions.UpgradeTestError:
        pass  # gone already, or libvirt is stuck: the kill below
    libvirt.kill_qemu(qemu_pids(name), 10,
                      f'the QEMU of probe domain {name} to exit')


def qemu_pids(name: str, proc: Path = Path('/proc')) -> list[int]:
    """The QEMU processes of domain ``name`` (``-name guest=NAME,...``)."""
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / 'cmdline').read_bytes().split(b'\0')
        except OSError:
            continue
        for arg in argv:
            value = arg.decode(errors='replace')
            if value == f'guest={name}' or value.startswith(
                    f'guest={name},'):
                pids.append(int(entry.name))
                break
    return sorted(pids)


def accelerator(uri: str, kernel: Path | None, work_dir: Path,
                timeout: float = PROBE_TIMEOUT) -> Choice:
    """The accelerator for Nova: ``kvm`` only if a KVM guest boots.

    ``kvm`` if a domain of type ``kvm`` starts ``kernel`` within
    ``timeout`` seconds; ``qemu`` otherwise (no kernel, no usable
    ``/dev/kvm``, a failure, the bound), with the reason. Never raises,
    never hangs.
    """
    if kernel is None or not Path(kernel).is_file():
        return Choice('qemu', f'no guest kernel to probe KVM with '
                              f'({kernel}); a firmware alone is no proof',
                      None)
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return Choice('qemu', '/dev/kvm is absent or not usable', None)
    try:
        probe = boot_probe(uri, Path(kernel), work_dir, 'kvm', timeout)
    except (exceptions.UpgradeTestError, OSError) as exc:
        return Choice('qemu', f'the KVM probe failed: {exc}', None)
    if probe.booted:
        return Choice('kvm', f'a KVM guest started its kernel in '
                             f'{probe.seconds:.1f}s', probe)
    return Choice('qemu', f'KVM does not boot a guest here: {probe.saw}',
                  probe)


BOOT_ID = Path('/proc/sys/kernel/random/boot_id')


def _stat(path: Path | str | None) -> list | None:
    try:
        found = os.stat(path) if path else None
    except OSError:
        return None
    return None if found is None else [str(path), found.st_size,
                                       found.st_mtime_ns]


def probe_key(kernel: Path | None, qemu: str = packages.QEMU_X86,
              boot_id: Path = BOOT_ID) -> dict:
    """What the answer depends on: this boot, QEMU's binary, the kernel."""
    try:
        boot = boot_id.read_text().strip()
    except OSError:
        boot = ''
    return {'boot_id': boot, 'qemu': _stat(qemu), 'kernel': _stat(kernel)}


def remembered(uri: str, kernel: Path | None, work_dir: Path,
               cache_file: Path, timeout: float = PROBE_TIMEOUT) -> Choice:
    """``accelerator``, its answer kept for this boot of the machine.

    Whether a KVM guest boots is the machine's (its kernel, its
    ``/dev/kvm``) and QEMU's: an answer a probe boot gave is kept in
    ``cache_file`` with ``probe_key``, and used while the key is the
    same; a reboot, another QEMU or another kernel probes again. An
    answer without a probe boot (no kernel, no ``/dev/kvm``, a failure)
    is cheap and never kept.
    """
    key = probe_key(kernel)
    try:
        doc = json.loads(Path(cache_file).read_text())
        if doc['key'] == key and doc['name'] in ('kvm', 'qemu'):
            return Choice(doc['name'], f'{doc["reason"]} (probed earlier '
                                       f'in this boot)', None)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    choice = accelerator(uri, kernel, work_dir, timeout)
    if choice.probe is not None and key['boot_id']:
        datafiles.write_private(Path(cache_file), json.dumps(
            {'key': key, 'name': choice.name, 'reason': choice.reason}))
    return choice
