"""Sphinx configuration of heat-upgrade-tests' documentation.

The check table is generated at build time by the local extension
``_exts/check_table.py`` from the check registry.
"""

import os
import sys

sys.path.insert(0, os.path.abspath('_exts'))

extensions = [
    'openstackdocstheme',
    'check_table',
]

# openstackdocstheme
openstackdocs_repo_name = 'openstack/heat-upgrade-tests'
openstackdocs_use_storyboard = False
openstackdocs_bug_project = 'heat'
openstackdocs_bug_tag = 'upgrade-tests'

project = 'heat-upgrade-tests'
copyright = '2026, OpenStack Foundation'
source_suffix = '.rst'
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'
html_theme = 'openstackdocs'
