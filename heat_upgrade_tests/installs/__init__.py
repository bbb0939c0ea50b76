"""What a run installs: venvs from PyPI, Heat source trees, apt packages,
the guest image built from Debian packages.

Used by the mini-cloud's services and by the integrity checks alike; it
knows nothing of either (it imports only the ground: releases, processes,
datafiles, exceptions).
"""
