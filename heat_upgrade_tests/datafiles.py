"""Where the project's data files (series, pins, templates) are found.

They live in the repository's ``upgrade/`` directory. A source or editable
checkout uses that directory beside the package; an installed package finds
the copy pbr's ``data_files`` put under ``sys.prefix``.
"""

import os
from pathlib import Path
import string
import sys

from heat_upgrade_tests import exceptions

INSTALLED_SUBDIR = Path('share', 'heat-upgrade-tests', 'upgrade')


def upgrade_dir() -> Path:
    """The ``upgrade/`` directory holding releases.yaml and templates."""
    package_dir = Path(__file__).resolve().parent
    candidates = [package_dir.parent / 'upgrade',
                  Path(sys.prefix) / INSTALLED_SUBDIR]
    for candidate in candidates:
        if (candidate / 'releases.yaml').is_file():
            return candidate
    raise exceptions.MiniCloudError(
        'cannot find the upgrade/ data directory (looked in '
        + ', '.join(str(c) for c in candidates) + ')')


def template_path(name: str) -> Path:
    """The path of one configuration template in ``upgrade/templates``."""
    path = upgrade_dir() / 'templates' / name
    if not path.is_file():
        raise exceptions.MiniCloudError(f'missing template {path}')
    return path


def render_template(name: str, dest: Path, values: dict[str, object]) -> Path:
    """Render ``upgrade/templates/<name>`` to ``dest`` with ``values``.

    Templates use ``string.Template`` (``$var``). They are oslo.config
    files, where ``$`` in a value starts a substitution, so each ``$`` of a
    value is doubled. ``dest`` is written with mode 0600, as it may hold
    passwords, and replaced atomically.
    """
    text = template_path(name).read_text()
    escaped = {key: str(value).replace('$', '$$')
               for key, value in values.items()}
    try:
        rendered = string.Template(text).substitute(escaped)
    except KeyError as exc:
        raise exceptions.MiniCloudError(
            f'template {name} needs a value for {exc}')
    except ValueError as exc:
        raise exceptions.MiniCloudError(f'template {name} is bad: {exc}')
    write_private(dest, rendered)
    return dest


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.name}.tmp')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # An older file of that name may have had a wider mode.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(tmp, path)
