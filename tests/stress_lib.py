"""Helpers of the stress harness (tests/test_stress.py): scale, figures,
HTTP clients bound to loopback addresses, simulated telephony providers of
each kind, server logs and the private PostgreSQL cluster.

Everything stays on loopback: the servers listen on 127.0.0.1 and every
client binds its socket to an address of 127.0.0.0/8.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests
from requests.adapters import HTTPAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import devlib

# `make stress` (scripts/run_tests.py --stress) sets CALL_TRACKING_STRESS=full;
# `make test` runs the short version: about a tenth of the volumes.
FULL = os.environ.get("CALL_TRACKING_STRESS") == "full"
SCALE = 1.0 if FULL else 0.1
TIMEOUT = 60
# a browser's user agent: automated clients may be refused a lease
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SECRETS = {
    "generic": "demo-generic-secret",
    "twilio": "demo-twilio-auth-token",
    "zadarma": "demo-zadarma-secret",
}
PROVIDER_XMLIDS = {
    "generic": "demo_provider_generic",
    "twilio": "demo_provider_twilio",
    "zadarma": "demo_provider_zadarma",
}
ZADARMA_TZ = ZoneInfo("Europe/Kyiv")  # demo_provider_zadarma's PBX time zone
# Odoo's retry of a request after a concurrency error (odoo/service/model.py)
RETRY_LINE = re.compile(
    r" INFO \S+ odoo\.service\.model: (SERIALIZATION_FAILURE|LOCK_NOT_AVAILABLE|"
    r"DEADLOCK_DETECTED), \d+ tries left"
)


def scaled(full_volume, minimum=1):
    return max(int(full_volume * SCALE), minimum)


# ----------------------------------------------------------------------
# figures: one table for the whole run
# ----------------------------------------------------------------------

FIGURES = []  # (section, figure, value, expected or "")


def figure(section, name, value, expected=""):
    FIGURES.append((section, name, value, expected))


def figures_table():
    if not FIGURES:
        return ""
    rows = [("part", "figure", "value", "must be")] + [
        (s, n, str(v), str(e)) for s, n, v, e in FIGURES
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [f"call_tracking stress figures ({'full' if FULL else 'short'} run)", line]
    for index, row in enumerate(rows):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


def percentile(values, pct):
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# ----------------------------------------------------------------------
# clients bound to loopback addresses
# ----------------------------------------------------------------------


class SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address, **kwargs):
        self._address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def client(address="127.0.0.1"):
    """A requests.Session whose connections leave from ``address``."""
    session = requests.Session()
    adapter = SourceAddressAdapter(address, pool_connections=4, pool_maxsize=4)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = BROWSER_UA
    # no idle keep-alive connection: a prefork worker waiting on one for
    # the next request logs "Request timed out" (an ERROR) when it idles
    session.headers["Connection"] = "close"
    return session


def visitor_address(index):
    """A loopback address alone in its /24 for visitor ``index`` (< 63,000),
    so per-address and per-subnet lease caps never mistake two simulated
    visitors for one client."""
    return f"127.{1 + index // 250}.{index % 250}.{1 + index % 7}"


def drain_address(index):
    return f"127.253.{index}.1"


# ----------------------------------------------------------------------
# simulated providers
# ----------------------------------------------------------------------


class Caller:
    """Distinct valid Ukrainian mobile numbers (a repeating caller may be
    judged spam: every simulated call has its own caller)."""

    def __init__(self, seed):
        self._lock = threading.Lock()
        self._next = seed % 10**6 * 10

    def __call__(self):
        with self._lock:
            self._next += 1
            return "+38067" + str(self._next % 10**7).zfill(7)


def _signed_generic(payload, secret=SECRETS["generic"]):
    body = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Call-Tracking-Signature": sig}


def twilio_signature(secret, url, params):
    data = url + "".join(f"{k}{v}" for k, v in sorted(params))
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def zadarma_signature(secret, params, event):
    names = ("caller_id", "called_did", "call_start")
    if event == "NOTIFY_RECORD":
        names = ("pbx_call_id", "call_id_with_rec")
    data = "".join(str(dict(params).get(n, "")) for n in names)
    hex_digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hex_digest.encode()).decode()


def provider_event(kind, event, call, base_url, token):
    """(body, headers) of one provider notification, signed as that provider
    signs it. ``call``: dict with id, caller, called, start (aware UTC)."""
    url = f"{base_url}/call_tracking/webhook/{token}"
    if kind == "generic":
        payload = {
            "event": event,
            "call_id": call["id"],
            "from": call["caller"],
            "to": call["called"],
            "start": call["start"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if event == "call_end":
            payload.update(duration=42, talk_duration=30, status="answered")
        return _signed_generic(payload)
    if kind == "twilio":
        params = [
            ("AccountSid", "AC" + "0" * 32),
            ("CallSid", call["id"]),
            ("From", call["caller"]),
            ("To", call["called"]),
        ]
        if event == "call_start":
            params += [("CallStatus", "ringing"), ("Timestamp", format_datetime(call["start"]))]
        else:
            end = call["start"] + timedelta(seconds=42)
            params += [
                ("CallStatus", "completed"),
                ("CallDuration", "42"),
                ("Timestamp", format_datetime(end)),
            ]
        sig = twilio_signature(SECRETS["twilio"], url, params)
        return urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sig,
        }
    # zadarma: call_start in the PBX's time zone, without offset
    local_start = call["start"].astimezone(ZADARMA_TZ).strftime("%Y-%m-%d %H:%M:%S")
    notify = "NOTIFY_START" if event == "call_start" else "NOTIFY_END"
    params = [
        ("event", notify),
        ("call_start", local_start),
        ("pbx_call_id", call["id"]),
        ("caller_id", call["caller"].lstrip("+")),
        ("called_did", call["called"].lstrip("+")),
    ]
    if notify == "NOTIFY_END":
        params += [("duration", "5"), ("disposition", "answered"), ("status_code", "16")]
    sig = zadarma_signature(SECRETS["zadarma"], params, notify)
    return urlencode(params).encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "Signature": sig,
    }


def deliver(session, base_url, kind, token, event, call, deadline, stats):
    """Deliver one notification as a provider does: retry (with a short
    back-off) until a 2xx or the deadline. Every attempt is counted in
    ``stats`` (a dict of counters, shared, guarded by its lock)."""
    delay = 0.1
    while True:
        body, headers = provider_event(kind, event, call, base_url, token)
        started = time.monotonic()
        try:
            resp = session.post(
                f"{base_url}/call_tracking/webhook/{token}",
                data=body,
                headers=headers,
                timeout=TIMEOUT,
            )
            status = resp.status_code
        except requests.RequestException:
            status = "conn"
        stats.add(status, time.monotonic() - started, base_url)
        if isinstance(status, int) and 200 <= status < 300:
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


class Stats:
    """Thread-safe answers by status and latencies by server."""

    def __init__(self):
        self.lock = threading.Lock()
        self.status = {}
        self.latency = {}
        self.failures = []  # (monotonic time, status) of answers other than 2xx

    def add(self, status, seconds, server):
        with self.lock:
            self.status[status] = self.status.get(status, 0) + 1
            self.latency.setdefault(server, []).append(seconds)
            if not (isinstance(status, int) and 200 <= status < 300):
                self.failures.append((time.monotonic(), status))

    def count(self, *statuses):
        return sum(self.status.get(s, 0) for s in statuses)

    @property
    def total(self):
        return sum(self.status.values())

    def by_status(self):
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.status.items(), key=str))


def now_utc():
    return datetime.now(UTC).replace(microsecond=0)


# ----------------------------------------------------------------------
# servers, logs, PostgreSQL
# ----------------------------------------------------------------------


def log_size(server):
    try:
        return server.log_path.stat().st_size
    except OSError:
        return 0


def log_since(server, offset):
    with open(server.log_path, errors="replace") as fh:
        fh.seek(offset)
        return fh.read()


# A prefork worker gives a client 2 s to send its request once the
# connection is accepted; a client thread starved of CPU on a loaded machine
# misses it, and werkzeug logs this ERROR (the client sees a dropped
# connection). A harness artefact, counted apart, never a product error.
SLOW_CLIENT = r"werkzeug: .* Request timed out: TimeoutError"


def count_slow_clients(server, offset):
    return len(re.findall(SLOW_CLIENT, log_since(server, offset)))


def count_retries(server, offset):
    return len(RETRY_LINE.findall(log_since(server, offset)))


def error_blocks_since(server, offset):
    """ERROR/CRITICAL blocks (with their tracebacks) logged after ``offset``."""
    blocks, block = [], None
    for line in log_since(server, offset).splitlines():
        match = devlib.LOG_LINE.match(line)
        if not match:
            if block is not None:
                block.append(line)
            continue
        block = None
        if match["level"] in ("ERROR", "CRITICAL") and not re.search(SLOW_CLIENT, line):
            block = [line]
            blocks.append(block)
    return ["\n".join(b) for b in blocks]


def worker_pids(server):
    """The HTTP worker processes of a prefork server (children of its
    master, without the gevent process)."""
    import psutil

    master = psutil.Process(server.proc.pid)
    pids = []
    for child in master.children():
        try:
            args = child.cmdline()
        except psutil.Error:
            continue
        # the gevent process is re-executed as `odoo-bin gevent ...`; the
        # forked HTTP workers keep the master's command line
        if "gevent" not in args:
            pids.append(child.pid)
    return pids


def pg_restart_command(db):
    """The command restarting the private cluster (``pg_ctl restart -m
    fast``), run as the cluster's owner; None when the tests do not run on
    the private cluster of scripts/setup.sh (never restart a shared server)."""
    if not devlib.private_cluster():
        return None
    with devlib.pg_cursor(db) as cr:
        cr.execute("SHOW data_directory")
        data_dir = cr.fetchone()[0]
        cr.execute("SHOW server_version_num")
        major = int(cr.fetchone()[0]) // 10000
    pg_ctl = Path(f"/usr/lib/postgresql/{major}/bin/pg_ctl")
    if not pg_ctl.exists():
        return None
    cmd = [str(pg_ctl), "-D", data_dir, "-l", f"{data_dir}/server.log", "-w", "-t", "60"]
    cmd += ["restart", "-m", "fast"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def pg_restart(cmd):
    """Restart the cluster; return (seconds the command took, output)."""
    started = time.monotonic()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, check=False, cwd="/", stdin=subprocess.DEVNULL
    )
    return time.monotonic() - started, proc.returncode, (proc.stdout + proc.stderr).strip()


def sql(db, query, params=None):
    with devlib.pg_cursor(db) as cr:
        cr.execute(query, params or [])
        return cr.fetchall()


def wait_pg(db, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            sql(db, "SELECT 1")
            return
        except Exception:  # psycopg2 errors while it restarts
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
