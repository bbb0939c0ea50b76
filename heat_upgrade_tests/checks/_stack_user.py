"""The stack users Heat makes in Keystone, looked for by the checks.

Not a check (its name starts with ``_``). Wait condition handles and
scaling policies get a user in Heat's stack-user domain; it must outlive
Heat's downtime and go away with the stack. Looking users up needs admin
credentials: the checks say so (``reads_as_admin``), so that without them
they are skipped with that reason in every phase, never passed having
looked at nothing.
"""

import dataclasses

from heat_upgrade_tests.checks import base


@dataclasses.dataclass
class StackUserRecord(base.CheckRecord):
    """A check's record plus the id of its resource's stack user."""

    stack_user: str | None = None


class StackUserChecks:
    """Mixin for a ResourceCheck recording ``record.stack_user``."""

    stack_user_of: str = 'the stack'
    reads_as_admin = 'looks up its stack user in Keystone'
    record_type = StackUserRecord

    def _user_exists(self, ctx, record: StackUserRecord) -> bool:
        return ctx.admin_conn.identity.find_user(
            record.stack_user, ignore_missing=True) is not None

    def verify_stack_user(self, ctx, record: StackUserRecord) -> None:
        """Fail unless Keystone itself (never Heat) has the stack user."""
        if not self._user_exists(ctx, record):
            self.fail(f'stack user {record.stack_user} of '
                      f'{self.stack_user_of} is gone from Keystone')

    def verify_outside_heat(self, ctx, record: StackUserRecord) -> None:
        self.verify_stack_user(ctx, record)

    def verify_gone(self, ctx, record: StackUserRecord) -> None:
        if self._user_exists(ctx, record):
            self.fail(f'stack user {record.stack_user} of '
                      f'{self.stack_user_of} is still in Keystone after '
                      f'the stack was deleted')
