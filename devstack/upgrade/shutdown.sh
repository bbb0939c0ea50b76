#!/bin/bash
#
# devstack/upgrade/shutdown.sh - grenade shutdown hook of heat-upgrade-tests
#
# Nothing to stop: the project runs no service (its phases run only while
# a hook runs), and Heat's own plugin stops Heat. So it sources nothing.

set -o errexit

echo "heat-upgrade-tests runs no service: nothing to stop"
