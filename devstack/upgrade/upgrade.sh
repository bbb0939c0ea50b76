#!/bin/bash
#
# devstack/upgrade/upgrade.sh - grenade upgrade hook of heat-upgrade-tests
#
# It installs and upgrades nothing (Heat's own plugin upgrades Heat). It
# runs the during-upgrade phase: grenade upgrades its projects in
# registration order, and this plugin's settings put it just before
# heat, so grenade calls this script after the in-tree services
# (keystone, nova, neutron, cinder...) are upgraded and back up, and
# before Heat is upgraded. Heat is down and the rest is up: the moment to
# find each stack's physical resources through their own services. The
# phase fails unless Heat's API is really down. Grenade runs it with
# TOP_DIR set to the target DevStack.

# shellcheck source-path=SCRIPTDIR

set -o errexit

# shellcheck source=/dev/null
source "$GRENADE_DIR/grenaderc"
# shellcheck source=/dev/null
source "$GRENADE_DIR/functions"
# shellcheck source=/dev/null
source "$TOP_DIR/openrc"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

set -o xtrace

run_heat_upgrade_tests_phase during-upgrade \
    "if Heat's API was up, grenade did not run this before Heat's upgrade:" \
    "see UPGRADE_PROJECTS, which devstack/upgrade/settings orders"
