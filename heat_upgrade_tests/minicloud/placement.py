"""Placement for the mini-cloud: where Nova's scheduler finds room.

The real Placement of a series (PyPI), served as devstack serves it:
``placement.wsgi.api:application`` under uwsgi, configured through
``OS_PLACEMENT_CONFIG_DIR``, on the run's MariaDB; no message bus.
nova-compute reports its inventory here and the scheduler asks it where
a server fits. The database is migrated by the release's own
``placement-manage db sync``.
"""

from heat_upgrade_tests.minicloud import wsgi_service

API = wsgi_service.Api(
    name='placement', module='placement.wsgi.api:application',
    template='placement.conf', config_dir_env='OS_PLACEMENT_CONFIG_DIR',
    sync=('placement-manage', '--config-file', '{conf}', 'db', 'sync'),
    catalog='placement', description='Placement')


class PlacementService(wsgi_service.ApiService):
    """Placement's API, for Nova's scheduler and compute."""

    name = 'placement'
    title = 'Placement'
    migrate_tool = API.sync_title
    port_options = ('placement_port',)
    compute = True
    api = API
