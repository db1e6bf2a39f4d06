"""Conversion outbox throughput: conversions sent per second by one run of
the sending cron against a loopback stand-in for GA4, and the queries per
conversion (from the server log line the cron writes after each batch).

    make bench                                  # with the other benchmarks
    pytest -m bench tests/bench_conversions.py -s

The calls and conversions are inserted in SQL (the outbox is the subject,
not the webhook); a GA4 destination points at a local HTTP server that
answers 204 at once. Prints figures; never asserts timings.
"""

import importlib.util
import re
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import devlib

CONVERSIONS = 500
# the cron's own batch (SEND_BATCH): one method call per batch, as Odoo's
# cron runner makes them
BATCH = 100
LOG_LINE = re.compile(r"call_tracking: (\d+) conversions handled in ([\d.]+) s, (\d+) queries")


def _standin():
    path = ROOT / "call_tracking" / "tests" / "conversion_standin.py"
    spec = importlib.util.spec_from_file_location("conversion_standin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.StandIn(default_body="")


def run(server, conversions=CONVERSIONS, echo=print):
    rpc = server.rpc
    standin = _standin()
    try:
        # the stand-in is on the loopback, which the outgoing-request guard
        # refuses unless the administrator allows it
        rpc(
            "ir.config_parameter",
            "set_param",
            "call_tracking.outbound_allowed_networks",
            "127.0.0.0/8",
        )
        company = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"][0]
        provider = rpc("call.tracking.provider", "create", {"name": "Bench conversions"})
        destination = rpc(
            "call.tracking.destination",
            "create",
            {
                "name": "Bench GA4",
                "kind": "ga4",
                "account_ref": "G-BENCH1234",
                "secret_input": "bench-api-secret",
                "endpoint_url": f"{standin.url}/mp/collect",
            },
        )
        with devlib.pg_cursor(server.db) as cr:
            cr.execute(
                """
                WITH calls AS (
                    INSERT INTO call_tracking_call
                        (provider_id, provider_call_id, company_id, status, start_at,
                         create_date, write_date)
                    SELECT %(provider)s, 'bench-conv-' || g, %(company)s, 'answered',
                           now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC',
                           now() AT TIME ZONE 'UTC'
                      FROM generate_series(1, %(n)s) g
                    RETURNING id
                )
                INSERT INTO call_tracking_conversion
                    (call_id, destination_id, kind, company_id, trigger, state, event_id,
                     event_time, payload, attempts, next_try_at, create_date, write_date)
                SELECT id, %(destination)s, 'ga4', %(company)s, 'call', 'pending',
                       'bench-' || id, now() AT TIME ZONE 'UTC',
                       '{"client_id": "' || id || '.1", "events": [{"name": "phone_call",'
                       || ' "params": {"engagement_time_msec": 1}}]}',
                       0, now() AT TIME ZONE 'UTC' - interval '1 minute',
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                  FROM calls
                """,
                {
                    "provider": provider,
                    "company": company,
                    "n": conversions,
                    "destination": destination,
                },
            )
        cron = rpc(
            "ir.model.data",
            "search_read",
            [
                ("module", "=", "call_tracking"),
                ("name", "=", "ir_cron_call_tracking_conversion_send"),
            ],
            ["res_id"],
        )[0]["res_id"]
        offset = Path(server.log_path).stat().st_size
        started = time.perf_counter()
        # one call per batch, as the cron runner makes them
        for _batch in range(-(-conversions // BATCH)):
            rpc("ir.cron", "method_direct_trigger", [cron])
        elapsed = time.perf_counter() - started
        with open(server.log_path, encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            lines = LOG_LINE.findall(log.read())
        done = sum(int(n) for n, _s, _q in lines)
        inside = sum(float(s) for _n, s, _q in lines)
        queries = sum(int(q) for _n, _s, q in lines)
        sent = rpc(
            "call.tracking.conversion",
            "search_count",
            [("destination_id", "=", destination), ("state", "=", "sent")],
        )
        echo(
            f"conversions: {sent}/{conversions} sent to the loopback GA4 stand-in "
            f"({len(standin.requests)} requests) in {elapsed:.2f} s over RPC: "
            f"{sent / elapsed:.0f} conversions/s",
            flush=True,
        )
        if done:
            echo(
                f"inside the cron method: {done / inside:.0f} conversions/s, "
                f"{queries / done:.2f} queries per conversion "
                f"({queries} queries for {done} conversions in {len(lines)} batches of {BATCH})",
                flush=True,
            )
        return sent, elapsed, queries
    finally:
        rpc("ir.config_parameter", "set_param", "call_tracking.outbound_allowed_networks", False)
        standin.stop()


@pytest.mark.bench
def test_bench_conversions(odoo_server, bench_figure):
    sent, elapsed, _queries = run(odoo_server)
    # correctness, not a timing: every conversion reached the stand-in
    assert sent == CONVERSIONS, f"{sent} of {CONVERSIONS} conversions sent"
    bench_figure(f"{sent} conversions sent to a GA4 stand-in in {elapsed:.2f} s over RPC")
