"""Benchmark of the call analysis pivot at 1,000,000 calls.

A dedicated scratch database (call_tracking installed) is filled with
1,000,000 calls and 250,000 leads by ``INSERT ... SELECT generate_series``
(not through the ORM), then the main pivot of ``call.tracking.call.report``
is loaded as the web client loads it: ``read_group`` over JSON-RPC on a live
server, channels x months, with every measure. Beside it, in the same run,
raw SQL ``GROUP BY`` queries of the same figures on the call table:

* *floor*: the call-only figures (calls, unique callers, answered, missed,
  targeted, untargeted, targeted share, average talk time);
* *full*: the same plus the lead figures (leads, won leads, won revenue with
  each lead counted once on its first call), hand-written.

Both leave out spam and test calls, as the report does (the bench's calls
are neither, so the filters cost a test per row and remove nothing).

Timings are printed (best and median of several runs, and the ratios), never
asserted; the only assertions are that the pivot and the raw SQL agree.

    make bench                                       # pytest -m bench
    python tests/bench_reports.py [--calls 1000000] [--keep]   # own database + server
    python tests/bench_reports.py --url http://127.0.0.1:8069 --db scratch \\
        --pg-dsn "host=/tmp/pg user=odoo"                      # a running scratch server
"""

import argparse
import functools
import os
import statistics
import sys
import time
from pathlib import Path

try:
    import pytest
except ImportError:  # standalone run without pytest
    pytest = None

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import devlib

# BENCH_REPORT_CALLS=20000 for a quick check of the benchmark itself
CALLS = int(os.environ.get("BENCH_REPORT_CALLS", "1000000"))
CALLS_PER_LEAD = 4
RUNS = 5
MEASURES = [
    "call_count:sum",
    "caller_key:count_distinct",
    "answered_count:sum",
    "missed_count:sum",
    "targeted_count:sum",
    "untargeted_count:sum",
    "targeted_rate:avg",
    "lead_count:sum",
    "won_count:sum",
    "won_revenue:sum",
    "avg_talk_time:avg",
]

FILL_LEADS = """
WITH ctx AS (
    SELECT %(company)s AS company,
           (SELECT id FROM crm_stage WHERE is_won ORDER BY id LIMIT 1) AS won,
           (SELECT id FROM crm_stage WHERE NOT is_won ORDER BY sequence, id LIMIT 1) AS open
)
INSERT INTO crm_lead (name, type, active, company_id, user_id, stage_id, expected_revenue,
                      call_quality, create_date, write_date)
SELECT 'bench lead ' || g, 'opportunity', TRUE, ctx.company, 2,
       CASE WHEN g %% 10 < 3 THEN ctx.won ELSE ctx.open END, (g %% 50) * 100.0,
       CASE WHEN g %% 5 = 0 THEN 'untargeted' WHEN g %% 5 < 4 THEN 'targeted' END,
       now(), now()
  FROM generate_series(1, %(leads)s) g, ctx
"""
# calls: 20 channels, ~400k distinct callers, two years, 4 consecutive calls
# per lead, the lead's quality mirrored on its calls (as the stored related)
FILL_CALLS = """
WITH ctx AS (
    SELECT %(company)s AS company,
           (SELECT id FROM call_tracking_provider WHERE company_id = %(company)s
             ORDER BY id LIMIT 1) AS provider,
           (SELECT array_agg(id ORDER BY id) FROM call_tracking_channel
             WHERE name->>'en_US' LIKE 'Bench channel %%') AS channels,
           (SELECT min(id) FROM crm_lead WHERE name = 'bench lead 1') AS lead0
)
INSERT INTO call_tracking_call (provider_id, provider_call_id, company_id, caller_number,
       channel_id, start_at, status, duration, talk_duration, lead_id, quality, user_id,
       attribution_method, create_date, write_date)
SELECT ctx.provider, 'bench-' || g, ctx.company,
       '+38050' || lpad(((g::bigint * 7919) %% 400000)::text, 7, '0'),
       ctx.channels[1 + (g * 31) %% array_length(ctx.channels, 1)],
       timestamp '2025-01-01' + g * interval '63 seconds',
       CASE WHEN g %% 10 < 7 THEN 'answered' WHEN g %% 10 < 9 THEN 'missed' ELSE 'busy' END,
       g %% 600 + 10,
       CASE WHEN g %% 10 < 7 THEN g %% 600 ELSE 0 END,
       ctx.lead0 + (g - 1) / %(per_lead)s,
       CASE WHEN ((g - 1) / %(per_lead)s + 1) %% 5 = 0 THEN 'untargeted'
            WHEN ((g - 1) / %(per_lead)s + 1) %% 5 < 4 THEN 'targeted' END,
       2, 'static', now(), now()
  FROM generate_series(1, %(calls)s) g, ctx
"""
RAW_FLOOR = """
SELECT channel_id, date_trunc('month', start_at) AS month,
       count(*), count(DISTINCT caller_number),
       count(*) FILTER (WHERE status = 'answered'),
       count(*) FILTER (WHERE status IN ('missed', 'busy', 'voicemail', 'failed')),
       count(*) FILTER (WHERE quality = 'targeted'),
       count(*) FILTER (WHERE quality = 'untargeted'),
       avg(CASE quality WHEN 'targeted' THEN 100.0 WHEN 'untargeted' THEN 0.0 END),
       avg(talk_duration) FILTER (WHERE status = 'answered')
  FROM call_tracking_call
 WHERE company_id = %(company)s AND is_spam IS NOT TRUE AND is_test IS NOT TRUE
 GROUP BY 1, 2
"""
RAW_FULL = """
WITH first_call AS (
    SELECT min(id) AS id FROM call_tracking_call WHERE lead_id IS NOT NULL GROUP BY lead_id
)
SELECT c.channel_id, date_trunc('month', c.start_at) AS month,
       count(*), count(DISTINCT c.caller_number),
       count(*) FILTER (WHERE c.status = 'answered'),
       count(*) FILTER (WHERE c.status IN ('missed', 'busy', 'voicemail', 'failed')),
       count(*) FILTER (WHERE c.quality = 'targeted'),
       count(*) FILTER (WHERE c.quality = 'untargeted'),
       avg(CASE c.quality WHEN 'targeted' THEN 100.0 WHEN 'untargeted' THEN 0.0 END),
       avg(c.talk_duration) FILTER (WHERE c.status = 'answered'),
       count(f.id),
       count(f.id) FILTER (WHERE l.active AND s.is_won),
       COALESCE(sum(l.expected_revenue) FILTER (WHERE f.id IS NOT NULL AND l.active
                                                 AND s.is_won), 0)
  FROM call_tracking_call c
  LEFT JOIN first_call f ON f.id = c.id
  LEFT JOIN crm_lead l ON l.id = c.lead_id AND f.id IS NOT NULL
  LEFT JOIN crm_stage s ON s.id = l.stage_id
 WHERE c.company_id = %(company)s AND c.is_spam IS NOT TRUE AND c.is_test IS NOT TRUE
 GROUP BY 1, 2
"""


def fill(rpc, cursor, calls=CALLS, echo=print):
    """20 bench channels (and a provider when there is none) through the ORM,
    then the leads and calls in SQL. ``cursor()``: a cursor on the database."""
    started = time.monotonic()
    company = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"][0]
    rpc(
        "call.tracking.channel",
        "create",
        [{"name": f"Bench channel {index:02d}", "sequence": 100 + index} for index in range(20)],
    )
    if not rpc("call.tracking.provider", "search_count", [("company_id", "=", company)]):
        rpc("call.tracking.provider", "create", {"name": "Bench provider", "kind": "generic"})
    with cursor() as cr:
        leads = -(-calls // CALLS_PER_LEAD)
        cr.execute(FILL_LEADS, {"leads": leads, "company": company})
        cr.execute(FILL_CALLS, {"calls": calls, "per_lead": CALLS_PER_LEAD, "company": company})
        cr.execute("VACUUM ANALYZE call_tracking_call")
        cr.execute("VACUUM ANALYZE crm_lead")
    echo(f"filled {calls:,} calls and {leads:,} leads in {time.monotonic() - started:.1f} s")
    return company


def _timed(func, runs=RUNS):
    times, result = [], None
    for _run in range(runs):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return result, min(times), statistics.median(times)


def run(rpc, cursor, company, echo=print):

    def pivot():
        return rpc(
            "call.tracking.call.report",
            "read_group",
            [("company_id", "=", company)],
            MEASURES,
            ["channel_id", "start_at:month"],
            lazy=False,
            context={"tz": "UTC"},
        )

    def raw(query, jit=True):
        with cursor() as cr:
            if not jit:
                # as the report's own grouped reads run (SET LOCAL jit = off)
                cr.execute("SET LOCAL jit = off")
            cr.execute(query, {"company": company})
            return cr.fetchall()

    pivot()  # warm-up: the server's registry and PostgreSQL's caches
    groups, orm_best, orm_median = _timed(pivot)
    floor, floor_best, floor_median = _timed(lambda: raw(RAW_FLOOR))
    full, full_best, full_median = _timed(lambda: raw(RAW_FULL))
    # the same SQL without JIT compilation, as the report reads: the ratio
    # below is taken against the faster of the two
    _full, nojit_best, nojit_median = _timed(lambda: raw(RAW_FULL, jit=False))
    # the order of the measurements does not favour one side: ORM again
    _groups, orm_best_2, _median = _timed(pivot)
    orm_best = min(orm_best, orm_best_2)

    def line_for(label, best, median, ratio=None):
        text = f"  {label:<30}: {best * 1000:8.0f} ms / {median * 1000:8.0f} ms"
        return text + (f"   ratio ORM/raw {ratio:.2f}" if ratio else "")

    lines = [
        (
            f"call analysis pivot, {sum(g['call_count'] for g in groups):,} calls, "
            f"{len(groups)} cells "
            f"(channel x month), {len(MEASURES)} measures, best / median of {RUNS}:"
        ),
        line_for("ORM read_group over JSON-RPC", orm_best, orm_median),
        line_for("raw SQL, same figures", full_best, full_median),
        line_for("raw SQL, same figures, no JIT", nojit_best, nojit_median),
        line_for(
            "ORM vs the faster raw SQL",
            min(full_best, nojit_best),
            min(full_median, nojit_median),
            orm_best / min(full_best, nojit_best),
        ),
        line_for("raw SQL, call figures only", floor_best, floor_median, orm_best / floor_best),
    ]
    for line in lines:
        echo(line)
    # correctness: the pivot and the raw SQL agree cell by cell (UTC months)
    assert len(groups) == len(full) == len(floor), (len(groups), len(full), len(floor))
    totals = {
        "calls": sum(g["call_count"] for g in groups),
        "won_revenue": sum(g["won_revenue"] for g in groups),
        "leads": sum(g["lead_count"] for g in groups),
    }
    assert totals["calls"] == sum(row[2] for row in full)
    assert totals["leads"] == sum(row[10] for row in full)
    assert abs(totals["won_revenue"] - float(sum(row[12] for row in full))) < 0.01
    by_cell = {(row[0], row[1].strftime("%B %Y")): row for row in full}
    for group in groups:
        channel = group["channel_id"] and group["channel_id"][0] or None
        row = by_cell[(channel, group["start_at:month"])]
        assert group["caller_key"] == row[3], (group, row)
        if row[8] is None:
            assert not group["targeted_rate"], (group, row)
        else:
            assert abs(group["targeted_rate"] - float(row[8])) < 1e-6, (group, row)

    return {
        "orm": orm_best,
        "raw_full": min(full_best, nojit_best),
        "raw_floor": floor_best,
        "cells": len(groups),
    }


if pytest:

    @pytest.mark.bench
    def test_bench_reports(odoo_server_factory):
        server = odoo_server_factory(workers=1, fresh_db=True)
        cursor = functools.partial(devlib.pg_cursor, server.db)
        company = fill(server.rpc, cursor)
        figures = run(server.rpc, cursor, company)
        assert figures["cells"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--url", help="an already running server on a scratch database (with --db, --pg-dsn)"
    )
    parser.add_argument("--db")
    parser.add_argument("--no-fill", action="store_true", help="the database is filled already")
    parser.add_argument("--pg-dsn", help='e.g. "host=/tmp/pg user=odoo" (with --url)')
    args = parser.parse_args(argv)
    if args.url:
        cursor = functools.partial(devlib.pg_cursor, args.db, dsn=args.pg_dsn)
        rpc = devlib.JsonRpc(args.url, args.db)
        if args.no_fill:
            company = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"][0]
        else:
            company = fill(rpc, cursor, args.calls)
        run(rpc, cursor, company)
        return 0
    log_dir = devlib.LOGS / (time.strftime("%Y%m%d-%H%M%S") + "-bench-reports")
    log_dir.mkdir(parents=True, exist_ok=True)
    db = devlib.create_module_db("bench_reports", log_dir)
    cursor = functools.partial(devlib.pg_cursor, db)
    try:
        with devlib.OdooServer(db, log_dir / "odoo-server.log", workers=1) as server:
            company = fill(server.rpc, cursor, args.calls)
            run(server.rpc, cursor, company)
    finally:
        if args.keep:
            print(f"kept database {db}")
        else:
            devlib.drop_db(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
