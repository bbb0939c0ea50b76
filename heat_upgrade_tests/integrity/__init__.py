"""Upgrade integrity: database, configuration and compatibility checks.

Two problems a deployer meets are not about stacks at all: a database that
does not reach the new release's schema (or loses rows on the way), and
configuration options removed without notice. This package checks both,
plus what decides whether old and new engines can share a bus (RPC) and
what ``heat-status upgrade check`` says, and reports it all.

Heat's code and its library pins live in each release's own environment,
never in this one: everything that needs Heat runs there, through
``helpers/heat_probe.py`` or the release's own console modules
(``oslo_config.generator``, ``oslo_config.validator``, ``heat.cmd.status``).
"""
