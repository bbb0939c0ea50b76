"""Glance for the mini-cloud: the images Nova boots, in a file store.

The real Glance of a series (PyPI), served as devstack serves it:
``glance.wsgi.api:application`` under uwsgi, configured through
``OS_GLANCE_CONFIG_DIR``, on the run's MariaDB, its images in a file store
under the run's directory (and its reserved staging and tasks stores
beside it); no message bus. The paste file is the release's own, in its
venv. The database is migrated by the release's own ``glance-manage
db_sync``.
"""

from pathlib import Path
from typing import Any

import openstack

from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import guest
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import wsgi_service

STORES = ('images', 'staging', 'tasks')
# The image property that marks the run-time guest, with its digest: the
# checks choose the image by it, never by its name.
GUEST_PROPERTY = 'hut_guest'
GUEST_NAME = 'hut-guest'


def _release_values(venv: Path, run_dir: Path) -> dict[str, Any]:
    """The stores' directories (made) and the release's paste file."""
    values: dict[str, Any] = {
        'paste_file': venv / 'etc' / 'glance' / 'glance-api-paste.ini'}
    for store in STORES:
        path = run_dir / store
        path.mkdir(parents=True, exist_ok=True)
        values[f'{store}_dir'] = path
    return values


API = wsgi_service.Api(
    name='glance', module='glance.wsgi.api:application',
    template='glance-api.conf', config_dir_env='OS_GLANCE_CONFIG_DIR',
    sync=('glance-manage', '--config-file', '{conf}', 'db_sync'),
    catalog='image', description='Glance Image Service',
    release_values=_release_values)


class GlanceService(wsgi_service.ApiService):
    """Glance's API: the images Nova boots."""

    name = 'glance'
    title = 'Glance'
    migrate_tool = API.sync_title
    port_options = ('glance_port',)
    compute = True
    api = API

    def register(self) -> None:
        """Glance's user and endpoints, then the run-time guest in it."""
        super().register()
        self.guest = self.upload_guest()

    def upload_guest(self) -> Any:
        """The guest image, built (or cached) and public in Glance.

        Reused when Glance has it already (the same digest): a Glance
        started again on its database keeps its images.
        """
        cloud = self.cloud
        image = guest.build(Path(config.CACHE_HOME).expanduser(),
                            cloud.log_dir / 'guest-build.log')
        conn = keystone.admin_connection(cloud.auth_url,
                                         cloud.password('admin'))
        try:
            for found in conn.image.images():
                if (found.status == 'active' and (found.properties or {})
                        .get(GUEST_PROPERTY) == image.digest):
                    return found
            return conn.image.create_image(
                name=GUEST_NAME, filename=str(image.path),
                disk_format=image.format, container_format='bare',
                visibility='public', wait=True,
                **guest.IMAGE_PROPERTIES, **{GUEST_PROPERTY: image.digest})
        except openstack.exceptions.SDKException as exc:
            raise exceptions.MiniCloudError(
                f'uploading the guest image to glance failed: {exc}')
        finally:
            conn.close()
