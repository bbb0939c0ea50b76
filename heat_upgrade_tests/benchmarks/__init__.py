"""The benchmarks of ``tox -e bench`` (``bench/bench.py``): their logic.

Kept in the package, apart from the script, so that the unit tests can
prove the parsing, the figures and the plots without a cloud.
"""
