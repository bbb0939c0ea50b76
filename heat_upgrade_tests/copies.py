"""Copies of a check: ``[phases] stacks_per_check`` stacks of each.

A deployer who wants a fuller database before migrating, and the
benchmarks that ask how a phase grows with the number of stacks, set
``[phases] stacks_per_check`` to N: each check then makes N stacks, each
its own phase test with its own state document, carried through every
phase like the first. Copy 1 is the check itself, under the check's own
name, state file and test id, so the default (1) is exactly the run
without copies; copy k > 1 is named ``<check>__copy<k>`` (a name no check
can take: check names are identifiers without a double underscore here,
and the state file, the test and the report's row all use it).

Every copy has a ``run_id`` of its own (a fresh state document), so its
stack and what the stack makes outside Heat are named apart from the
other copies' (``ResourceCheck.stack_name``).
"""

import uuid

SEPARATOR = '__copy'


def state_name(check_name: str, copy: int = 1) -> str:
    """The name of copy ``copy``'s state document and test."""
    if copy < 1:
        raise ValueError(f'copy {copy} of {check_name}: copies count from 1')
    return check_name if copy == 1 else f'{check_name}{SEPARATOR}{copy}'


def split(name: str) -> tuple[str, int]:
    """``nested_group__copy3`` -> ``('nested_group', 3)``; a check's -> 1."""
    check, sep, number = name.rpartition(SEPARATOR)
    if sep and check and number.isdigit() and int(number) > 1:
        return check, int(number)
    return name, 1


def numbers(conf) -> range:
    """The copies a configuration asks for: 1 .. stacks_per_check."""
    return range(1, conf.phases.stacks_per_check + 1)


def state_names(conf, checks) -> list[tuple[str, int, str]]:
    """``(check name, copy, state name)`` of every copy of ``checks``."""
    return [(name, copy, state_name(name, copy))
            for name in checks for copy in numbers(conf)]


def test_id(check_id: str, phase: str, base_id: str, copy: int = 1) -> str:
    """The stable idempotent id of one copy's test in one phase.

    Copy 1 keeps ``base_id`` (the check's phase test id); a further copy's
    is derived from the check's id, the phase and the copy's number.
    """
    if copy == 1:
        return base_id
    return str(uuid.uuid5(uuid.UUID(check_id), f'{phase}{SEPARATOR}{copy}'))
