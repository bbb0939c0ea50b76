"""Stack tags and stack preview across an upgrade.

Tags are how tools find their stacks (stack list filtered by tag); preview
is how they see what a template would make. The new release must find the
old stack by its tags, change them, and preview the same template the same
way.
"""

import dataclasses

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base


@dataclasses.dataclass
class Record(base.CheckRecord):
    """The old Heat's preview: ``[name, type]`` of each resource."""

    preview: list[list[str]] = dataclasses.field(default_factory=list)


@base.register
class TagsAndPreview(base.ResourceCheck):
    name = 'tags_and_preview'
    idempotent_id = 'fbb9ac4c-439a-4a7f-b244-66c27a86e882'
    description = ('A RandomString, a TestResource and a ResourceGroup of '
                   'two OS::Heat::None, with two tags; the template is '
                   'previewed by each release.')
    template = 'tags_and_preview.yaml'
    record_type = Record
    proves = {
        'pre-upgrade': 'the stack is found by each tag; the preview lists '
                       'the template\'s resources',
        'post-upgrade': 'the new Heat finds the stack by its tags and '
                        'previews the same resources; retagging it makes '
                        'it found by the new tag only',
    }

    def tags(self, ctx):
        return [f'hut-{ctx.run_id}', 'hut-upgrade-tests']

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'},
                          tags=self.tags(ctx))
        record.preview = self.preview(ctx, record)

    def preview(self, ctx, record):
        """The (name, type) of each resource the preview lists."""
        body = _api.template_body(
            ctx.conn, self.template_path(), parameters=record.parameters,
            stack_name=f'{record.stack.name}-preview')
        found = _api.call(ctx.conn, 'POST', '/stacks/preview', body)
        listed = []

        def walk(resources):
            for item in resources:
                if isinstance(item, list):
                    walk(item)
                else:
                    listed.append([item['resource_name'],
                                   item['resource_type']])
        walk(found['stack']['resources'])
        return sorted(listed)

    def found_by(self, ctx, tag):
        stacks = _api.call(ctx.conn, 'GET', f'/stacks?tags={tag}')
        return [s['id'] for s in stacks['stacks']]

    def verify(self, ctx, record):
        """Found by its tags; previewed as create recorded it.

        The preview is Heat's answer to the create's template and
        parameters, which creates nothing: the same Heat (pre-upgrade, the
        verify phase) answers as it did at create, the new one must too.
        """
        self.verify_tags(ctx, record, self.tags(ctx))
        self.assert_equal(record.preview, self.preview(ctx, record),
                          'the preview of the create\'s template')
        types = sorted(t for _, t in record.preview)
        self.assert_equal(['OS::Heat::None', 'OS::Heat::None',
                           'OS::Heat::RandomString', 'OS::Heat::TestResource'],
                          types, 'the types the preview lists (the group '
                                 'is shown as its members)')

    def verify_tags(self, ctx, record, tags, absent=()):
        stack_id = record.stack.id
        for tag in tags:
            if stack_id not in self.found_by(ctx, tag):
                self.fail(f'the stack is not found by its tag {tag}')
        for tag in absent:
            if stack_id in self.found_by(ctx, tag):
                self.fail(f'the stack is still found by its old tag {tag}')
        self.assert_equal(sorted(tags), sorted(ctx.stacks.get(
            stack_id).tags or []), 'the stack\'s tags')

    def update(self, ctx, record):
        """Retag the stack (a PATCH): found by the new tag only."""
        new_tag = f'hut-retagged-{ctx.run_id}'
        before = ctx.stacks.get(record.stack.id)
        events = ctx.stacks.own_events(before, 'UPDATE')
        _api.call(ctx.conn, 'PATCH', _api.stack_url(record),
                  {'tags': new_tag})
        ctx.stacks.wait_for(record.stack.id, 'UPDATE',
                            since=before.updated_at, events_before=events)
        self.verify_tags(ctx, record, [new_tag], absent=self.tags(ctx))
