"""Upgrade plans: what a run does, in what order, and what it observes.

``model`` reads a plan file (``upgrade/plans/NAME.yaml``) and prints it;
``runner`` walks any plan; ``upgrade`` is the walk on the real mini-cloud;
``pairs`` and ``matrix`` pick the releases; ``driver`` is the ``upgrade``
command; ``disruption``, ``memory``, ``mixing`` and ``progress`` watch a
run. A room of their own, above the services they start (``minicloud``)
and beside the phases, which they run only as commands, never import
(tests/unit/test_imports.py holds that).
"""
