"""The catalogue's templates, as the old release accepted them, validated
by the new release.

Users keep their templates for years. Before the upgrade this check sends
every template of the catalogue that this cloud can run (with its files
and environment) to the old Heat's template-validate API and keeps each
request and answer; after the upgrade the same requests, as stored (not
the files of a newer checkout), go to the new Heat, which must accept
them and describe the same parameters.
"""

import dataclasses
from typing import Any

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions


def _summary(answer: dict[str, Any]) -> dict[str, Any]:
    """What must not change: each parameter's type and default."""
    return {name: {'Type': p.get('Type'), 'Default': p.get('Default')}
            for name, p in (answer.get('Parameters') or {}).items()}


@dataclasses.dataclass
class Record(base.CheckRecord):
    """Per member check, what the old Heat was asked and answered.

    ``{'request': ..., 'parameters': ...}``: the validate request and the
    parameters the old Heat described.
    """

    validated: dict[str, dict[str, Any]] = dataclasses.field(
        default_factory=dict)


@base.register
class TemplateValidation(base.ResourceCheck):
    name = 'template_validation'
    idempotent_id = 'ee27358a-3ba1-44e6-b0e5-7da51533e336'
    description = ('A TestResource stack; the check validates the template '
                   '(and files and environment) of every member check this '
                   'cloud can run, with each release.')
    template = 'template_validation.yaml'
    record_type = Record
    update = base.NoUpdate(
        'what it proves is the new Heat\'s answer to the stored validate '
        'requests; its own stack is only the anchor of the record')
    proves = {
        'pre-upgrade': 'the old Heat validates every template of the '
                       'catalogue this cloud can run; requests and answers '
                       'are kept',
        'post-upgrade': 'the new Heat accepts every stored request and '
                        'describes the same parameters (type and default)',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record)
        validated = {}
        for name, check_cls in sorted(base.all_checks().items()):
            check = check_cls()
            if check.wants_admin() or check.unsupported(ctx) is not None:
                continue
            body = ctx.conn.orchestration.read_env_and_templates(
                template_file=str(check.template_path()),
                environment_files=[str(e) for e in
                                   check.environment_paths()])
            answer = _api.call(ctx.conn, 'POST', '/validate', body)
            validated[name] = {'request': body,
                               'parameters': _summary(answer)}
        record.validated = validated

    def verify(self, ctx, record):
        """The Heat serving now accepts every stored request.

        Validation creates nothing. Before the upgrade the old Heat answers
        the requests it answered at create, and accepts the template it
        stored for this stack; after it, the new Heat must do the same.
        """
        if len(record.validated) < 2:
            self.fail(f'too few templates validated: '
                      f'{sorted(record.validated)}')
        refused = []
        for name, kept in sorted(record.validated.items()):
            try:
                answer = _api.call(ctx.conn, 'POST', '/validate',
                                   kept['request'])
            except exceptions.UpgradeTestError as exc:
                refused.append(f'{name}: {exc}')
                continue
            self.assert_equal(kept['parameters'], _summary(answer),
                              f'parameters of the template of {name} as '
                              f'the new Heat validates them')
        # The template the old Heat stored for this check's stack, as the
        # new Heat serves it: every update of an old stack starts from it.
        stored = _api.call(ctx.conn, 'GET',
                           f'{_api.stack_url(record)}/template')
        try:
            _api.call(ctx.conn, 'POST', '/validate', {'template': stored})
        except exceptions.UpgradeTestError as exc:
            refused.append(f'the template stored for stack '
                           f'{record.stack.name}: {exc}')
        if refused:
            self.fail(f'the new Heat refuses templates the old one '
                      f'accepted: {"; ".join(refused)}')
