"""What the venv of a service's release holds, from ``releases.yaml``.

One place for every service (Heat, Keystone, Swift, Neutron...): the
mini-cloud's services and the integrity checks build the same venv of a
release from it, and the venv cache knows which venvs a series names.
"""

from pathlib import Path

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import releases


def of(service: str, series: releases.Series,
       packages: dict[str, releases.Package] | None = None) -> list[str]:
    """The requirements of ``service``'s venv in ``series`` (unpinned).

    The constraints (``constraints_of``) pin them apart.
    """
    packages = releases.packages() if packages is None else packages
    version = series.version(service)
    if service not in packages or not version:
        raise exceptions.ConfigError(
            f'series {series.name} names no {service} release in '
            f'releases.yaml')
    package = packages[service]
    return [f'{package.distribution}=={version}', *package.extras]


def venv_name(service: str, series: releases.Series) -> str:
    """``heat-27.0.1``: the cached venv of ``service``'s release."""
    return f'{service}-{series.version(service)}'


def spec(service: str, series: releases.Series
         ) -> tuple[str, list[str], Path | None]:
    """(venv name, requirements, constraints) for ``venvs.ensure_venv``."""
    return (venv_name(service, series), of(service, series),
            series.constraints_of(service))
