# shellcheck shell=bash
#
# devstack/plugin.sh - DevStack plugin of heat-upgrade-tests
#
# Installs the project and writes what its phases need: an oslo.config file
# and a clouds.yaml entry for a non-admin member of a project of its own.
# It never installs, configures or starts Heat: enable Heat's own plugin
# beside this one.
#
#   enable_plugin heat https://opendev.org/openstack/heat
#   enable_plugin heat-upgrade-tests \
#       https://opendev.org/openstack/heat-upgrade-tests

# Save trace setting
_XTRACE_HEAT_UPGRADE_TESTS=$(set +o | grep xtrace)
set -o xtrace

function install_heat_upgrade_tests {
    setup_develop "$HEAT_UPGRADE_TESTS_DIR"
}

# The phases' configuration: which clouds.yaml entries, where the state
# and the results go, and Heat's database for the integrity checks. The
# database URL holds Heat's database password, as heat.conf does: the file
# is readable by the stack user only.
function configure_heat_upgrade_tests {
    local conf=$HEAT_UPGRADE_TESTS_CONF
    local clouds_yaml=${CLOUDS_YAML:-$OPENSTACKCLIENT_CONF_DIR/clouds.yaml}

    sudo install -d -o "$STACK_USER" "$HEAT_UPGRADE_TESTS_CONF_DIR"
    mkdir -p "$HEAT_UPGRADE_TESTS_STATE_DIR" "$HEAT_UPGRADE_TESTS_RESULTS_DIR"
    rm -f "$conf"
    iniset "$conf" cloud cloud "$HEAT_UPGRADE_TESTS_CLOUD"
    iniset "$conf" cloud admin_cloud "$HEAT_UPGRADE_TESTS_ADMIN_CLOUD"
    iniset "$conf" cloud clouds_file "$clouds_yaml"
    iniset "$conf" phases state_dir "$HEAT_UPGRADE_TESTS_STATE_DIR"
    iniset "$conf" phases results_dir "$HEAT_UPGRADE_TESTS_RESULTS_DIR"
    iniset "$conf" integrity database_connection \
        "$(database_connection_url heat)"
    iniset "$conf" integrity heat_config_files "$HEAT_CONF"
    chmod 600 "$conf"
}

# A user and project of the plugin's own, with only the member role, as
# grenade recommends: the checks must not pass because admin bypasses a
# policy. Its clouds.yaml entry sits beside DevStack's own entries.
function create_heat_upgrade_tests_accounts {
    local project_id
    local user_id
    local clouds_yaml=${CLOUDS_YAML:-$OPENSTACKCLIENT_CONF_DIR/clouds.yaml}
    local ca_cert_arg=()

    project_id=$(get_or_create_project "$HEAT_UPGRADE_TESTS_PROJECT" default)
    user_id=$(get_or_create_user "$HEAT_UPGRADE_TESTS_USER" \
        "$HEAT_UPGRADE_TESTS_PASSWORD" default)
    get_or_add_user_project_role member "$user_id" "$project_id" >/dev/null

    if [[ -f "$SSL_BUNDLE_FILE" ]]; then
        ca_cert_arg=(--os-cacert "$SSL_BUNDLE_FILE")
    fi
    "$PYTHON" "$TOP_DIR/tools/update_clouds_yaml.py" \
        --file "$clouds_yaml" \
        --os-cloud "$HEAT_UPGRADE_TESTS_CLOUD" \
        --os-region-name "$REGION_NAME" \
        "${ca_cert_arg[@]}" \
        --os-auth-url "$KEYSTONE_SERVICE_URI" \
        --os-username "$HEAT_UPGRADE_TESTS_USER" \
        --os-password "$HEAT_UPGRADE_TESTS_PASSWORD" \
        --os-project-name "$HEAT_UPGRADE_TESTS_PROJECT"
}

function cleanup_heat_upgrade_tests {
    sudo rm -rf "$HEAT_UPGRADE_TESTS_CONF_DIR"
    rm -rf "$HEAT_UPGRADE_TESTS_STATE_DIR" "$HEAT_UPGRADE_TESTS_RESULTS_DIR"
}

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing heat-upgrade-tests"
    install_heat_upgrade_tests
elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    echo_summary "Configuring heat-upgrade-tests"
    configure_heat_upgrade_tests
elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    # Keystone is up, and every plugin's post-config (Heat's roles and
    # domain among them) has run.
    echo_summary "Creating the heat-upgrade-tests member and cloud entry"
    create_heat_upgrade_tests_accounts
fi

if [[ "$1" == "clean" ]]; then
    cleanup_heat_upgrade_tests
fi

# Restore xtrace
$_XTRACE_HEAT_UPGRADE_TESTS
