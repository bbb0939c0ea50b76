"""The newest HOT version both releases know, and its functions.

Functions added over the years (conditions, repeat, yaql, digest...) are
evaluated by the engine on every show and update: the new release must give
the same results for a stack the old one made.
"""

import hashlib

from heat_upgrade_tests.checks import base


def expected(label: str, items: list[str], extra: bool) -> dict:
    """What the template's outputs must be, computed without Heat."""
    return {
        'repeated': [f'item-{i}' for i in items],
        'merged': {'fixed': 1, 'label': label},
        'unique': list(dict.fromkeys(['a', 'b'] + items)),
        'url': f'https://example.org/{label}',
        'has_b': 'b' in items,
        'filtered': [i for i in items if i != 'b'],
        'split': ['x', 'y', 'z'],
        'digest': hashlib.sha256(label.encode()).hexdigest(),
        'upper': [i.upper() for i in items],
        'extra': 'extra' if extra else 'none',
        'vstrict': f'{label}!',
    }


@base.register
class HotNewestVersion(base.ResourceCheck):
    name = 'hot_newest_version'
    idempotent_id = 'b0385830-1579-413d-bb54-ccaf19d86e90'
    description = ('A heat_template_version 2021-04-16 template using the '
                   'functions added since 2013 (conditions, repeat, '
                   'map_merge, list_concat_unique, make_url, contains, '
                   'filter, str_split, digest, yaql, str_replace_vstrict, '
                   'nullable if).')
    template = 'hot_newest_version.yaml'
    proves = {
        'pre-upgrade': 'every function gives the documented result',
        'post-upgrade': 'the new Heat gives the same outputs; an update '
                        'changing the list, the label and the condition '
                        're-evaluates every function and creates the '
                        'conditional resource',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before', 'items': 'a,b,c',
                                        'with_extra': False})

    def verify(self, ctx, record):
        self.check_outputs(record.outputs)

    def check_outputs(self, outputs, label='before', items=('a', 'b', 'c'),
                      extra=False):
        for key, value in expected(label, list(items), extra).items():
            self.assert_equal(value, outputs.get(key), f'output {key}')
        random = outputs.get('random_value')
        self.assert_equal(f'{label}/{random}', outputs.get('labelled'),
                          'labelled (list_join)')

    def update(self, ctx, record):
        """New label, list and condition: every function re-evaluated."""
        outputs = self.update_stack(ctx, record, {
            'label': 'after', 'items': 'c,d', 'with_extra': True})
        self.assert_equal(record.outputs['random_value'],
                          outputs.get('random_value'),
                          'random_value after the update')
        self.check_outputs(outputs, label='after', items=('c', 'd'),
                           extra=True)
