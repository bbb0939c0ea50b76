"""What the server checks need: an image, a flavor, a way to the servers.

Not a check (its name starts with ``_``). A server needs an image, a
flavor and an external network for its floating IP; these are found in
the cloud rather than configured: the image the options name, else the
mini-cloud's run-time guest (the Glance property ``hut_guest``), else
devstack's CirrOS; the smallest flavor with 128 MiB; the external
network. The data plane is probed from where the options say
(``[cloud] probe_namespace``: the mini-cloud's namespace on its external
network), else from where the phases run (devstack's host).
"""

import subprocess
import sys
from typing import Any

import requests
from tempest.lib.common.utils import test_utils

from heat_upgrade_tests import exceptions

# The image property that marks the mini-cloud's run-time guest
# (minicloud/glance.py sets it, with the image's digest).
GUEST_PROPERTY = 'hut_guest'
IP = '/usr/sbin/ip'
# Run in the probe namespace: the body at argv[1], or exit 1 when
# nothing answers within argv[2] seconds (what curl -m does).
_GET = '''
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
        sys.stdout.write(r.read().decode('utf-8', 'replace'))
except Exception:
    sys.exit(1)
'''


def image_id(conn, conf) -> str:
    """The image a server check boots (see the module's docstring)."""
    chosen = conf.cloud.image
    if chosen:
        return chosen
    active = [i for i in conn.image.images() if i.status == 'active']
    guests = [i for i in active
              if (i.properties or {}).get(GUEST_PROPERTY)]
    if guests:
        return guests[0].id
    cirros = [i for i in active if 'cirros' in (i.name or '').lower()]
    if not cirros:
        raise exceptions.CheckSkipped(
            f'no image to boot: set [cloud] image, or give one the '
            f'property {GUEST_PROPERTY}, or upload CirrOS')
    return cirros[0].id


def server_parameters(conn, conf) -> dict[str, Any]:
    """Image, flavor and external network for a small test server."""
    flavors = sorted((f for f in conn.compute.flavors() if f.ram >= 128),
                     key=lambda f: (f.ram, f.vcpus, f.disk))
    if not flavors:
        raise exceptions.CheckSkipped('no flavor with 128 MiB of RAM')
    public = [n for n in conn.network.networks(is_router_external=True)]
    if not public:
        raise exceptions.CheckSkipped('no external network for a '
                                      'floating IP')
    return {'image': image_id(conn, conf), 'flavor': flavors[0].id,
            'public_net': public[0].id}


def http_get(url: str, timeout: float,
             namespace: str | None = None) -> str | None:
    """The body at ``url``, or None when nothing answers (curl -m).

    From the network namespace ``namespace`` if given.
    """
    if namespace:
        try:
            proc = subprocess.run(
                [IP, 'netns', 'exec', namespace, sys.executable, '-c', _GET,
                 url, str(timeout)], capture_output=True, text=True,
                stdin=subprocess.DEVNULL, timeout=timeout + 10)
        except subprocess.TimeoutExpired:
            return None
        return proc.stdout if proc.returncode == 0 else None
    try:
        response = requests.get(url, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout):
        return None
    return response.text if response.ok else None


def wait_http(url: str, expected: str, bound: float,
              interval: float = 5, timeout: float = 5,
              namespace: str | None = None) -> str | None:
    """Poll ``url`` until its body holds ``expected``; the last body.

    Running out the bound is not an error here (the caller fails the
    check naming the body it got), so this is tempest.lib's
    ``call_until_true`` itself, the poll under ``processes.wait_until``,
    without the latter's last look and exception.
    """
    seen: list[str | None] = [None]

    def answers() -> bool:
        seen[0] = http_get(url, timeout, namespace)
        return seen[0] is not None and expected in seen[0]
    test_utils.call_until_true(answers, bound, interval)
    return seen[0]
