"""``heat-upgrade-tests scaffold NAME``: a new check in three files.

Writes the check's module, its template and its fault drill, each a
working example to edit, so that adding a check starts from something
that runs rather than from a blank page. What only the author can say
(why a deployer cares, what the stack is, what each phase proves, the
template's description) is marked ``base.PLACEHOLDER``: ``register``
refuses the check, so the unit tests fail and the check joins no
catalogue, until each mark is replaced. Existing files are never
overwritten.
"""

from pathlib import Path
import string
import uuid

import heat_upgrade_tests
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions

PACKAGE_DIR = Path(heat_upgrade_tests.__file__).resolve().parent

CHECK = string.Template('''"""$title

$placeholder: say here why a deployer cares: what breaks for them if this
does not survive an upgrade.
"""

from heat_upgrade_tests.checks import base


@base.register
class $cls(base.ResourceCheck):
    name = '$name'
    idempotent_id = '$uuid'
    description = ('$placeholder: what the stack is made of (one sentence '
                   'for the check table).')
    template = '$name.yaml'
    # needs_admin = True               # OS::Keystone::* are admin-only
    # reads_as_admin = 'looks up ...'  # runs as member, reads as admin
    # required_services = ('compute',)  # skipped where the catalog lacks it
    # required_resource_types = ('OS::Nova::Server',)
    # min_series = '2026.1'            # the oldest series upgraded from
    # record_type = Record             # a base.CheckRecord subclass, for
    #                                  # more than id, parameters, outputs
    proves = {
        'pre-upgrade': '$placeholder: the TestResource holds the label',
        'post-upgrade': '$placeholder: the same outputs; an update changes '
                        'the label in place',
    }

    # The six hooks (base.HOOKS); the framework does the rest: the
    # status, the outputs compared with those recorded, the mixed phase,
    # the delete.
    def create(self, ctx, record):
        """Pre-upgrade: the stack, with its parameters (recorded)."""
        self.create_stack(ctx, record, {'label': 'before'})

    def verify(self, ctx, record):
        """Read-only: after create, in verify, and after the upgrade."""
        self.check_outputs(record.outputs)

    def check_outputs(self, outputs, label='before'):
        self.assert_equal(label, outputs.get('value'), 'value')

    # def verify_outside_heat(self, ctx, record):
    #     """With Heat down: find what the stack made in its own service."""

    def update(self, ctx, record):
        """Post-upgrade: change the old stack; observe the effect.

        Or say update = base.NoUpdate('why') instead.
        """
        outputs = self.update_stack(ctx, record, {'label': 'after'})
        self.assert_equal(record.outputs['id'], outputs.get('id'),
                          'the resource (it was replaced)')
        self.check_outputs(outputs, label='after')

    # def verify_gone(self, ctx, record):
    #     """After the delete: what the stack made outside Heat is gone."""

    # def verify_data_plane(self, ctx, record):
    #     """Every API down: the workload itself still answers."""
''')

TEMPLATE = string.Template('''heat_template_version: 2018-08-31
description: >
  $placeholder: the stack of check $name: replace the TestResource with
  what the check is about.
parameters:
  label:
    type: string
resources:
  test:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: label}
outputs:
  value:
    value: {get_attr: [test, output]}
  id:
    value: {get_resource: test}
''')

DRILL = string.Template('''"""$name: its TestResource's stored value is
changed."""

from heat_upgrade_tests.tests.functional import drills

# A start: this fault trips the generic output comparison. Once the check
# has assertions of its own, make the drill trip one of them (expect its
# fixed text, asserts='own'; see doc/source/drills.rst).
DRILL = drills.Drill(
    check='$name',
    fault='the value the TestResource stored is overwritten in Heat\\'s '
          'database while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect=drills.OUTPUTS_EXPECT, asserts='outputs',
    inject=lambda tb: tb.set_resource_data('test', 'value', 'tampered'))
''')


def paths(name: str, root: Path) -> dict[str, Path]:
    """Where the check's three files go under the source tree ``root``."""
    package = root / 'heat_upgrade_tests'
    return {
        'check': package / 'checks' / f'{name}.py',
        'template': package / 'checks' / 'templates' / f'{name}.yaml',
        'drill': package / 'tests' / 'functional' / 'drills' / f'{name}.py',
    }


def render(name: str) -> dict[str, str]:
    """The three files' contents for check ``name``."""
    values = {
        'name': name, 'uuid': str(uuid.uuid4()),
        'cls': ''.join(part.capitalize() for part in name.split('_')),
        'title': f'{name}: {base.PLACEHOLDER}: what survives the upgrade, '
                 f'in one line.',
        'placeholder': base.PLACEHOLDER,
    }
    return {'check': CHECK.substitute(values),
            'template': TEMPLATE.substitute(values),
            'drill': DRILL.substitute(values)}


def scaffold(name: str, root: Path) -> dict[str, Path]:
    """Write the files; refuse a bad or taken name, or an existing file."""
    if not name.isidentifier() or name != name.lower() or (
            name.startswith('_')) or name == 'base':
        raise exceptions.ConfigError(
            f'check name {name!r} must be a lower-case Python identifier '
            f'(it names a module and a test)')
    if name in base.all_checks():
        raise exceptions.ConfigError(f'a check named {name} exists already')
    where = paths(name, root)
    taken = [str(p) for p in where.values() if p.exists()]
    if taken:
        raise exceptions.ConfigError(f'will not overwrite {", ".join(taken)}')
    for key, text in render(name).items():
        where[key].parent.mkdir(parents=True, exist_ok=True)
        where[key].write_text(text)
    return where


def main(name: str, root: str | None = None) -> int:
    written = scaffold(name, Path(root) if root else PACKAGE_DIR.parent)
    print(f'wrote the check {name}:')
    for key, path in written.items():
        print(f'  {key:8} {path}')
    print(f'next: replace every {base.PLACEHOLDER} (the check is refused '
          f'until then), edit them into your check, then run it alone on a '
          f'mini-cloud with [phases] enabled_checks = {name} (see "Adding '
          f'a resource check" in the docs)')
    return 0
