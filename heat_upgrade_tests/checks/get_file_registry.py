"""get_file, template resources and an environment across an upgrade.

Files and environments are sent with the stack and kept in Heat's database
(raw_template_files, the stored environment): after the upgrade the new
Heat must still resolve them, and an update bringing new files and a new
registry mapping must update the nested stack in place.
"""

from heat_upgrade_tests.checks import base

FILE_V1 = 'content read with get_file, version 1\n'
FILE_V2 = 'content read with get_file, version 2\n'


@base.register
class GetFileRegistry(base.ResourceCheck):
    name = 'get_file_registry'
    idempotent_id = '4d6010cb-8e8e-4360-9529-8d73ae7f756c'
    description = ('An OS::Heat::Value read with get_file, a template '
                   'resource named by file and one mapped by the '
                   'environment\'s resource_registry, and a parameter from '
                   'parameter_defaults.')
    template = 'get_file_registry.yaml'
    environment = ('get_file_registry_env.yaml',)
    proves = {
        'pre-upgrade': 'get_file content, parameter_defaults and both kinds '
                       'of template resource resolve',
        'post-upgrade': 'the stored files and environment give the same '
                        'outputs; an update with a new file, new '
                        'parameter_defaults and a registry pointing to a '
                        'new nested template updates the nested stack in '
                        'place (same id, same random string)',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})

    def verify(self, ctx, record):
        outputs = record.outputs
        self.assert_equal(FILE_V1, outputs.get('file_content'),
                          'file_content (get_file)')
        self.assert_equal('hello from the environment',
                          outputs.get('greeting'),
                          'greeting (parameter_defaults)')
        for key, prefix in (('mapped_value', 'before:'),
                            ('by_file_value', 'by-file:')):
            if not str(outputs.get(key)).startswith(prefix):
                self.fail(f'{key} of the nested template is '
                          f'{outputs.get(key)!r}')

    def update(self, ctx, record):
        """A new file, defaults and mapping: the nested stack kept, updated."""
        outputs = self.update_stack(
            ctx, record, {'label': 'after'},
            template='get_file_registry_update.yaml',
            environment=('get_file_registry_env_v2.yaml',))
        before = record.outputs
        random = before['mapped_value'].split(':')[-1]
        self.assert_equal(FILE_V2, outputs.get('file_content'),
                          'file_content after the update (get_file)')
        self.assert_equal('hello again', outputs.get('greeting'),
                          'greeting after the update (parameter_defaults)')
        self.assert_equal(f'v2:after:{random}', outputs.get('mapped_value'),
                          'mapped_value after the registry update')
        self.assert_equal(before['mapped_id'], outputs.get('mapped_id'),
                          'the nested stack id (it was replaced)')
        self.assert_equal(before['by_file_value'],
                          outputs.get('by_file_value'), 'by_file_value')
