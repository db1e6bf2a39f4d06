"""Reconciliation throughput: calls checked per second by one run against a
loopback stand-in of the generic pull contract (docs/admin/reconciliation.rst).

    make bench                                   # with the other benchmarks
    pytest -m bench tests/bench_reconcile.py -s

The stand-in lists CALLS finished calls, pages of PAGE; Odoo already has
all but MISSING of them (inserted in SQL: the reconciliation is the
subject). The first run recovers the missing calls (each through the inbox,
with its lead), the second only checks. Prints figures; never asserts
timings.
"""

import hashlib
import hmac
import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import devlib

CALLS = 2000
MISSING = 100
PAGE = 500
SECRET = "bench-reconcile-secret"


def _sign(data):
    return "sha256=" + hmac.new(SECRET.encode(), data, hashlib.sha256).hexdigest()


class PullStandIn:
    """The generic pull contract: signed query in, signed pages of events out."""

    def __init__(self, events):
        self.requests = 0
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_GET(self):
                standin.requests += 1
                query = urlsplit(self.path).query
                if self.headers.get("X-Call-Tracking-Signature") != _sign(query.encode()):
                    self.send_response(403)
                    self.end_headers()
                    return
                offset = int(dict(parse_qsl(query)).get("cursor") or 0)
                more = offset + PAGE < len(events)
                body = json.dumps(
                    {
                        "events": events[offset : offset + PAGE],
                        "next_cursor": str(offset + PAGE) if more else None,
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Call-Tracking-Signature", _sign(body))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def run(server, calls=CALLS, missing=MISSING, echo=print):
    rpc = server.rpc
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    events = [
        {
            "event": "call_end",
            "call_id": f"bench-rec-{index}",
            "from": f"+38050{5000000 + index:07d}",
            "to": "+12125550111",
            "start": (now - timedelta(seconds=30 + index * 30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": 60,
            "talk_duration": 50,
            "status": "answered",
        }
        for index in range(calls)
    ]
    standin = PullStandIn(events)
    try:
        rpc(
            "ir.config_parameter",
            "set_param",
            "call_tracking.outbound_allowed_networks",
            "127.0.0.0/8",
        )
        company = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"][0]
        provider = rpc(
            "call.tracking.provider",
            "create",
            {
                "name": "Bench reconciliation",
                "kind": "generic",
                "secret_input": SECRET,
                "reconcile_url": f"{standin.url}/history",
                "reconcile_window_hours": 24,
            },
        )
        with devlib.pg_cursor(server.db) as cr:
            cr.execute(
                """
                INSERT INTO call_tracking_call
                    (provider_id, provider_call_id, company_id, status, start_at,
                     create_date, write_date)
                SELECT %(provider)s, 'bench-rec-' || g, %(company)s, 'answered',
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC',
                       now() AT TIME ZONE 'UTC'
                  FROM generate_series(%(missing)s, %(n)s - 1) g
                """,
                {"provider": provider, "company": company, "n": calls, "missing": missing},
            )
        for label in ("first run (recovers)", "second run (checks only)"):
            started = time.perf_counter()
            rpc("call.tracking.provider", "action_reconcile_now", [provider])
            elapsed = time.perf_counter() - started
            values = rpc(
                "call.tracking.provider",
                "read",
                [provider],
                ["reconcile_last_found", "reconcile_last_recovered", "reconcile_last_error"],
            )[0]
            found = values["reconcile_last_found"]
            recovered = values["reconcile_last_recovered"]
            error = values["reconcile_last_error"]
            echo(
                f"reconcile {label}: {found} calls checked, {recovered} recovered, "
                f"{standin.requests} requests so far, in {elapsed:.2f} s over RPC: "
                f"{found / elapsed:.0f} calls checked/s" + (f" (error: {error})" if error else ""),
                flush=True,
            )
        return found, elapsed
    finally:
        standin.stop()


@pytest.mark.bench
def test_bench_reconcile(odoo_server):
    run(odoo_server)
