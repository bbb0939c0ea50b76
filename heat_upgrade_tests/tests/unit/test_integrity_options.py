"""The option comparison rules and the accepted removals file."""

import textwrap

import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.integrity import accepted
from heat_upgrade_tests.integrity import options
from heat_upgrade_tests.integrity import report
from heat_upgrade_tests import releases


def opt(name, namespace='heat.common.config', default=None, type_='string',
        removal=False, since=None, reason=None, aliases=()):
    """One option as oslo-config-generator --format json writes it."""
    return {'name': name, 'namespace': namespace, 'default': default,
            'sample_default': None, 'type': type_,
            'deprecated_for_removal': removal, 'deprecated_since': since,
            'deprecated_reason': reason,
            'deprecated_opts': [{'group': g, 'name': n} for g, n in aliases]}


def option_set(label, groups):
    doc = {'options': {group: {'opts': opts}
                       for group, opts in groups.items()}}
    return options.OptionSet.from_generator(doc, label)


OLD = {
    'DEFAULT': [opt('workers', default='2'), opt('host', default='node'),
                opt('legacy', removal=True, since='Y',
                    reason='no longer used'),
                opt('kept', default='a')],
    'clients_gone': [opt('ca_file'), opt('insecure', type_='boolean')],
    'auth': [opt('ca_file'), opt('auth-url')],
}
NEW = {
    'DEFAULT': [opt('host', default='node'), opt('kept', default='b'),
                opt('threads', default='2', aliases=[('DEFAULT', 'workers')])],
    'auth': [opt('auth_url')],
    'database': [opt('connection', namespace='oslo.db')],
}


class OptionCompareTest(testtools.TestCase):

    def compare(self, old=OLD, new=NEW, middle=(), entries=()):
        calls = []

        def between():
            calls.append(1)
            return [option_set(label, groups) for label, groups in middle]
        result = options.compare(option_set('old', old),
                                 option_set('new', new), between,
                                 list(entries))
        return result, calls

    def verdicts(self, result):
        return {(r.option.group, r.option.name): r.verdict
                for r in result.removals}

    def test_deprecated_renamed_and_unexplained_removals(self):
        result, calls = self.compare()
        self.assertEqual({
            ('DEFAULT', 'legacy'): options.DEPRECATED,
            ('DEFAULT', 'workers'): options.RENAMED,
            ('clients_gone', 'ca_file'): options.UNEXPLAINED,
            ('clients_gone', 'insecure'): options.UNEXPLAINED,
            ('auth', 'ca_file'): options.UNEXPLAINED,
        }, self.verdicts(result))
        # Unexplained removals made it ask for the releases between.
        self.assertEqual([1], calls)

    def test_dash_and_underscore_are_one_name(self):
        result, _ = self.compare()
        self.assertNotIn(('auth', 'auth-url'), self.verdicts(result))

    def test_releases_between_are_not_built_when_not_needed(self):
        old = {'DEFAULT': [opt('legacy', removal=True)]}
        result, calls = self.compare(old=old, new={'DEFAULT': []})
        self.assertEqual([], calls)
        self.assertEqual(options.DEPRECATED,
                         result.removals[0].verdict)

    def test_deprecation_in_a_release_between_is_accepted(self):
        middle = [('middle', {'clients_gone': [
            opt('ca_file', removal=True, reason='client retired'),
            opt('insecure')]})]
        result, _ = self.compare(middle=middle)
        verdicts = self.verdicts(result)
        self.assertEqual(options.DEPRECATED,
                         verdicts[('clients_gone', 'ca_file')])
        self.assertEqual(options.UNEXPLAINED,
                         verdicts[('clients_gone', 'insecure')])
        evidence = [r.evidence for r in result.removals
                    if r.option.name == 'ca_file' and
                    r.option.group == 'clients_gone'][0]
        self.assertIn('in middle', evidence)
        self.assertIn('client retired', evidence)

    def test_alias_in_a_release_between_is_accepted(self):
        middle = [('middle', {'auth': [
            opt('cafile', aliases=[('auth', 'ca_file')])]})]
        result, _ = self.compare(middle=middle)
        self.assertEqual(options.RENAMED,
                         self.verdicts(result)[('auth', 'ca_file')])

    def test_accepted_entry_covers_a_whole_group(self):
        entry = accepted.Entry('clients_gone', '*', ('2026.2',),
                               'retired project', index=1)
        result, _ = self.compare(entries=[entry])
        verdicts = self.verdicts(result)
        self.assertEqual(options.EXCEPTION,
                         verdicts[('clients_gone', 'ca_file')])
        self.assertEqual(options.UNEXPLAINED, verdicts[('auth', 'ca_file')])
        self.assertEqual([], result.unused_entries)

    def test_unused_entry_is_reported(self):
        entry = accepted.Entry('nothing', 'here', ('2026.2',), 'why',
                               index=3)
        result, _ = self.compare(entries=[entry])
        self.assertEqual([entry], result.unused_entries)
        notes = options.findings(result)[1].details
        self.assertTrue(any('entry 3' in n and 'stale' in n for n in notes))

    def test_failure_names_group_option_and_releases(self):
        result, _ = self.compare()
        finding = options.findings(result)[0]
        self.assertEqual(report.FAILED, finding.status)
        self.assertIn('3 of 5 options removed in old -> new without '
                      'deprecation', finding.summary)
        self.assertIn('[clients_gone] ca_file, insecure', finding.summary)
        bad = [d for d in finding.details if 'NOT ACCEPTED' in d]
        self.assertEqual(2, len(bad))
        self.assertIn('in old, gone in new', bad[0])

    def test_exception_only_is_a_warning(self):
        entries = [accepted.Entry(g, '*', ('2026.2',), 'why', index=i)
                   for i, g in enumerate(('clients_gone', 'auth'), 1)]
        result, _ = self.compare(entries=entries)
        finding = options.findings(result)[0]
        self.assertEqual(report.WARNING, finding.status)
        self.assertIn('accepted by reviewed exception', finding.summary)

    def test_changes_are_reported(self):
        result, _ = self.compare()
        self.assertEqual([('DEFAULT', 'kept')],
                         [o.key for o, _ in result.changed_defaults])
        self.assertEqual([('DEFAULT', 'threads')],
                         [o.key for o in result.added])
        notes = options.findings(result)[1]
        self.assertEqual(report.INFO, notes.status)
        self.assertIn("default of [DEFAULT] kept changed: 'a' -> 'b'",
                      notes.details)

    def test_dropped_alias_is_reported(self):
        old = {'DEFAULT': [opt('domain_id', aliases=[('DEFAULT', 'domain')])]}
        new = {'DEFAULT': [opt('domain_id')]}
        result, _ = self.compare(old=old, new=new)
        self.assertEqual([('DEFAULT', 'domain')],
                         [(g, n) for g, n, _ in result.dropped_aliases])

    def test_library_options_are_not_compared_but_count_as_kept(self):
        old = {'database': [opt('connection')]}
        result, _ = self.compare(old=old)
        self.assertEqual([], result.removals)

    def test_sample_default_hides_machine_values(self):
        doc = {'options': {'DEFAULT': {'opts': [
            dict(opt('host', default='this-machine'),
                 sample_default='<Hostname>')]}}}
        opts = options.OptionSet.from_generator(doc, 'x')
        self.assertEqual('<Hostname>', opts.get('DEFAULT', 'host').default)


class ValidatorOutputTest(testtools.TestCase):

    def test_unknown_and_deprecated_lines(self):
        text = textwrap.dedent('''\
            INFO:oslo_config.validator:Ignoring missing option "x"
            ERROR:oslo_config.validator:heat_api/workers is not part of the sample config
            ERROR:__main__:DEFAULT/stack_user_domain is not part of the sample config
            WARNING:__main__:Deprecated opt ec2authtoken/ca_file found
            ''')  # noqa: E501
        unknown, deprecated = options.validator_output(text)
        self.assertEqual({('heat_api', 'workers'),
                          ('DEFAULT', 'stack_user_domain')}, unknown)
        self.assertEqual({('ec2authtoken', 'ca_file')}, deprecated)

    def test_finding_splits_ignored_from_unknown_to_both(self):
        finding = options.config_file_finding(
            'heat.conf', 'old', 'new',
            ({('typo', 'x')}, set()),
            ({('typo', 'x'), ('heat_api', 'workers')},
             {('auth', 'ca_file')}))
        self.assertEqual(report.WARNING, finding.status)
        self.assertEqual([['heat_api', 'workers']],
                         finding.data['ignored_by_new'])
        self.assertEqual([['typo', 'x']], finding.data['unknown_to_both'])


class AcceptedFileTest(testtools.TestCase):

    known = ['2025.1', '2025.2', '2026.1', '2026.2']

    def parse(self, text):
        return accepted.parse(textwrap.dedent(text), 'f.yaml', self.known)

    def test_valid_entries(self):
        entries = self.parse('''\
            removals:
              - group: clients_x
                option: '*'
                releases: ['2026.2']
                reason: >-
                  gone with
                  its project
            ''')
        self.assertEqual(1, len(entries))
        self.assertEqual('gone with its project', entries[0].reason)
        self.assertTrue(entries[0].matches('clients_x', 'anything'))
        self.assertFalse(entries[0].matches('clients_y', 'anything'))

    def assertBad(self, text, *fragments):
        exc = self.assertRaises(exceptions.ConfigError, self.parse, text)
        for fragment in fragments:
            self.assertIn(fragment, str(exc))

    def test_unquoted_series_is_refused(self):
        self.assertBad('''\
            removals:
              - {group: g, option: o, releases: [2026.1], reason: r}
            ''', 'entry 1', 'quoted')

    def test_missing_and_unknown_keys(self):
        self.assertBad('''\
            removals:
              - {group: g, option: o, release: ['2026.1'], reason: r}
            ''', 'missing releases', 'unknown release')

    def test_unknown_series(self):
        self.assertBad('''\
            removals:
              - {group: g, option: o, releases: ['2030.1'], reason: r}
            ''', 'unknown series 2030.1')

    def test_empty_reason(self):
        self.assertBad('''\
            removals:
              - {group: g, option: o, releases: ['2026.1'], reason: ' '}
            ''', '"reason" must be a non-empty string')

    def test_duplicate(self):
        self.assertBad('''\
            removals:
              - {group: g, option: a-b, releases: ['2026.1'], reason: r}
              - {group: g, option: a_b, releases: ['2026.1'], reason: r}
            ''', 'entries 1 and 2')

    def test_applicable_to_upgrades_crossing_the_removal(self):
        entries = self.parse('''\
            removals:
              - {group: g, option: o, releases: ['2026.1'], reason: r}
            ''')
        # positions: 2025.1=0, 2025.2=1, 2026.1=2, 2026.2=3
        self.assertEqual(entries, accepted.applicable(
            entries, self.known, 1, 2))
        self.assertEqual(entries, accepted.applicable(
            entries, self.known, 0, 3))
        self.assertEqual([], accepted.applicable(entries, self.known, 2, 3))
        self.assertEqual([], accepted.applicable(entries, self.known, 0, 1))

    def test_the_project_file_is_valid(self):
        entries = accepted.load(known_series=list(releases.load_series()))
        self.assertTrue(entries)
        for entry in entries:
            self.assertGreater(len(entry.reason), 40, entry)
