"""The stack users Heat makes in Keystone, looked for by the checks.

Not a check (its name starts with ``_``). Wait condition handles and
scaling policies get a user in Heat's stack-user domain; it must outlive
Heat's downtime and go away with the stack. Looking users up needs admin
credentials: without them these steps are skipped, not failed.
"""

from typing import Any

from heat_upgrade_tests import exceptions


class StackUserChecks:
    """Mixin for a ResourceCheck recording ``record['stack_user']``."""

    stack_user_of: str = 'the stack'

    def _user_exists(self, ctx, record: dict[str, Any]) -> bool | None:
        if ctx.admin_conn is None:
            return None
        return ctx.admin_conn.identity.find_user(
            record['stack_user'], ignore_missing=True) is not None

    def verify_stack_user(self, ctx, record: dict[str, Any]) -> None:
        """Fail unless Keystone itself (never Heat) has the stack user."""
        if self._user_exists(ctx, record) is False:
            self.fail(f'stack user {record["stack_user"]} of '
                      f'{self.stack_user_of} is gone from Keystone')

    def verify_heat_down(self, ctx, record: dict[str, Any]) -> None:
        if ctx.admin_conn is None:
            raise exceptions.CheckSkipped(
                f'{self.name}: looking up stack users needs admin '
                f'credentials')
        self.verify_stack_user(ctx, record)

    def verify_gone(self, ctx, record: dict[str, Any]) -> None:
        if self._user_exists(ctx, record):
            self.fail(f'stack user {record["stack_user"]} of '
                      f'{self.stack_user_of} is still in Keystone after '
                      f'the stack was deleted')
