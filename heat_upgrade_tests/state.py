"""Cross-phase state: one small JSON document per check.

Phases run in separate processes, possibly from different checkouts (grenade
runs the new tree's hooks even for ``create``). What pre-upgrade made is
written here and read by the later phases. Documents are replaced
atomically, readable only by their owner, carry a schema version, and never
hold a credential.
"""

import json
import os
from pathlib import Path
import re
import tempfile
from typing import Any
import uuid

from heat_upgrade_tests import exceptions

SCHEMA_VERSION = 1
_SECRET_KEY = re.compile(r'pass(word)?|secret|token|credential|private_key',
                         re.IGNORECASE)

PRE_UPGRADE = 'pre-upgrade'
# Read-only and repeatable: with a Heat up (either release), the stacks
# and what they made are as pre-upgrade recorded them; the state is never
# written, so it may run any number of times between the other phases.
VERIFY = 'verify'
DURING_UPGRADE = 'during-upgrade'
NO_API = 'no-api'
# Rolling plans: old and new engines both serve (see ``mixed``).
MIXED = 'mixed'
POST_UPGRADE = 'post-upgrade'
DESTROY = 'destroy'
# Every phase, in grenade's order; the one list of them.
PHASES = (PRE_UPGRADE, VERIFY, DURING_UPGRADE, NO_API, MIXED,
          POST_UPGRADE, DESTROY)
PHASE_ORDER = PHASES
# The package of the phases' generated stestr modules: the one place their
# test ids are made (the phase command) and read (the report, the mixed
# phase's observer).
SUITE_PACKAGE = 'heat_upgrade_tests.phases.suite'


class CheckState:
    """The state document of one check in one state directory."""

    def __init__(self, state_dir: str | os.PathLike, check_name: str):
        self.state_dir = Path(os.path.expanduser(str(state_dir)))
        self.check_name = check_name
        self.path = self.state_dir / f'{check_name}.json'

    def exists(self) -> bool:
        return self.path.exists()

    def load(self, phase: str) -> dict[str, Any]:
        """Read the document; ``phase`` is who asks, for the error."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            raise exceptions.StateError(
                f'no state for check {self.check_name} in {self.state_dir}: '
                f'run the pre-upgrade phase before {phase}')
        except OSError as exc:
            raise exceptions.StateError(
                f'cannot read state file {self.path}: {exc.strerror}')
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise self._corrupt(f'not JSON: {exc}')
        if not isinstance(doc, dict) or doc.get('check') != self.check_name:
            raise self._corrupt(f'not the state of check {self.check_name}')
        version = doc.get('schema_version')
        if version != SCHEMA_VERSION:
            raise self._corrupt(
                f'schema version {version!r}; this version of '
                f'heat-upgrade-tests reads {SCHEMA_VERSION}')
        problem = _shape_problem(doc)
        if problem:
            raise self._corrupt(problem)
        return doc

    def _corrupt(self, reason: str) -> exceptions.StateError:
        """The one line for every state file the phases cannot use."""
        return exceptions.StateError(
            f'state file {self.path} is corrupt ({reason}); rerun the '
            f'pre-upgrade phase')

    def save(self, doc: dict[str, Any]) -> None:
        """Atomically replace the document (mode 0600)."""
        doc = dict(doc, check=self.check_name, schema_version=SCHEMA_VERSION)
        _refuse_secrets(doc, self.check_name)
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.state_dir,
                                   prefix=f'.{self.check_name}.')
        try:
            with os.fdopen(fd, 'w') as f:
                json.dump(doc, f, indent=2, sort_keys=True)
                f.write('\n')
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def new(self, check_id: str) -> dict[str, Any]:
        """A fresh document for pre-upgrade."""
        return {'check': self.check_name, 'check_id': check_id,
                'schema_version': SCHEMA_VERSION, 'skipped': None,
                'run_id': uuid.uuid4().hex[:8], 'phases': {}, 'record': {}}


# The document's shape: key, the types it may have, and whether required.
_SHAPE = (
    ('check_id', (str,), True),
    ('run_id', (str,), True),
    ('phases', (dict,), True),
    ('record', (dict,), True),
    ('skipped', (str, type(None)), False),
    ('known_findings', (dict,), False),
    ('unexpected_successes', (dict,), False),
)


def _shape_problem(doc: dict[str, Any]) -> str | None:
    """What is wrong with a document's shape, or None."""
    for key, types, required in _SHAPE:
        if key not in doc:
            if required:
                return f'key {key!r} missing'
            continue
        if not isinstance(doc[key], types):
            return (f'{key!r} is a {type(doc[key]).__name__}, not a '
                    f'{" or ".join(t.__name__ for t in types)}')
    for phase, outcome in doc['phases'].items():
        if phase not in PHASE_ORDER or not isinstance(outcome, str):
            return f'phases holds {phase!r}: {outcome!r}'
    return None


def _refuse_secrets(value: Any, check: str, path: str = '') -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            where = f'{path}.{key}' if path else str(key)
            if _SECRET_KEY.search(str(key)) and item not in (None, '', {}):
                raise exceptions.StateError(
                    f'check {check} tried to store {where!r} in its state: '
                    f'credentials never go into the state')
            _refuse_secrets(item, check, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_secrets(item, check, f'{path}[{index}]')


def suite_module(phase: str) -> str:
    """The generated stestr module of ``phase`` (``...suite.test_verify``)."""
    return f'{SUITE_PACKAGE}.test_{phase.replace("-", "_")}'


def is_phase_test(test_id: str) -> bool:
    """Whether ``test_id`` is one of the phases' generated tests."""
    return test_id.startswith(SUITE_PACKAGE + '.')
