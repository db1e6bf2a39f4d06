"""Shared helpers for scripts/run_tests.py, scripts/demo.py and tests/conftest.py.

Everything here reads the configuration that scripts/setup.sh wrote
(``.local/odoo.conf``): run ``make test`` (or ``bash scripts/setup.sh``) once
before using it directly.
"""

import ast
import configparser
import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
LOGS = LOCAL / "logs"
LOCKS = LOCAL / "locks"
CONF = LOCAL / "odoo.conf"
ODOO_BIN = ROOT / "scripts" / "odoo-bin"
MODULE = "call_tracking"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
# env var through which run_tests.py hands its tested database to pytest
TEST_DB_ENV = "CALL_TRACKING_TEST_DB"

# "2026-11-22 10:15:00,123 4242 ERROR dbname odoo.addons.x: message"
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<pid>\d+) (?P<level>[A-Z]+) "
    r"(?P<db>\S+) (?P<logger>[^:\s]+): (?P<msg>.*)$"
)
REPORT_LINE = re.compile(
    r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<run>\d+) tests"
    r" when loading database"
)
# skips that mean "this machine cannot run browser tests", not "not relevant"
ENV_SKIP = re.compile(
    r"skipped .* : (Chrome executable not found|websocket-client module is not"
    r" installed|Failed to detect chrome devtools port|\S*chrom\S* not found)",
    re.IGNORECASE,
)
OUR_DB = re.compile(
    r"^ct_(test|pytest|srv)_(?P<pid>\d+)_[0-9a-f]+$|^ct_tmpl_[0-9a-f]+_build_(?P<bpid>\d+)$"
)


class SetupError(RuntimeError):
    pass


# ------------------------------------------------------------------ config


def read_conf():
    if not CONF.exists():
        raise SetupError(f"{CONF} is missing: run `make test` or `bash scripts/setup.sh` first")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(CONF)
    return dict(parser["options"])


def _conf_value(value):
    return None if value in (None, "", "False") else value


def odoo_src():
    src = os.environ.get("ODOO_SRC")
    if not src:
        first = read_conf()["addons_path"].split(",")[0]
        src = str(Path(first).parent.parent)  # <src>/odoo/addons
    return src


def odoo_env(**extra):
    env = dict(os.environ, ODOO_SRC=odoo_src(), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def python():
    return str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable


def odoo_cmd(*args):
    return [python(), str(ODOO_BIN), "-c", str(CONF), *args]


def pg_params():
    conf = read_conf()
    params = {
        "host": _conf_value(conf.get("db_host")),
        "port": _conf_value(conf.get("db_port")),
        "user": _conf_value(conf.get("db_user")),
        "password": _conf_value(conf.get("db_password")),
    }
    return {k: v for k, v in params.items() if v is not None}


def private_cluster():
    host = pg_params().get("host", "")
    return host == str(LOCAL / "pgsock") or host.startswith("/tmp/call_tracking-pg-")


def data_dir():
    return Path(read_conf().get("data_dir") or LOCAL / "data")


def filestore(db):
    return data_dir() / "filestore" / db


# ------------------------------------------------------------------ PostgreSQL


@contextlib.contextmanager
def pg_cursor(dbname="postgres", dsn=None):
    """An autocommit cursor on ``dbname``: on the server of odoo.conf, or of
    ``dsn`` (libpq connection string such as ``"host=/tmp/pg user=odoo"``)."""
    import psycopg2

    if dsn:
        conn = psycopg2.connect(dsn, dbname=dbname)
    else:
        conn = psycopg2.connect(dbname=dbname, **pg_params())
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            yield cr
    finally:
        conn.close()


def _ident(name):
    from psycopg2 import sql

    return sql.Identifier(name)


def _sql(query, *names):
    from psycopg2 import sql

    return sql.SQL(query).format(*(_ident(n) for n in names))


def db_exists(name):
    with pg_cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return bool(cr.fetchone())


def list_dbs():
    with pg_cursor() as cr:
        cr.execute("SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database")
        return dict(cr.fetchall())


def drop_db(name):
    with pg_cursor() as cr:
        cr.execute(_sql("DROP DATABASE IF EXISTS {} WITH (FORCE)", name))
    shutil.rmtree(filestore(name), ignore_errors=True)


def comment_db(name, comment):
    with pg_cursor() as cr:
        cr.execute(_sql("COMMENT ON DATABASE {} IS %s", name), [comment])


def copy_db(template, name):
    """CREATE DATABASE name TEMPLATE template, with its filestore."""
    from psycopg2 import errors

    for attempt in range(30):
        try:
            with pg_cursor() as cr:
                cr.execute(_sql("CREATE DATABASE {} TEMPLATE {}", name, template))
            break
        except errors.ObjectInUse:  # someone is connected to the template
            if attempt == 29:
                raise
            time.sleep(2)
    src = filestore(template)
    if src.is_dir():
        dst = filestore(name)
        shutil.rmtree(dst, ignore_errors=True)
        dst.parent.mkdir(parents=True, exist_ok=True)
        # Odoo never rewrites a filestore file in place: hard links are safe
        if subprocess.run(["cp", "-al", str(src), str(dst)], check=False).returncode:
            shutil.copytree(src, dst, dirs_exist_ok=True)
    with pg_cursor(name) as cr:
        cr.execute(
            "UPDATE ir_config_parameter SET value = gen_random_uuid()::text"
            " WHERE key = 'database.uuid'"
        )


def module_state(db, module=MODULE):
    with pg_cursor(db) as cr:
        cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [module])
        row = cr.fetchone()
        return row and row[0]


def unique_db_name(prefix):
    """ct_<prefix>_<pid>_<random>: unique across concurrent runs."""
    return f"ct_{prefix}_{os.getpid()}_{secrets.token_hex(3)}"


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_stale_dbs(echo=print):
    """Drop test databases left behind by killed runs of this machine.

    Only in the private cluster (pids mean nothing on a shared server), and
    never a database kept on purpose (KEEP_DB=1 comments it 'keep').
    """
    if not private_cluster():
        return
    for name, comment in list_dbs().items():
        match = OUR_DB.match(name)
        if not match or (comment or "").startswith("keep"):
            continue
        pid = int(match.group("pid") or match.group("bpid"))
        if not _pid_alive(pid):
            echo(f"dropping stale test database {name} (its run {pid} is gone)")
            drop_db(name)


@contextlib.contextmanager
def file_lock(name):
    LOCKS.mkdir(parents=True, exist_ok=True)
    with open(LOCKS / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ------------------------------------------------------------------ module


# Installed with the module for its Odoo tests only, not dependencies of it:
# base_automation, whose rules on calls the tests check fire (an Odoo user's
# first customisation). Its own dependencies are in the template already.
TEST_MODULES = ("base_automation",)


def manifest(module=MODULE):
    return ast.literal_eval((ROOT / module / "__manifest__.py").read_text())


def module_depends():
    return sorted(set(manifest().get("depends", [])) or {"base"})


def template_name():
    """Name of the cached database with the module's dependencies installed.

    Keyed on the dependencies and on the Odoo tree: a change of either gives
    a new template (drop old ones with `make clean-db`).
    """
    key = json.dumps([module_depends(), os.path.realpath(odoo_src())])
    return "ct_tmpl_" + hashlib.sha256(key.encode()).hexdigest()[:10]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ Odoo logs


@dataclass
class LogReport:
    """What an Odoo log says, beyond the exit code."""

    tests_run: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    report_found: bool = False
    error_blocks: list = field(default_factory=list)  # ERROR/CRITICAL + traceback
    env_skips: list = field(default_factory=list)  # browser tests that could not run

    @property
    def bad_tests(self):
        return self.failed + self.errors


def scan_log(path):
    rep = LogReport()
    block = None
    with open(path, errors="replace") as fh:
        for raw in fh:
            line = raw.rstrip("\n")
            match = LOG_LINE.match(line)
            if not match:
                if block is not None:
                    block.append(line)
                continue
            block = None
            level, msg = match["level"], match["msg"]
            if level in ("ERROR", "CRITICAL"):
                block = [line]
                rep.error_blocks.append(block)
            report = REPORT_LINE.search(msg)
            if report:
                rep.report_found = True
                rep.failed = int(report["failed"])
                rep.errors = int(report["errors"])
                rep.tests_run = int(report["run"])
            elif msg.startswith("skipped "):
                rep.skipped += 1
                if ENV_SKIP.search(msg):
                    rep.env_skips.append(line)
    rep.error_blocks = ["\n".join(b) for b in rep.error_blocks]
    return rep


def run_odoo(args, log_path, echo=None, timeout=None):
    """Run Odoo to completion, its output in log_path; echo(line) picks lines
    to show live. Returns the exit code (124 on timeout)."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = odoo_cmd(*args)
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=odoo_env(),
            cwd=ROOT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        fired = []

        def on_timeout():
            fired.append(True)
            _kill_group(proc)

        timer = threading.Timer(timeout, on_timeout) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            for line in proc.stdout:
                log.write(line)
                if echo:
                    echo(line.rstrip("\n"))
            rc = proc.wait()
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            if timer:
                timer.cancel()
        if fired:
            log.write(f"\n*** killed after {timeout}s ***\n")
            return 124
        return rc


def _kill_group(proc, grace=20):
    """Stop a process started with start_new_session=True, and its children."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


def tail(path, lines=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ------------------------------------------------------------------ databases


def ensure_template(logdir, echo=print):
    """Return the template database (the module's dependencies installed with
    demo data), building it once; concurrent callers wait for one build."""
    name = template_name()
    deps = module_depends()
    with file_lock(name):
        if db_exists(name):
            comment = list_dbs().get(name) or ""
            if comment.startswith("call_tracking template ok"):
                return name
            echo(f"template database {name} is incomplete: rebuilding it")
            drop_db(name)
        build = f"{name}_build_{os.getpid()}"
        drop_db(build)
        log = Path(logdir) / "template-build.log"
        echo(
            f"building template database {name} ({', '.join(deps)} with demo data);"
            f" done once, later runs reuse it. Log: {log.relative_to(ROOT)}"
        )
        started = time.monotonic()
        rc = run_odoo(
            [
                "-d", build, "-i", ",".join(deps), "--stop-after-init",
                "--max-cron-threads=0", "--http-interface=127.0.0.1",
                f"--http-port={free_port()}", "--log-level=info",
            ],
            log,
        )  # fmt: skip
        rep = scan_log(log)
        try:
            missing = [d for d in deps if module_state(build, d) != "installed"]
        except Exception as exc:  # noqa: BLE001 - the database may not exist
            missing = [f"({exc})"]
        if rc or rep.error_blocks or missing:
            drop_db(build)
            details = "\n".join(rep.error_blocks[:5]) or tail(log)
            raise SetupError(
                f"building the template database failed (exit {rc}, modules not"
                f" installed: {missing or 'none'}); log {log}:\n{details}"
            )
        with pg_cursor() as cr:
            cr.execute(_sql("ALTER DATABASE {} RENAME TO {}", build, name))
        src, dst = filestore(build), filestore(name)
        if src.is_dir():
            shutil.rmtree(dst, ignore_errors=True)
            src.rename(dst)
        comment_db(name, f"call_tracking template ok: {','.join(deps)} {odoo_src()}")
        echo(f"template database {name} built in {time.monotonic() - started:.0f}s")
    return name


def create_module_db(prefix, logdir, echo=print, extra_args=()):
    """A new database from the template with the module installed (no tests).
    Returns its name; raises SetupError (database dropped) on failure."""
    template = ensure_template(logdir, echo)
    name = unique_db_name(prefix)
    copy_db(template, name)
    log = Path(logdir) / f"install-{name}.log"
    rc = run_odoo(
        [
            "-d", name, "-i", MODULE, "--stop-after-init", "--max-cron-threads=0",
            "--http-interface=127.0.0.1", f"--http-port={free_port()}", *extra_args,
        ],
        log,
    )  # fmt: skip
    rep = scan_log(log)
    if rc or rep.error_blocks or module_state(name) != "installed":
        drop_db(name)
        details = "\n".join(rep.error_blocks[:5]) or tail(log)
        raise SetupError(f"installing {MODULE} in {name} failed; log {log}:\n{details}")
    return name


# ------------------------------------------------------------------ live server


class RpcError(Exception):
    pass


class JsonRpc:
    """Minimal client for Odoo's /jsonrpc endpoint.

    rpc("res.partner", "search_read", [["id", "=", 1]], fields=["name"])
    """

    def __init__(self, url, db, login="admin", password="admin"):
        self.url, self.db, self.login, self.password = url.rstrip("/"), db, login, password
        self._uid = None
        self._id = 0

    def _call(self, service, method, *args):
        import requests

        self._id += 1
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": self._id,
        }
        resp = requests.post(f"{self.url}/jsonrpc", json=payload, timeout=120)
        resp.raise_for_status()
        data = resp.json()
        if data.get("error"):
            err = data["error"]
            message = (err.get("data") or {}).get("message") or err.get("message")
            raise RpcError(message, err)
        return data["result"]

    @property
    def uid(self):
        if self._uid is None:
            self._uid = self._call("common", "login", self.db, self.login, self.password)
            if not self._uid:
                raise RpcError(f"login {self.login!r} refused on {self.db}")
        return self._uid

    def __call__(self, model, method, *args, **kwargs):
        return self._call(
            "object", "execute_kw", self.db, self.uid, self.password, model, method,
            list(args), kwargs,
        )  # fmt: skip

    call = __call__


class OdooServer:
    """A real Odoo server (prefork, --workers) on a free port, for system tests.

    server = OdooServer(db, log_path).start(); server.url; server.rpc(...);
    server.stop(). ``extra_args`` are more Odoo command-line options.
    """

    def __init__(self, db, log_path, workers=2, extra_args=(), interface="127.0.0.1"):
        self.db = db
        self.log_path = Path(log_path)
        self.workers = workers
        self.extra_args = list(extra_args)
        self.interface = interface
        self.proc = None
        self.http_port = self.gevent_port = None
        # regexes of ERROR log lines a test provoked on purpose
        self.allowed_errors = []

    @property
    def url(self):
        return f"http://{self.interface}:{self.http_port}"

    @property
    def base_url(self):
        return self.url

    @property
    def rpc(self):
        if not hasattr(self, "_rpc"):
            self._rpc = JsonRpc(self.url, self.db)
        return self._rpc

    def args(self):
        return [
            "-d", self.db, f"--db-filter=^{re.escape(self.db)}$",
            f"--workers={self.workers}", f"--http-port={self.http_port}",
            f"--gevent-port={self.gevent_port}", f"--http-interface={self.interface}",
            "--max-cron-threads=0", *self.extra_args,
        ]  # fmt: skip

    def start(self, timeout=180):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):
            self.http_port, self.gevent_port = free_port(), free_port()
            cmd = odoo_cmd(*self.args())
            with open(self.log_path, "a") as log:
                log.write("$ " + " ".join(cmd) + "\n")
                log.flush()
                self.proc = subprocess.Popen(
                    cmd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=odoo_env(),
                    cwd=ROOT,
                    start_new_session=True,
                )
            if self._wait_healthy(timeout):
                return self
            self.stop()
            if "Address already in use" not in tail(self.log_path, 60):
                break
        raise SetupError(
            f"Odoo server on {self.db} did not become healthy; log {self.log_path}:\n"
            + tail(self.log_path, 60)
        )

    def _wait_healthy(self, timeout):
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                resp = requests.get(f"{self.url}/web/health", timeout=5)
                if resp.ok and resp.json().get("status") == "pass":
                    return True
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        return False

    def stop(self):
        if self.proc is not None:
            _kill_group(self.proc, grace=30)
            self.proc = None

    def log_errors(self):
        """ERROR/CRITICAL blocks of the server log, less the allowed ones."""
        if not self.log_path.exists():
            return []
        blocks = scan_log(self.log_path).error_blocks
        return [b for b in blocks if not any(re.search(p, b) for p in self.allowed_errors)]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
