"""Check, before anything starts, that the mini-cloud's ports are free.

A service that finds its port taken fails late and obscurely (MariaDB
writes it to its error log, RabbitMQ to a crash report, and a leftover
instance from an earlier run may even answer in its place). Trying to bind
every port first turns that into one line naming each port, its service
and the option that moves it.
"""

from collections.abc import Mapping
import errno
import socket

from heat_upgrade_tests import exceptions


def ensure_free(ports: Mapping[str, int], host: str = '127.0.0.1') -> None:
    """Raise PortBusy unless every port in ``ports`` can be bound on host.

    ``ports`` maps a service name to its port; the names are those of the
    ``[minicloud]`` options without their ``_port`` suffix (``keystone``
    for ``keystone_port``), so the message can say which option to change.
    All the busy ports are named in one message.
    """
    owners: dict[int, str] = {}
    for name, port in ports.items():
        if port in owners:
            raise exceptions.PortBusy(
                f'port {port} is given to both {owners[port]} and {name}; '
                f'set [minicloud] {owners[port]}_port or {name}_port to '
                f'another port')
        owners[port] = name

    busy = []
    for name, port in ports.items():
        err = _bind_error(host, port)
        if err is None:
            continue
        if err.errno != errno.EADDRINUSE:
            raise exceptions.MiniCloudError(
                f'cannot bind port {port} ({name}) on {host}: '
                f'{err.strerror}; set [minicloud] {name}_port or host')
        busy.append((name, port))

    if len(busy) == 1:
        name, port = busy[0]
        raise exceptions.PortBusy(
            f'port {port} ({name}) on {host} is already in use by another '
            f'process; free it or set [minicloud] {name}_port')
    if busy:
        which = ', '.join(f'{port} ({name})' for name, port in busy)
        options = ', '.join(f'{name}_port' for name, _port in busy)
        raise exceptions.PortBusy(
            f'ports {which} on {host} are already in use by other '
            f'processes; free them or set [minicloud] {options}')


def _bind_error(host: str, port: int) -> OSError | None:
    """Try to bind ``host:port`` as a server would; return the error.

    SO_REUSEADDR is set as MariaDB and RabbitMQ set it: connections of an
    earlier run lingering in TIME_WAIT do not stop a restart, and must not
    count as busy; a listening socket still does.
    """
    try:
        family, _type, _proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise exceptions.MiniCloudError(
            f'cannot resolve {host}: {exc.strerror}; '
            f'set [minicloud] host')
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            return exc
    return None
