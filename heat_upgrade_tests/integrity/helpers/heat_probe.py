"""What one Heat release is made of; run INSIDE that release's python.

heat-upgrade-tests never imports Heat: each release lives in an
environment of its own, with its own library pins (SQLAlchemy, alembic,
oslo.db, keystoneauth...), and two releases cannot share one interpreter.
So this script is run by path with the release's interpreter and prints
one JSON document on stdout. It needs only the standard library and what
Heat itself depends on, and never imports heat-upgrade-tests.

    python heat_probe.py info
    python heat_probe.py heads
    python heat_probe.py schema DATABASE_URL
    python heat_probe.py migrate DATABASE_URL REVISION
    python heat_probe.py rpc

The database URL may also come from the environment variable
``HEAT_PROBE_DATABASE_URL`` (pass ``-`` as the URL), so that a password
never shows in a process list.
"""

import ast
import importlib.metadata
import importlib.util
import json
import os
import sys

URL_ENV = 'HEAT_PROBE_DATABASE_URL'

# The RPC services whose wire contract decides whether two releases can
# share one message bus: (server module, server class, client module,
# client class), paths relative to the heat package.
RPC_SERVICES = {
    'engine': ('engine/service.py', 'EngineService',
               'rpc/client.py', 'EngineClient'),
    'worker': ('engine/worker.py', 'WorkerService',
               'rpc/worker_client.py', 'WorkerClient'),
}
# An RPC endpoint is decorated with ``context.request_context``, or (older
# code) takes the request context as its first argument after ``self``;
# public methods without either (start, stop, helpers) are not endpoints.
CONTEXT_DECORATOR = 'request_context'
CONTEXT_NAMES = ('cnxt', 'cntx', 'ctxt', 'context', 'ctx')
# Client methods that send nothing themselves.
CLIENT_PLUMBING = ('__init__', 'make_msg', 'call', 'cast',
                   'local_error_name', 'ignore_error_by_name')


def heat_dir():
    """The directory of the heat package, found without importing it."""
    spec = importlib.util.find_spec('heat')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f'no heat package in {sys.executable}')
    return list(spec.submodule_search_locations)[0]


def info():
    """Version, interpreter and oslo.config namespaces of this release."""
    try:
        version = importlib.metadata.version('openstack-heat')
    except importlib.metadata.PackageNotFoundError:
        version = None
    eps = importlib.metadata.entry_points()
    if hasattr(eps, 'select'):
        opts = eps.select(group='oslo.config.opts')
    else:  # Python 3.9's dict of lists
        opts = eps.get('oslo.config.opts', [])
    return {
        'version': version,
        'python': sys.version.split()[0],
        'executable': sys.executable,
        'heat_dir': heat_dir(),
        'namespaces': sorted({ep.name for ep in opts}),
    }


def _url(arg):
    return os.environ[URL_ENV] if arg == '-' else arg


def _alembic_config():
    from alembic import config as alembic_config
    conf = alembic_config.Config(
        os.path.join(heat_dir(), 'db', 'alembic.ini'))
    # Heat's env.py would otherwise reconfigure logging from the ini file.
    conf.attributes['configure_logger'] = False
    return conf


def _models_sync():
    """The comparison rules of Heat's own migration test.

    Heat's test (``HeatModelsMigrationsSync`` in
    heat/tests/db/test_migrations.py) takes oslo.db's
    ``ModelsMigrationsSync`` as it is: its ``compare_type`` (MySQL stores
    booleans as integers), ``compare_server_default`` (MySQL quotes
    defaults) and ``filter_metadata_diff``, with an ``include_object``
    that keeps everything. That class is used when it can be imported (it
    needs oslotest, which a deployment rarely has); otherwise oslo.db's
    class with the same choices. Either way the rules are the installed
    release's, never a copy.
    """
    try:
        from heat.tests.db import test_migrations as heat_tests
        return (heat_tests.HeatModelsMigrationsSync(),
                'Heat\'s HeatModelsMigrationsSync')
    except Exception:  # noqa: B902 - any import failure means fall back
        pass
    from oslo_db.sqlalchemy import test_migrations

    from heat.db import models

    class Sync(test_migrations.ModelsMigrationsSync):
        def db_sync(self, engine):
            raise NotImplementedError('the probe never migrates here')

        def get_engine(self):
            raise NotImplementedError('the probe passes a connection')

        def get_metadata(self):
            return models.BASE.metadata

    return (Sync(), 'oslo.db\'s ModelsMigrationsSync rules, as Heat\'s '
                    'migration test applies them')


def _name(obj):
    return getattr(obj, 'name', None) or repr(obj)


def _table_of(obj):
    table = getattr(obj, 'table', None)
    return getattr(table, 'name', None) or '?'


def describe(entry):
    """One line for one entry of alembic's compare_metadata diff."""
    if isinstance(entry, list):
        return '; '.join(describe(e) for e in entry)
    op = entry[0]
    if op in ('add_table', 'remove_table'):
        where = ('in the models but not in the database' if op ==
                 'add_table' else 'in the database but not in the models')
        return f'{op}: table {_name(entry[1])} is {where}'
    if op in ('add_column', 'remove_column'):
        where = ('in the models but missing from the database' if op ==
                 'add_column' else 'in the database but not in the models')
        return f'{op}: column {entry[2]}.{_name(entry[3])} is {where}'
    if op in ('add_index', 'remove_index', 'add_constraint',
              'remove_constraint', 'add_fk', 'remove_fk'):
        where = ('in the models but not in the database' if
                 op.startswith('add') else
                 'in the database but not in the models')
        what = op.split('_', 1)[1]
        return (f'{op}: {what} {_name(entry[1])} on table '
                f'{_table_of(entry[1])} is {where}')
    if op.startswith('modify_'):
        _, _, table, column, _, db_value, model_value = entry[:7]
        return (f'{op}: column {table}.{column}: database has '
                f'{db_value!r}, the models say {model_value!r}')
    return repr(entry)


def heads():
    """The heads of the release's own migrations (no database needed)."""
    from alembic import script

    scripts = script.ScriptDirectory.from_config(_alembic_config())
    return {'heads': list(scripts.get_heads())}


def schema(url):
    """Heads of the release's migrations, the DB's revision, the diff."""
    import pprint

    from alembic import autogenerate
    from alembic import migration
    from alembic import script
    import sqlalchemy

    from heat.db import models

    scripts = script.ScriptDirectory.from_config(_alembic_config())
    revisions = [{'revision': r.revision, 'down_revision': r.down_revision,
                  'doc': r.doc} for r in scripts.walk_revisions()]
    engine = sqlalchemy.create_engine(_url(url),
                                      poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            current = migration.MigrationContext.configure(
                conn).get_current_heads()
            sync, comparator = _models_sync()
            ctx = migration.MigrationContext.configure(conn, opts={
                'include_object': sync.include_object,
                'compare_type': sync.compare_type,
                'compare_server_default': sync.compare_server_default,
            })
            diff = sync.filter_metadata_diff(
                autogenerate.compare_metadata(ctx, models.BASE.metadata))
    finally:
        engine.dispose()
    return {
        'heads': list(scripts.get_heads()),
        'current': list(current),
        'revisions': revisions,
        'diff': [describe(entry) for entry in diff],
        # What Heat's own test prints when it fails, in full.
        'diff_text': pprint.pformat(diff, indent=2, width=20) if diff else '',
        'comparator': comparator,
    }


def migrate(url, revision):
    """Upgrade the database to ``revision`` with the release's scripts."""
    from alembic import command
    import sqlalchemy

    conf = _alembic_config()
    engine = sqlalchemy.create_engine(_url(url),
                                      poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.begin() as conn:
            conf.attributes['connection'] = conn
            command.upgrade(conf, revision)
    finally:
        engine.dispose()
    return {'upgraded_to': revision}


# -- RPC: read the source, never import it ------------------------------
def _class(tree, name):
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    return None


def _constant(cls, name):
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name
                for t in node.targets):
            if isinstance(node.value, ast.Constant):
                return node.value.value
    return None


def server_methods(cls):
    """The RPC endpoints of a service class and their parameters."""
    methods = {}
    for fn in cls.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        args = fn.args
        positional = list(args.posonlyargs) + list(args.args)
        decorated = any(
            (getattr(d, 'attr', None) or getattr(d, 'id', None)) ==
            CONTEXT_DECORATOR for d in fn.decorator_list)
        if fn.name.startswith('_') or len(positional) < 2 or not (
                decorated or positional[1].arg in CONTEXT_NAMES):
            continue
        first_default = len(positional) - len(args.defaults)
        params = [{'name': a.arg, 'required': i < first_default}
                  for i, a in enumerate(positional) if i >= 2]
        params += [{'name': a.arg, 'required': d is None}
                   for a, d in zip(args.kwonlyargs, args.kw_defaults)]
        methods[fn.name] = {'params': params,
                            'var_kw': args.kwarg is not None,
                            'line': fn.lineno}
    return methods


def _version_key(version):
    return tuple(int(p) for p in str(version).split('.'))


def client_calls(cls):
    """What a client class sends: method, arguments, version pinned."""
    base = _constant(cls, 'BASE_RPC_API_VERSION') or '1.0'
    calls = []
    for fn in cls.body:
        if (not isinstance(fn, ast.FunctionDef) or
                fn.name in CLIENT_PLUMBING):
            continue
        versions = []
        messages = []
        kinds = set()
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            if getattr(node.func, 'attr', None) in ('call', 'cast'):
                kinds.add(node.func.attr)
            for kw in node.keywords:
                if (kw.arg == 'version' and
                        isinstance(kw.value, ast.Constant) and
                        isinstance(kw.value.value, str)):
                    versions.append(kw.value.value)
            func = node.func
            name = getattr(func, 'attr', None) or getattr(func, 'id', None)
            if (name == 'make_msg' and node.args and
                    isinstance(node.args[0], ast.Constant)):
                messages.append(node)
        version = max(versions, key=_version_key) if versions else base
        for msg in messages:
            calls.append({
                'client_method': fn.name,
                'method': msg.args[0].value,
                'args': sorted(kw.arg for kw in msg.keywords if kw.arg),
                'dynamic_args': any(kw.arg is None for kw in msg.keywords),
                'version': version,
                # A cast gets no answer: if refused, nobody hears of it.
                'kind': 'cast' if kinds == {'cast'} else 'call',
                'line': msg.lineno,
            })
    return calls


def rpc_of_sources(sources, services=None):
    """The RPC description from ``{relative path: source text}``."""
    found = {}
    for service, (srv_path, srv_cls, cli_path, cli_cls) in sorted(
            (services or RPC_SERVICES).items()):
        server = _class(ast.parse(sources[srv_path]), srv_cls)
        client = _class(ast.parse(sources[cli_path]), cli_cls)
        if server is None or client is None:
            found[service] = {'error': f'{srv_cls} or {cli_cls} not '
                                       f'found in {srv_path}/{cli_path}'}
            continue
        found[service] = {
            'server': f'heat/{srv_path}:{srv_cls}',
            'client': f'heat/{cli_path}:{cli_cls}',
            'version': _constant(server, 'RPC_API_VERSION'),
            'methods': server_methods(server),
            'calls': client_calls(client),
        }
    return found


def rpc():
    root = heat_dir()
    sources = {}
    for srv_path, _, cli_path, _ in RPC_SERVICES.values():
        for path in (srv_path, cli_path):
            with open(os.path.join(root, path)) as f:
                sources[path] = f.read()
    return rpc_of_sources(sources)


def main(argv):
    commands = {'info': (info, 0), 'heads': (heads, 0),
                'schema': (schema, 1),
                'migrate': (migrate, 2), 'rpc': (rpc, 0)}
    if not argv or argv[0] not in commands or \
            len(argv) - 1 != commands[argv[0]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    func, _ = commands[argv[0]]
    result = func(*argv[1:])
    json.dump(result, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
