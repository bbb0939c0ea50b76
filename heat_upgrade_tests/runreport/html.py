"""One self-contained HTML page per run (no script, font or image fetched).

Rendered with Jinja2 from ``results.RunResults``; the disruption timeline
is drawn as inline SVG, so the page needs nothing beside it. Links go to
files of the run directory (logs, subunit and junit streams) relative to
the page, so they keep working where the directory is collected.
"""

import datetime
import os
from pathlib import Path

import jinja2

from heat_upgrade_tests.runreport import results as results_mod

REPORT_NAME = 'report.html'
MARKS = {
    results_mod.PASS: ('pass', 'passed'),
    results_mod.FAIL: ('FAIL', 'failed'),
    results_mod.SKIP: ('skip', 'skipped'),
    results_mod.KNOWN: ('known', 'known finding'),
    results_mod.UNEXPECTED: ('unexp.', 'unexpected pass'),
}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader('heat_upgrade_tests.runreport',
                                    'templates'),
        autoescape=jinja2.select_autoescape(['html', 'j2']),
        undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)
    env.filters['mib'] = lambda b: f'{(b or 0) / 2**20:.0f} MiB'
    env.filters['secs'] = lambda s: '' if s is None else f'{s:.1f}s'
    return env


def timeline(disruption: dict | None, width: int = 900) -> dict | None:
    """The geometry of the disruption plot: one lane per probe.

    Each lane is a row of rectangles, green where the probe answered and
    red where it did not, on a time axis in seconds; marks are vertical
    lines with their label.
    """
    if not disruption or not disruption.get('probes'):
        return None
    times = [s[0] for p in disruption['probes'] for s in p.get('samples', [])]
    times += [m['t'] for m in disruption.get('marks', [])]
    if not times:
        return None
    t0, t1 = min(times), max(times)
    span = (t1 - t0) or 1.0
    left, lane_h = 140, 22
    plot_w = width - left - 10

    def x(t: float) -> float:
        return round(left + (t - t0) / span * plot_w, 1)

    lanes = []
    for i, probe in enumerate(disruption['probes']):
        samples = sorted(probe.get('samples', []))
        rects = []
        for j, (t, ok) in enumerate(samples):
            end = samples[j + 1][0] if j + 1 < len(samples) else t
            rects.append({'x': x(t), 'w': max(x(end) - x(t), 1.0),
                          'ok': bool(ok)})
        down = sum(1 for _, ok in samples if not ok)
        lanes.append({'name': probe.get('name', f'probe {i + 1}'),
                      'y': 20 + i * (lane_h + 6), 'rects': rects,
                      'down': down, 'total': len(samples)})
    height = 20 + len(lanes) * (lane_h + 6) + 40
    marks = [{'x': x(m['t']), 'label': m.get('label', '')}
             for m in disruption.get('marks', [])]
    ticks = [{'x': x(t0 + span * k / 5), 'label': f'{t0 + span * k / 5:.0f}s'}
             for k in range(6)]
    return {'width': width, 'height': height, 'lane_h': lane_h,
            'lanes': lanes, 'marks': marks, 'ticks': ticks,
            'axis_y': height - 25}


def render(run: results_mod.RunResults) -> str:
    template = _environment().get_template('report.html.j2')
    return template.render(
        run=run, summary=run.summary, marks=MARKS,
        timeline=timeline(run.disruption),
        generated=datetime.datetime.now(datetime.timezone.utc).strftime(
            '%Y-%m-%d %H:%M:%S UTC'))


def write(directory: str | Path, output: str | Path | None = None) -> Path:
    """Render the report of the run in ``directory``; return its path."""
    run = results_mod.load(directory)
    path = Path(output) if output else run.directory / REPORT_NAME
    tmp = path.with_name(f'.{path.name}.tmp')
    tmp.write_text(render(run))
    os.replace(tmp, path)
    return path
