"""A real PostgreSQL streaming replica of the test cluster, on the loopback
(``pg_basebackup -R`` with a replication slot), for the tests and benches of
reports served by a hot standby (test_replica.py, test_deploy_topology.py,
bench_sizing.py; the ``replica`` fixture is in conftest.py); and the Call
Analysis pivot as the web client reads it."""

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import devlib
import requests

MEASURES = ["call_count:sum", "answered_count:sum", "missed_rate:avg", "won_revenue:sum"]


def pg_bin():
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
        self.bin = pg_bin()
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
            # the insert position: with synchronous_commit off a commit returns
            # before its record is written, past pg_current_wal_lsn()
            cr.execute("SELECT pg_current_wal_insert_lsn()")
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


def primary_log_path():
    with devlib.pg_cursor() as cr:
        cr.execute("SHOW data_directory")
        data = Path(cr.fetchone()[0])
    return data / "server.log"


def web_session(server):
    session = requests.Session()
    resp = session.post(
        f"{server.url}/web/session/authenticate",
        json={"params": {"db": server.db, "login": "admin", "password": "admin"}},
        timeout=60,
    )
    resp.raise_for_status()
    assert resp.json().get("result", {}).get("uid"), resp.text[:500]
    return session


def pivot(session, server, marker):
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
