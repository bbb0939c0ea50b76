"""The HTML report of one run, rendered from the run's saved results.

``results.load`` reads a run's work directory (see its docstring for the
files), ``html.render`` turns that into one self-contained HTML page.
"""
