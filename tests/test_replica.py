"""Reports from a PostgreSQL hot standby: a real streaming replica on the
loopback, made with ``pg_basebackup -R`` from the test cluster, and an Odoo
server started with ``--db_replica_host``/``--db_replica_port``.

While webhooks create calls on the primary, the Call Analysis pivot
(``web_read_group``, an ``@api.readonly`` method reached through
``/web/dataset/call_kw``) must run on the replica and not on the primary:
both servers log every statement of the test database, and the pivot's
domain carries a marker that must appear in the replica's log only. Once the
replica has caught up its figures equal the primary's; with the replica
stopped, Odoo falls back to the primary and the figures are still right.
"""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import devlib
import pytest
import requests
from webhook_helpers import call_event, now_iso, post_event, provider_token

MEASURES = ["call_count:sum", "answered_count:sum", "missed_rate:avg", "won_revenue:sum"]


def _pg_bin():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_basebackup"))
    return found[-1].parent if found else None


def _as_cluster_owner(cmd, **kwargs):
    """Run a PostgreSQL server tool as the OS user that owns the cluster
    (root may not run a server)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd="/", **kwargs)


class Replica:
    def __init__(self, primary_host, primary_port, db):
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="ct-replica-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.port = devlib.free_port()
        self.log = self.root / "replica.log"
        self.primary_host, self.primary_port, self.db = primary_host, primary_port, db
        # a replication slot keeps the primary's WAL until the replica has it
        self.slot = f"ct_replica_{uuid.uuid4().hex[:12]}"

    def start(self):
        self.sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sock, "postgres")
        _as_cluster_owner(
            [
                str(self.bin / "pg_basebackup"),
                "-h", str(self.primary_host), "-p", str(self.primary_port), "-U", "odoo",
                "-D", str(self.data), "-R", "-X", "stream", "-c", "fast",
                "-C", "-S", self.slot,
            ]
        )  # fmt: skip
        options = (
            f"-c port={self.port} -c unix_socket_directories={self.sock} "
            "-c listen_addresses='' -c hot_standby=on -c log_statement=all "
            "-c logging_collector=off"
        )
        try:
            _as_cluster_owner(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                 "-o", options, "-w", "-t", "60", "start"]
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise AssertionError(f"the replica did not start: {exc.stderr}\n{log}") from None

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            _as_cluster_owner(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            )

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            with devlib.pg_cursor() as cr:
                cr.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    " WHERE slot_name = %s",
                    [self.slot],
                )

    def dsn(self):
        return f"host={self.sock} port={self.port} user=odoo"

    def wait_caught_up(self, timeout=300):
        with devlib.pg_cursor(self.db) as cr:
            cr.execute("SELECT pg_current_wal_lsn()")
            target = cr.fetchone()[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with devlib.pg_cursor(self.db, dsn=self.dsn()) as cr:
                cr.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn, pg_is_in_recovery()", [target]
                )
                caught_up, in_recovery = cr.fetchone()
            assert in_recovery, "the replica is a hot standby"
            if caught_up:
                return
            time.sleep(0.2)
        raise AssertionError(f"the replica did not catch up within {timeout} s")


def _primary_log():
    with devlib.pg_cursor() as cr:
        cr.execute("SHOW data_directory")
        data = Path(cr.fetchone()[0])
    return data / "server.log"


@pytest.fixture
def replica(odoo_db):
    params = devlib.pg_params()
    host = params.get("host", "")
    if not host.startswith("/") or _pg_bin() is None:
        pytest.skip("needs a local PostgreSQL cluster on a Unix socket and its server tools")
    if not _primary_log().exists():
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


def _web_session(server):
    session = requests.Session()
    resp = session.post(
        f"{server.url}/web/session/authenticate",
        json={"params": {"db": server.db, "login": "admin", "password": "admin"}},
        timeout=60,
    )
    resp.raise_for_status()
    assert resp.json().get("result", {}).get("uid"), resp.text[:500]
    return session


def _pivot(session, server, marker):
    """The Call Analysis by channel and month, as the pivot view asks it."""
    resp = session.post(
        f"{server.url}/web/dataset/call_kw/call.tracking.call.report/web_read_group",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "model": "call.tracking.call.report",
                "method": "web_read_group",
                "args": [],
                "kwargs": {
                    "domain": [("caller_number", "!=", marker)],
                    "fields": MEASURES,
                    "groupby": ["channel_id", "start_at:month"],
                    "lazy": False,
                },
            },
        },
        timeout=120,
    )
    resp.raise_for_status()
    body = resp.json()
    assert "error" not in body, body.get("error")
    return sorted(
        (
            (g["channel_id"] and g["channel_id"][0], g["start_at:month"]),
            g["call_count"],
            g["answered_count"],
            round(g["missed_rate"] or 0, 6),
            round(g["won_revenue"] or 0, 2),
        )
        for g in body["result"]["groups"]
    )


def test_reports_served_by_the_standby(replica, odoo_server_factory):
    server = odoo_server_factory(
        f"--db_replica_host={replica.sock}", f"--db_replica_port={replica.port}", workers=2
    )
    _provider_id, token = provider_token(server.rpc)
    session = _web_session(server)
    primary_log = _primary_log()
    primary_start = primary_log.stat().st_size

    # webhooks create calls on the primary while the pivot is read
    posted = []

    def calls():
        with requests.Session() as hooks:
            for index in range(12):
                call_id = f"replica-{uuid.uuid4().hex[:10]}"
                caller = f"+1212555{index:04d}"
                for event in ("call_start", "call_end"):
                    payload = call_event(event, call_id, caller, "+12125550199", start=now_iso())
                    resp = post_event(hooks, server.url, token, payload)
                    assert resp.status_code == 200, resp.text[:300]
                posted.append(call_id)

    writer = threading.Thread(target=calls)
    writer.start()
    markers = []
    while writer.is_alive() or not markers:
        markers.append(f"replica-marker-{uuid.uuid4().hex}")
        _pivot(session, server, markers[-1])
    writer.join()
    assert len(posted) == 12

    replica_log = replica.log.read_text(errors="replace")
    primary_text = primary_log.read_bytes()[primary_start:].decode(errors="replace")
    assert "call_tracking_call_report" in replica_log
    for marker in markers:
        assert marker in replica_log, "the pivot ran on the replica"
        assert marker not in primary_text, "the pivot did not run on the primary"
    # the webhooks wrote on the primary, never on the read-only replica
    inserts = re.compile(r'INSERT INTO "?call_tracking_call"?\s', re.IGNORECASE)
    assert inserts.search(primary_text)
    assert not inserts.search(replica_log)

    # caught up, the replica's figures are the primary's
    replica.wait_caught_up()
    on_replica = _pivot(session, server, "replica-after")
    on_primary = sorted(
        (
            (g["channel_id"] and g["channel_id"][0], g["start_at:month"]),
            g["call_count"],
            g["answered_count"],
            round(g["missed_rate"] or 0, 6),
            round(g["won_revenue"] or 0, 2),
        )
        for g in server.rpc(
            "call.tracking.call.report",
            "read_group",
            [],
            MEASURES,
            ["channel_id", "start_at:month"],
            lazy=False,
        )
    )
    assert on_replica == on_primary
    assert sum(row[1] for row in on_replica) >= 12

    # the replica down: Odoo falls back to the primary, figures unchanged
    replica.stop()
    marker = f"replica-down-{uuid.uuid4().hex}"
    assert _pivot(session, server, marker) == on_primary
    primary_text = primary_log.read_bytes()[primary_start:].decode(errors="replace")
    assert marker in primary_text
    server.allowed_errors.append(r"replica|could not connect|Connection refused|No such file")
