"""The migrated database against the new release's migrations and models.

Heat's own tests migrate an empty database; here the real, populated one
is checked after the upgrade's ``db_sync``, with the new release's code
(run in its environment by the probe):

* its alembic revision is the head of the new release's migrations;
* alembic's ``compare_metadata`` of the database against ``heat.db.models``
  finds nothing, with the comparison rules of Heat's own migration test,
  so MariaDB's representation of booleans and defaults is not reported;
  any remaining difference is printed in full.
"""

from typing import Any

from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import report


def unapplied(revisions: list[dict[str, Any]], head: str,
              current: str | None) -> list[dict[str, Any]] | None:
    """The migrations between ``current`` and ``head``, newest first.

    None when ``current`` is not an ancestor of ``head`` (a revision the
    release does not know: a newer release's, or another branch's).
    """
    by_id = {r['revision']: r for r in revisions}
    chain = []
    revision = head
    while revision is not None and revision != current:
        entry = by_id.get(revision)
        if entry is None:
            return None
        chain.append(entry)
        down = entry['down_revision']
        revision = down if isinstance(down, str) or down is None else None
    if revision != current:
        return None
    return chain


def head_finding(probed: dict[str, Any], label: str) -> report.Finding:
    heads, current = probed['heads'], probed['current']
    data = {'heads': heads, 'current': current}
    if len(heads) != 1:
        return report.Finding(
            'schema-head', report.FAILED,
            f'{label} has {len(heads)} migration heads '
            f'({", ".join(heads)}); Heat keeps exactly one', data=data)
    head = heads[0]
    if not current:
        return report.Finding(
            'schema-head', report.FAILED,
            f'the database has no alembic revision: it was never migrated '
            f'(run heat-manage db_sync of {label}; head {head})', data=data)
    if current == [head]:
        return report.Finding(
            'schema-head', report.PASSED,
            f'database at {head}, the head of {label}', data=data)
    chain = unapplied(probed['revisions'], head, current[0]) \
        if len(current) == 1 else None
    if chain is None:
        return report.Finding(
            'schema-head', report.FAILED,
            f'database at {", ".join(current)}, which {label} does not know '
            f'(its head is {head}): a newer release\'s migration, or '
            f'another branch', data=data)
    details = [f'not applied: {r["revision"]} {r["doc"] or ""}'.rstrip()
               for r in reversed(chain)]
    return report.Finding(
        'schema-head', report.FAILED,
        f'database at {current[0]}, not at {label}\'s head {head}: '
        f'{report.plural(len(chain), "migration")} not applied; run '
        f'heat-manage db_sync of {label}', details,
        dict(data, unapplied=[r['revision'] for r in chain]))


def models_finding(probed: dict[str, Any], label: str) -> report.Finding:
    diff = probed['diff']
    data = {'diff': diff, 'comparator': probed.get('comparator')}
    if not diff:
        return report.Finding(
            'schema-models', report.PASSED,
            f'the database matches {label}\'s models (with '
            f'{probed.get("comparator")})', data=data)
    details = list(diff) + ['full diff of alembic compare_metadata:']
    details += ['  ' + line for line in probed['diff_text'].splitlines()]
    shown = '; '.join(diff[:3]) + ('; ...' if len(diff) > 3 else '')
    return report.Finding(
        'schema-models', report.FAILED,
        f'{report.plural(len(diff), "difference")} between the database '
        f'and {label}\'s models: {shown}', details, data)


def check(env: environments.HeatEnv, url: str) -> list[report.Finding]:
    """Both schema findings for the database at ``url``."""
    probed = environments.probe(env.python, 'schema', database_url=url)
    return [head_finding(probed, env.label),
            models_finding(probed, env.label)]
