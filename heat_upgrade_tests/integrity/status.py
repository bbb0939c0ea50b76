"""``heat-status upgrade check``: the new code judging the old config.

Run with the new release's python and the deployed (old) configuration,
before the new Heat starts and again after: it is what Heat itself offers
a deployer before an upgrade. oslo.upgradecheck's codes: 0 success,
1 warning, 2 failure; anything else means the command itself broke.
"""

import json
from pathlib import Path

from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import report

_RESULTS = {0: 'Success', 1: 'Warning', 2: 'Failure'}


def run(env: environments.HeatEnv, conf_files: list[Path],
        moment: str, timeout: float = 120) -> report.Finding:
    args = ['-m', 'heat.cmd.status']
    for path in conf_files:
        args += ['--config-file', str(path)]
    args += ['upgrade', 'check', '--json']
    proc = environments.run_python(
        env.python, args, f'heat-status upgrade check of {env.label}',
        timeout=timeout, check=False)
    return finding(env.label, moment, conf_files, proc.returncode,
                   proc.stdout, proc.stderr)


def finding(label: str, moment: str, conf_files: list[Path],
            returncode: int, stdout: str, stderr: str) -> report.Finding:
    """The finding of one heat-status run, from its exit code and JSON."""
    config = ', '.join(str(p) for p in conf_files) or 'no configuration file'
    try:
        doc = json.loads(stdout)
        checks = [(c['check'], c['result'], c.get('details'))
                  for c in doc.get('checks', [])]
    except (ValueError, KeyError, TypeError, AttributeError):
        checks = None
    details = [f'configuration: {config}']
    if checks is not None:
        for name, result, why in checks:
            line = f'{name}: {_RESULTS.get(result, result)}'
            details.append(line + (f' ({why})' if why else ''))
    else:
        details += (stdout + stderr).strip().splitlines()[-10:]
    data = {'returncode': returncode, 'moment': moment,
            'checks': [{'check': n, 'result': r, 'details': d}
                       for n, r, d in checks or []]}
    where = f'heat-status upgrade check of {label} {moment}'
    if returncode == 0:
        return report.Finding('upgrade-status', report.PASSED,
                              f'{where}: success ('
                              f'{report.plural(len(checks or []), "check")})',
                              details, data)
    if returncode == 1:
        return report.Finding('upgrade-status', report.WARNING,
                              f'{where}: warnings', details, data)
    what = 'failures' if returncode == 2 else \
        f'the command failed (exit {returncode})'
    return report.Finding('upgrade-status', report.FAILED, f'{where}: {what}',
                          details, data)
