#!/bin/bash
#
# devstack/upgrade/resources.sh - grenade resource hooks of
# heat-upgrade-tests
#
#   resources.sh early_create | create | verify pre-upgrade|post-upgrade
#                | verify_noapi [pre-upgrade] | destroy | force_destroy
#
# Grenade runs it with TOP_DIR set to the base DevStack. Each phase is a
# tox env of this checkout (see lib.sh); a failing phase makes this script
# exit non-zero, which makes grenade stop.

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

# With the old Heat up: create each check's stack and verify it (status and
# outputs) at once; the state is kept for the later phases.
function create {
    resource_save "$HEAT_UPGRADE_TESTS_NAME" config \
        "$(heat_upgrade_tests_config)"
    # The old Heat's version, for the checks' series (see lib.sh).
    resource_save "$HEAT_UPGRADE_TESTS_NAME" from_heat_version \
        "$(heat_upgrade_tests_heat_version)"
    run_heat_upgrade_tests_phase pre-upgrade
    if heat_upgrade_tests_heat_tests_enabled; then
        # Heat's own tests with the old Heat (see devstack/settings).
        run_heat_upgrade_tests_phase heat-tests-before
    fi
}

function verify {
    local side=$1
    case $side in
        pre-upgrade)
            # The verify phase: read-only and repeatable, the stacks and
            # what they made as create left them (create must have run).
            local created
            created=$(resource_get "$HEAT_UPGRADE_TESTS_NAME" config)
            if [[ -z "$created" ]]; then
                die $LINENO "verify pre-upgrade ran before create"
            fi
            run_heat_upgrade_tests_phase verify
            ;;
        post-upgrade)
            # With the new Heat: same status and outputs, then an update
            # whose effect is observed. Nothing is deleted here: destroy
            # does that. Heat's own tests first, before the checks'
            # stacks change.
            if heat_upgrade_tests_heat_tests_enabled; then
                run_heat_upgrade_tests_phase heat-tests-after
            fi
            run_heat_upgrade_tests_phase post-upgrade
            ;;
        *)
            die $LINENO "verify needs pre-upgrade or post-upgrade," \
                "not '$side'"
            ;;
    esac
}

# Every service is down: probe the data plane only.
function verify_noapi {
    run_heat_upgrade_tests_phase no-api
}

# Delete every check's stack that is left and prove its physical
# resources gone (the real delete: post-upgrade deletes nothing). It runs
# after a failed post-upgrade too, and skips a check with nothing left, so
# it is idempotent.
function destroy {
    run_heat_upgrade_tests_phase destroy
}

# Dispatcher
case ${1:-} in
    early_create)
        # Nothing: no check makes a resource that others need first.
        ;;
    create)
        create
        ;;
    verify)
        verify "${2:-}"
        ;;
    verify_noapi)
        verify_noapi
        ;;
    destroy)
        destroy
        ;;
    force_destroy)
        # grenade never calls it; by convention it cleans up by hand, and
        # the destroy phase is idempotent.
        destroy
        ;;
    *)
        die $LINENO "unknown resource phase '${1:-}'; expected" \
            "early_create, create, verify, verify_noapi, destroy or" \
            "force_destroy"
        ;;
esac
