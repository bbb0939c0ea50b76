"""The integrity checks in the mini-cloud's full upgrade.

Two calls from ``FullUpgradePlan._upgrade``:

* ``configure_phases``, before pre-upgrade: the main run's phase
  configuration gets an ``[integrity]`` section, so the phases do what
  they do in devstack (pre-upgrade records the rows; post-upgrade checks
  the database and runs heat-status with the new Heat up). The drills'
  configurations are left alone.
* ``check_after_db_sync``, right after the new release's ``db_sync`` and
  before the new Heat starts: every check (schema, rows, options,
  heat.conf, heat-status, RPC), as a step of the plan, reported in
  ``integrity-report.json`` in the work directory. A failure is recorded
  in its step and the upgrade goes on, so post-upgrade still runs.
"""

import configparser
import os

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import runner

REPORT_FILE = 'integrity-report.json'
STEP = 'integrity: schema, rows, options, heat.conf, heat-status, RPC'


def _python(release) -> str:
    return str(release.venv / 'bin' / 'python')


def configure_phases(plan) -> None:
    """Add ``[integrity]`` to the main phase configuration file."""
    cloud = plan.cloud
    parser = configparser.RawConfigParser()
    parser.read(cloud.phase_conf)
    parser['integrity'] = {
        # oslo.config reads $ as a substitution.
        'database_connection': cloud.heat_db_url.replace('$', '$$'),
        'new_heat': _python(plan.new),
        'heat_config_files': str(cloud.heat_conf),
    }
    # It now holds the database password.
    fd = os.open(cloud.phase_conf, os.O_WRONLY | os.O_TRUNC | os.O_CREAT,
                 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, 'w') as f:
        parser.write(f)


def settings(plan) -> runner.Settings:
    cloud = plan.cloud
    return runner.Settings(
        old=_python(plan.old), new=_python(plan.new),
        database_connection=cloud.heat_db_url,
        state_dir=str(cloud.state_dir),
        heat_config_files=[str(cloud.heat_conf)],
        cache_dir=str(plan.cache_dir),
        log_dir=str(plan.run_dir / 'logs'),
        status_moment='before the new Heat starts')


def check_after_db_sync(plan) -> None:
    """Run every integrity check as one step of the plan."""
    def run() -> str:
        result = runner.run(settings(plan))
        path = result.write(plan.run_dir / REPORT_FILE)
        plan.say(result.render())
        if not result.ok:
            raise environments.IntegrityError(
                'integrity checks failed: '
                + '; '.join(f'{f.check}: {f.summary}'
                            for f in result.failed) + f' (see {path})')
        return f'{result.tally()}; {path}'

    try:
        plan.step(STEP, run)
    except exceptions.UpgradeTestError:
        pass  # recorded in its step; post-upgrade still runs
