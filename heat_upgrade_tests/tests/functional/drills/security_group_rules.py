"""security_group_rules: the group's rule is deleted in Neutron."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    network = tb.admin.network
    group = network.get_security_group(tb.record['outputs']['group_id'])
    for rule in group.security_group_rules:
        if rule['direction'] == 'ingress':
            network.delete_security_group_rule(rule['id'])


DRILL = drills.Drill(
    check='security_group_rules',
    fault='the group\'s ingress rule is deleted in Neutron, behind Heat\'s '
          'back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='the ingress rules of the group in Neutron',
    inject=inject)
