# shellcheck shell=bash
#
# devstack/upgrade/lib.sh - what the grenade hooks of heat-upgrade-tests
# share: running one phase. Sourced by resources.sh and upgrade.sh after
# grenade's grenaderc and functions and DevStack's openrc.
#
# The hooks stay thin: each phase is the project's tox env of that name
# (``heat-upgrade-tests phase NAME``), run from this checkout, which is
# the target one in grenade.
#
# Variables read (all optional):
#   HEAT_UPGRADE_TESTS_CONFIG   the phases' oslo.config file; default
#                               DevStack's HEAT_UPGRADE_TESTS_CONF, else
#                               /etc/heat-upgrade-tests/heat-upgrade-tests.conf
#   HEAT_UPGRADE_TESTS_PHASE_CMD
#                               the command a phase name is appended to;
#                               default "tools/tox -c tox.ini -e" of this
#                               checkout. Split on blanks, no quoting.
#   HEAT_UPGRADE_TESTS_PHASE_TIMEOUT
#                               seconds one phase may take (default 3600,
#                               building its tox env included)

# The name this plugin registers for upgrade, and its resource_save key.
HEAT_UPGRADE_TESTS_NAME=heat-upgrade-tests

HEAT_UPGRADE_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HEAT_UPGRADE_TESTS_PHASE_TIMEOUT=${HEAT_UPGRADE_TESTS_PHASE_TIMEOUT:-3600}

# heat_upgrade_tests_config - the configuration file of the phases
#
# The one create used, saved in grenade's resource store, so that every
# later hook finds the state create made; before create (or without it),
# the environment's or DevStack's.
function heat_upgrade_tests_config {
    local saved
    saved=$(resource_get "$HEAT_UPGRADE_TESTS_NAME" config)
    if [[ -n "$saved" ]]; then
        echo "$saved"
        return
    fi
    local devstack_conf=/etc/heat-upgrade-tests/heat-upgrade-tests.conf
    echo "${HEAT_UPGRADE_TESTS_CONFIG:-${HEAT_UPGRADE_TESTS_CONF:-$devstack_conf}}"
}

# run_heat_upgrade_tests_phase phase [hint...]
#
# Run one phase, bounded by HEAT_UPGRADE_TESTS_PHASE_TIMEOUT; die (exit
# non-zero) when it fails, adding the hint to the message.
function run_heat_upgrade_tests_phase {
    local phase=$1
    shift
    local hint="$*"
    local default_cmd
    local cmd=()
    local rc=0

    default_cmd="$HEAT_UPGRADE_TESTS_DIR/tools/tox"
    default_cmd+=" -c $HEAT_UPGRADE_TESTS_DIR/tox.ini -e"
    read -r -a cmd <<< "${HEAT_UPGRADE_TESTS_PHASE_CMD:-$default_cmd}"

    HEAT_UPGRADE_TESTS_CONFIG=$(heat_upgrade_tests_config)
    export HEAT_UPGRADE_TESTS_CONFIG
    # The checks run as the configuration's member entry; an OS_CLOUD left
    # in the environment (stack.sh exports devstack-admin) would override
    # it and run every check as admin.
    unset OS_CLOUD

    echo "heat-upgrade-tests: running the $phase phase with" \
        "$HEAT_UPGRADE_TESTS_CONFIG: ${cmd[*]} $phase"
    timeout --kill-after=30 "$HEAT_UPGRADE_TESTS_PHASE_TIMEOUT" \
        "${cmd[@]}" "$phase" || rc=$?
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        die $LINENO "the $phase phase did not end within" \
            "$HEAT_UPGRADE_TESTS_PHASE_TIMEOUT seconds"
    elif [[ $rc -ne 0 ]]; then
        die $LINENO "the $phase phase failed (exit $rc)${hint:+; $hint}"
    fi
    echo "heat-upgrade-tests: the $phase phase passed"
}
