"""One phase in one process: the command, the runner, the mixed phase.

``command`` is ``heat-upgrade-tests phase NAME`` (preflight, the
integrity step and its hold, stestr, the known findings); ``runner`` runs
one check's part of a phase (``Session``, ``run_check_phase``); ``mixed``
is the rolling plans' mixed phase; ``check_order`` the seed's order of
the checks; ``integrity`` the database checks around the phase; ``suite``
the generated stestr modules, one per phase.
"""
