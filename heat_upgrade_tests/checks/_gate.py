"""What the gate-only checks need from a full cloud (devstack).

Not a check (its name starts with ``_``). Servers need an image, a flavor
and an external network; these are found in the cloud rather than
configured, as devstack makes them (a CirrOS image, m1.tiny or the smallest
flavor, the ``public`` network).
"""

from typing import Any

import requests
from tempest.lib.common.utils import test_utils

from heat_upgrade_tests import exceptions


def server_parameters(conn) -> dict[str, Any]:
    """Image, flavor and external network for a small test server."""
    images = [i for i in conn.image.images()
              if 'cirros' in (i.name or '').lower() and i.status == 'active']
    if not images:
        raise exceptions.CheckSkipped('no active CirrOS image in the cloud')
    flavors = sorted((f for f in conn.compute.flavors() if f.ram >= 128),
                     key=lambda f: (f.ram, f.vcpus, f.disk))
    if not flavors:
        raise exceptions.CheckSkipped('no flavor with 128 MiB of RAM')
    public = [n for n in conn.network.networks(is_router_external=True)]
    if not public:
        raise exceptions.CheckSkipped('no external network for a '
                                      'floating IP')
    return {'image': images[0].id, 'flavor': flavors[0].id,
            'public_net': public[0].id}


def http_get(url: str, timeout: float) -> str | None:
    """The body at ``url``, or None when nothing answers (curl -m)."""
    try:
        response = requests.get(url, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout):
        return None
    return response.text if response.ok else None


def wait_http(url: str, expected: str, bound: float,
              interval: float = 5, timeout: float = 5) -> str | None:
    """Poll ``url`` until its body holds ``expected``; the last body.

    Running out the bound is not an error here (the caller fails the
    check naming the body it got), so this is tempest.lib's
    ``call_until_true`` itself, the poll under ``processes.wait_until``,
    without the latter's last look and exception.
    """
    seen: list[str | None] = [None]

    def answers() -> bool:
        seen[0] = http_get(url, timeout)
        return seen[0] is not None and expected in seen[0]
    test_utils.call_until_true(answers, bound, interval)
    return seen[0]
