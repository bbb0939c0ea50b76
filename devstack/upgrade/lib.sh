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

# heat_upgrade_tests_heat_version - the installed Heat's version, or nothing
#
# ``heat-manage`` on PATH is the Heat of the moment (DevStack links it into
# /usr/local/bin): the old one until Heat's upgrade, the new one after.
function heat_upgrade_tests_heat_version {
    heat-manage --version 2>/dev/null | tail -n 1 || true
}

# heat_upgrade_tests_series phase - export what the phase learns of the
# upgrade's series (oslo.config reads [cloud] options from OS_CLOUD__*)
#
# The old Heat's version, saved by create; the new one once Heat's
# upgrade ran (post-upgrade and destroy), saved by the first of them;
# before that, the target branch's series when it is a stable branch.
# The phases map a version to its series; unknown stays unset.
function heat_upgrade_tests_series {
    local phase=$1
    local from_version
    local to_version
    from_version=$(resource_get "$HEAT_UPGRADE_TESTS_NAME" from_heat_version)
    to_version=$(resource_get "$HEAT_UPGRADE_TESTS_NAME" to_heat_version)
    case $phase in
        post-upgrade|destroy)
            if [[ -z "$to_version" ]]; then
                to_version=$(heat_upgrade_tests_heat_version)
                if [[ -n "$to_version" ]]; then
                    resource_save "$HEAT_UPGRADE_TESTS_NAME" \
                        to_heat_version "$to_version"
                fi
            fi
            ;;
        *)
            local stable='^stable/([0-9]{4}\.[0-9])$'
            if [[ "${TARGET_DEVSTACK_BRANCH:-}" =~ $stable ]]; then
                to_version=${BASH_REMATCH[1]}
            fi
            ;;
    esac
    unset OS_CLOUD__FROM_SERIES OS_CLOUD__TO_SERIES
    if [[ -n "$from_version" ]]; then
        export OS_CLOUD__FROM_SERIES=$from_version
    fi
    if [[ -n "$to_version" ]]; then
        export OS_CLOUD__TO_SERIES=$to_version
    fi
    echo "heat-upgrade-tests: upgrade from Heat ${from_version:-unknown}" \
        "to ${to_version:-unknown}"
}

# heat_upgrade_tests_heat_tests_enabled - whether Heat's own tests run
#
# HEAT_UPGRADE_TESTS_HEAT_TESTS (devstack/settings; default False): run
# heat-tempest-plugin after create and before the post-upgrade phase.
function heat_upgrade_tests_heat_tests_enabled {
    [[ "${HEAT_UPGRADE_TESTS_HEAT_TESTS:-False}" =~ ^(True|true|1|yes)$ ]]
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
    heat_upgrade_tests_series "$phase"

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
