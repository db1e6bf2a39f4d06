"""System tests: a real Odoo server (prefork, 2 workers) spoken to over HTTP.

Fixtures (session-wide unless said otherwise):

``odoo_db``
    A database with call_tracking installed and demo data. ``make test``
    passes the one its Odoo tests just ran on (env ``CALL_TRACKING_TEST_DB``;
    Odoo's test cases roll back). Without it (``pytest tests/`` alone) one is
    made from the template database and dropped at the end (KEEP_DB=1 keeps).
``odoo_server``
    The running server: ``.url`` (base URL), ``.db``, ``.rpc`` (admin
    JSON-RPC: ``odoo_server.rpc("res.partner", "search_count", [])``),
    ``.log_path``, ``.allowed_errors``. The session fails when its log has
    ERROR/CRITICAL lines; a test that provokes one on purpose appends a regex
    to ``odoo_server.allowed_errors``.
``base_url``, ``rpc``
    Shortcuts for ``odoo_server.url`` and ``odoo_server.rpc``.
``odoo_server_factory``
    Starts more servers with their own options, stopped at the end::

        srv = odoo_server_factory("--proxy-mode", workers=4)
        srv = odoo_server_factory(workers=0, fresh_db=True)  # own database

``replica`` (per test)
    A hot standby of the test cluster on the loopback (``pg_basebackup -R``,
    ``replica_lib.Replica``): ``.sock``, ``.port``, ``.log``,
    ``.wait_caught_up()``, ``.stop()``. Skips without a private cluster.
``bench_figure`` (per test)
    ``bench_figure("webhook ÷ JSON-RPC lead 0.63")`` records a headline
    figure of a benchmark; ``make bench`` prints them all together at its
    end ("bench summary", also ``bench-summary.txt`` in the run's log
    directory), so that one run shows every ratio and a regression is seen.

Markers: ``bench`` (benchmarks: print figures, never assert timings) is
excluded by default; ``make bench`` runs them.
"""

import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import devlib
from replica_lib import Replica, pg_bin, primary_log_path

BENCH_FIGURES = pytest.StashKey[list]()


@pytest.fixture
def bench_figure(request):
    """record(line): a headline figure for the run's bench summary."""
    figures = request.config.stash.setdefault(BENCH_FIGURES, [])
    name = request.node.name.removeprefix("test_")

    def record(line):
        figures.append(f"{name}: {line}")

    return record


@pytest.fixture(scope="session")
def log_dir():
    run_dir = os.environ.get("PYTEST_RUN_DIR")
    path = (
        Path(run_dir)
        if run_dir
        else devlib.LOGS / (time.strftime("%Y%m%d-%H%M%S") + f"-pytest-{os.getpid()}")
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def _keep_db():
    return os.environ.get("KEEP_DB") == "1"


def _make_db(log_dir):
    return devlib.create_module_db("pytest", log_dir, echo=lambda msg: print(msg, flush=True))


def _release_db(name):
    if _keep_db():
        devlib.comment_db(name, "keep: pytest")
        print(f"\nkept database {name}")
    else:
        devlib.drop_db(name)


@pytest.fixture(scope="session")
def odoo_db(log_dir):
    name = os.environ.get(devlib.TEST_DB_ENV)
    if name:
        state = devlib.module_state(name)
        if state != "installed":
            pytest.fail(f"{devlib.MODULE} is {state or 'absent'} in {name}", pytrace=False)
        yield name
        return
    name = _make_db(log_dir)
    try:
        yield name
    finally:
        _release_db(name)


def _check_log(server):
    errors = server.log_errors()
    if errors:
        text = "\n\n".join(errors)
        pytest.fail(
            f"ERROR/CRITICAL lines in the Odoo server log {server.log_path}:\n{text}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def odoo_server(odoo_db, log_dir):
    server = devlib.OdooServer(odoo_db, log_dir / "odoo-server.log", workers=2)
    try:
        server.start()
    except devlib.SetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()
    _check_log(server)


@pytest.fixture(scope="session")
def base_url(odoo_server):
    return odoo_server.url


@pytest.fixture(scope="session")
def rpc(odoo_server):
    return odoo_server.rpc


@pytest.fixture(scope="session")
def odoo_server_factory(odoo_db, log_dir):
    """start(*odoo_args, workers=2, db=None, fresh_db=False) -> OdooServer"""
    servers, own_dbs = [], []

    def start(*odoo_args, workers=2, db=None, fresh_db=False):
        if fresh_db:
            db = _make_db(log_dir)
            own_dbs.append(db)
        index = len(servers) + 1
        server = devlib.OdooServer(
            db or odoo_db,
            log_dir / f"odoo-server-{index}.log",
            workers=workers,
            extra_args=odoo_args,
        )
        servers.append(server)
        try:
            server.start()
        except devlib.SetupError as exc:
            pytest.fail(str(exc), pytrace=False)
        return server

    yield start
    for server in servers:
        server.stop()
    for db in own_dbs:
        _release_db(db)
    for server in servers:
        _check_log(server)


def pytest_collection_modifyitems(session, config, items):
    """The stress harness (test_stress.py) runs last: its final phase
    restarts the PostgreSQL cluster every other test uses."""
    items.sort(key=lambda item: item.path.name == "test_stress.py")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The benchmarks' headline figures (``bench_figure``), then the stress
    harness's one table of figures (test_stress.py)."""
    figures = config.stash.get(BENCH_FIGURES, [])
    if figures:
        terminalreporter.write_sep("=", "bench summary")
        for line in figures:
            terminalreporter.write_line(line)
        run_dir = os.environ.get("PYTEST_RUN_DIR")
        if run_dir:
            (Path(run_dir) / "bench-summary.txt").write_text("\n".join(figures) + "\n")
    module = sys.modules.get("stress_lib")
    table = module.figures_table() if module else ""
    if table:
        terminalreporter.write_sep("=", "stress figures")
        terminalreporter.write_line(table)
        run_dir = os.environ.get("PYTEST_RUN_DIR")
        if run_dir:
            (Path(run_dir) / "stress-figures.txt").write_text(table + "\n")


@pytest.fixture
def replica(odoo_db):
    """A streaming replica of the test cluster, started (replica_lib.Replica);
    every statement of the test database logged on both servers."""
    params = devlib.pg_params()
    host = params.get("host", "")
    if not host.startswith("/") or pg_bin() is None:
        pytest.skip("needs a local PostgreSQL cluster on a Unix socket and its server tools")
    if not primary_log_path().exists():
        pytest.skip("the primary's log is not the private cluster's server.log")
    with devlib.pg_cursor() as cr:
        # every statement of the test database logged on both servers (the
        # setting replicates); for the connections opened from now on
        cr.execute(f"ALTER DATABASE \"{odoo_db}\" SET log_statement = 'all'")
    replica = Replica(host, params.get("port", 5432), odoo_db)
    try:
        replica.start()
        yield replica
    finally:
        with devlib.pg_cursor() as cr:
            cr.execute(f'ALTER DATABASE "{odoo_db}" RESET log_statement')
        replica.cleanup()
