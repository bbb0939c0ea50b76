"""update_rollback: the environment a rollback returns to is changed."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    def edit(environment):
        environment['parameters']['value'] = 'tampered'
    tb.edit_raw_template('environment', edit)


DRILL = drills.Drill(
    check='update_rollback',
    fault='the value parameter of the environment stored in Heat\'s '
          'database (the one a rollback returns to) is changed while Heat '
          'is down; the outputs still show the stored value, but the '
          'rollback of the failing update after the upgrade no longer '
          'restores them',
    moment='heat-down', phase='post-upgrade',
    expect='outputs after the rollback',
    inject=inject)
