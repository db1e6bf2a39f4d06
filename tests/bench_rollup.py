"""Benchmark of the Call Analysis roll-up at 10,000,000 calls.

A scratch database (call_tracking installed) is filled with
``CT_ROLLUP_CALLS`` calls (default 10,000,000: three years at about 10,000 a
day; a quick check: ``CT_ROLLUP_CALLS=200000``) and a lead for every 4 calls,
by ``INSERT ... SELECT generate_series``. The roll-up is built by its cron,
then the Call Analysis by channel x month, with every measure the roll-up
covers (all but Unique Callers, a count of distinct callers that sums of days
cannot give: a pivot asking for it reads the raw view), is read as the web
client reads it (``read_group`` over JSON-RPC) from the raw view and from
the roll-up, best and median of 5 each, side by side.

Then a day of 10,000 new or changed calls (7,000 new calls on a new day,
3,000 calls of the last week re-qualified, 500 of their leads won) and the
roll-up's refresh time for it.

Correctness, which fails the run (timings are printed, never asserted):
every cell of the roll-up's pivot equals the raw view's pivot exactly
(every measure), and equals raw SQL ``GROUP BY`` over the report's rows
(sums, averages and ratios of sums computed by PostgreSQL), both after the
full build and after the day of changes.

    .venv/bin/python -u scripts/run_tests.py --bench --no-lint --no-i18n --no-odoo \\
        -- -k bench_rollup -s
"""

import datetime
import functools
import os
import statistics
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import devlib

CALLS = int(os.environ.get("CT_ROLLUP_CALLS", "10000000"))
CALLS_PER_LEAD = 4
RUNS = 5
DAY_CHANGES = 10000
GROUPBY = ["channel_id", "start_at:month"]
# the ratio measures of call.tracking.call.report (and its score extension):
# {field: (numerators, denominators, factor)}; averages that are no ratio
RATIOS = {
    "missed_rate": (["missed_count"], ["missed_count", "answered_count"], 100.0),
    "targeted_rate": (["targeted_count"], ["targeted_count", "untargeted_count"], 100.0),
    "won_rate": (["won_count"], ["lead_count"], 100.0),
    "days_to_close": (["days_to_won"], ["won_count"], 1.0),
    "avg_won_deal": (["won_revenue"], ["won_count"], 1.0),
    "targeted_win_rate": (["won_targeted_count"], ["targeted_lead_count"], 100.0),
    "revenue_per_call": (["won_revenue"], ["call_count"], 1.0),
    "score": (["score_total"], ["scored_count"], 1.0),
}
PLAIN_AVERAGES = {"attribution_probability", "avg_talk_time"}

FILL_LEADS = """
WITH ctx AS (
    SELECT (SELECT id FROM crm_stage WHERE NOT is_won ORDER BY sequence, id LIMIT 1) AS open
)
INSERT INTO crm_lead (name, type, active, company_id, user_id, stage_id, expected_revenue,
                      call_quality, create_date, write_date)
SELECT 'bench lead ' || g, 'opportunity', TRUE, %(company)s, 2, ctx.open, (g %% 50) * 100.0,
       CASE WHEN g %% 5 = 0 THEN 'untargeted' WHEN g %% 5 < 4 THEN 'targeted' END,
       now(), now()
  FROM generate_series(1, %(leads)s) g, ctx
"""
# 20 channels, 3 campaigns (one per channel), 4 consecutive calls per lead, the lead's quality
# on its calls; %(step)s seconds apart from %(start)s
FILL_CALLS = """
WITH ctx AS (
    SELECT (SELECT id FROM call_tracking_provider WHERE company_id = %(company)s
             ORDER BY id LIMIT 1) AS provider,
           (SELECT array_agg(id ORDER BY id) FROM call_tracking_channel
             WHERE name->>'en_US' LIKE 'Rollup channel %%') AS channels,
           (SELECT array_agg(id ORDER BY id) FROM utm_campaign
             WHERE name LIKE 'Rollup campaign %%') AS campaigns,
           (SELECT min(id) FROM crm_lead WHERE name = 'bench lead 1') AS lead0
)
INSERT INTO call_tracking_call (provider_id, provider_call_id, company_id, caller_number,
       channel_id, campaign_id, start_at, status, duration, talk_duration, lead_id, quality,
       user_id, attribution_method, create_date, write_date)
SELECT ctx.provider, 'bench-' || (%(offset)s + g), %(company)s,
       '+38050' || lpad((((%(offset)s + g)::bigint * 7919) %% 400000)::text, 7, '0'),
       ctx.channels[1 + ((%(offset)s + g) * 31) %% array_length(ctx.channels, 1)],
       -- a campaign of the channel (each channel runs one of the 3)
       ctx.campaigns[1 + ((%(offset)s + g) * 31) %% array_length(ctx.channels, 1) %% 3],
       %(start)s::timestamp + g * %(step)s * interval '1 second',
       CASE WHEN g %% 10 < 7 THEN 'answered' WHEN g %% 10 < 9 THEN 'missed' ELSE 'busy' END,
       g %% 600 + 10,
       CASE WHEN g %% 10 < 7 THEN g %% 600 ELSE 0 END,
       CASE WHEN %(with_leads)s THEN ctx.lead0 + (g - 1) / %(per_lead)s END,
       CASE WHEN ((g - 1) / %(per_lead)s + 1) %% 5 = 0 THEN 'untargeted'
            WHEN ((g - 1) / %(per_lead)s + 1) %% 5 < 4 THEN 'targeted' END,
       2, 'static', now(), now()
  FROM generate_series(1, %(calls)s) g, ctx
"""
# a day of changes: calls of the last week re-qualified, leads won
REQUALIFY = """
UPDATE call_tracking_call SET quality = CASE quality WHEN 'targeted' THEN 'untargeted'
                                                     ELSE 'targeted' END,
                              write_date = now() AT TIME ZONE 'UTC'
 WHERE id IN (SELECT id FROM call_tracking_call
               WHERE start_at >= %(since)s AND provider_call_id LIKE 'bench-%%'
               ORDER BY id DESC LIMIT %(count)s)
"""
WIN_LEADS = """
UPDATE crm_lead SET stage_id = (SELECT id FROM crm_stage WHERE is_won ORDER BY id LIMIT 1),
                    write_date = now() AT TIME ZONE 'UTC'
 WHERE id IN (SELECT DISTINCT lead_id FROM call_tracking_call
               WHERE start_at >= %(since)s AND lead_id IS NOT NULL
               ORDER BY lead_id DESC LIMIT %(count)s)
"""


def fill(rpc, cursor, calls, echo=print):
    started = time.monotonic()
    company = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"][0]
    rpc(
        "call.tracking.channel",
        "create",
        [{"name": f"Rollup channel {index:02d}", "sequence": 100 + index} for index in range(20)],
    )
    rpc("utm.campaign", "create", [{"name": f"Rollup campaign {index}"} for index in range(3)])
    if not rpc("call.tracking.provider", "search_count", [("company_id", "=", company)]):
        rpc("call.tracking.provider", "create", {"name": "Bench provider", "kind": "generic"})
    # 1,000 days (33 months): 10,000 calls a day at 10 million
    step = 1000 * 86400 / calls
    with cursor() as cr:
        # the pivot's months are UTC ones: the company in UTC too
        cr.execute(
            "UPDATE res_partner SET tz = 'UTC' WHERE id = "
            "(SELECT partner_id FROM res_company WHERE id = %s)",
            [company],
        )
        leads = -(-calls // CALLS_PER_LEAD)
        cr.execute(FILL_LEADS, {"leads": leads, "company": company})
        cr.execute(
            FILL_CALLS,
            {
                "calls": calls,
                "offset": 0,
                "per_lead": CALLS_PER_LEAD,
                "company": company,
                "start": "2024-01-01",
                "step": step,
                "with_leads": True,
            },
        )
        cr.execute("VACUUM ANALYZE call_tracking_call")
        cr.execute("VACUUM ANALYZE crm_lead")
        cr.execute(
            "SELECT max(start_at) FROM call_tracking_call WHERE provider_call_id LIKE 'bench-%'"
        )
        last = cr.fetchone()[0]
    echo(
        f"filled {calls:,} calls and {leads:,} leads in {time.monotonic() - started:.1f} s "
        f"(until {last:%Y-%m-%d})"
    )
    return company, last


def measures(rpc):
    """Every measure of the report but the count of distinct callers."""
    fields = rpc("call.tracking.call.report", "fields_get", [], ["aggregator", "type", "store"])
    summed, averaged = [], []
    for name, field in sorted(fields.items()):
        if field.get("type") not in ("integer", "float", "monetary") or not field.get("store"):
            continue
        if field.get("aggregator") == "sum":
            summed.append(name)
        elif field.get("aggregator") == "avg":
            averaged.append(name)
    unknown = set(averaged) - set(RATIOS) - PLAIN_AVERAGES
    assert not unknown, f"averages the bench does not know: {unknown}"
    return summed, averaged


def raw_sql(cursor, company, channels, summed, averaged):
    """The same cells by raw SQL over the report's rows (UTC months)."""
    columns = [f"sum({name})" for name in summed]
    for name in averaged:
        if name in RATIOS:
            numerators, denominators, factor = RATIOS[name]
            columns.append(
                f"({' + '.join(f'sum({n})' for n in numerators)}) * {factor} / "
                f"NULLIF({' + '.join(f'sum({d})' for d in denominators)}, 0)"
            )
        else:
            columns.append(f"avg({name})")
    query = (
        f"SELECT channel_id, date_trunc('month', start_at), count(*), {', '.join(columns)} "
        "FROM call_tracking_call_report WHERE company_id = %s AND channel_id = ANY(%s) "
        "AND NOT is_spam GROUP BY 1, 2"
    )
    with cursor() as cr:
        cr.execute(query, [company, channels])
        rows = cr.fetchall()
    names = ["__count", *summed, *averaged]
    cells = {}
    for row in rows:
        values = [None if value is None else float(value) for value in row[2:]]
        cells[(row[0], row[1].strftime("%B %Y"))] = dict(zip(names, values, strict=True))
    return cells


def check(groups_rollup, groups_raw, sql_cells, summed, averaged):
    """Every cell equal; returns the number of cells x measures compared."""
    for rolled, raw in zip(groups_rollup, groups_raw, strict=False):
        assert rolled == raw, f"roll-up cell {rolled} differs from the raw view's {raw}"
    assert len(groups_rollup) == len(groups_raw), (len(groups_rollup), len(groups_raw))
    assert len(groups_rollup) == len(sql_cells), (len(groups_rollup), len(sql_cells))
    compared = 0
    for group in groups_rollup:
        channel = group["channel_id"] and group["channel_id"][0] or None
        expected = sql_cells[(channel, group["start_at:month"])]
        for name in ["__count", *summed, *averaged]:
            value = group[name]
            wanted = expected[name]
            if wanted is None:
                assert value in (None, False, 0), (name, group, expected)
            else:
                assert float(value) == wanted, (name, value, wanted, group)
            compared += 1
    return compared


def _timed(func, runs=RUNS):
    times, result = [], None
    for _run in range(runs):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return result, min(times), statistics.median(times)


def run(rpc, cursor, company, last, calls, echo=print):
    summed, averaged = measures(rpc)
    specs = [f"{name}:sum" for name in summed] + [f"{name}:avg" for name in averaged]
    cron = rpc(
        "ir.model.data",
        "check_object_reference",
        "call_tracking",
        "ir_cron_call_tracking_call_rollup",
    )[1]

    def refresh():
        rpc("ir.cron", "method_direct_trigger", [cron])

    # the bench's channels: the demo calls, which the server's crons may
    # change between a refresh and a read, are left out
    channels = rpc("call.tracking.channel", "search", [("name", "=like", "Rollup channel %")])
    domain = [("company_id", "=", company), ("channel_id", "in", channels)]

    def pivot(rollup):
        return rpc(
            "call.tracking.call.report",
            "read_group",
            domain,
            specs,
            GROUPBY,
            lazy=False,
            context={"tz": "UTC", "call_tracking_rollup": None if rollup else False},
        )

    def path(rollup):
        freshness = rpc("call.tracking.call.report", "get_rollup_freshness")
        return freshness["note"]

    _none, build_best, _median = _timed(refresh, runs=1)
    echo(f"roll-up full build over {calls:,} calls: {build_best:.1f} s")
    with cursor() as cr:
        cr.execute("SELECT count(*) FROM call_tracking_call_rollup")
        rows = cr.fetchone()[0]
    echo(f"roll-up rows: {rows:,} ({calls / max(rows, 1):.0f} calls per row)")
    pivot(True), pivot(False)  # warm-up
    raw_groups, raw_best, raw_median = _timed(lambda: pivot(False))
    rollup_groups, rollup_best, rollup_median = _timed(lambda: pivot(True))
    cells = len(rollup_groups)
    echo(
        f"call analysis, channel x month, {cells} cells, {len(specs)} measures "
        f"(all but Unique Callers), best / median of {RUNS}:"
    )
    echo(
        f"  {'raw view (ORM over JSON-RPC)':<34}: {raw_best * 1000:8.0f} ms / "
        f"{raw_median * 1000:8.0f} ms"
    )
    echo(
        f"  {'roll-up (ORM over JSON-RPC)':<34}: {rollup_best * 1000:8.0f} ms / "
        f"{rollup_median * 1000:8.0f} ms   raw/roll-up {raw_best / rollup_best:.1f}x"
    )
    compared = check(
        rollup_groups,
        raw_groups,
        raw_sql(cursor, company, channels, summed, averaged),
        summed,
        averaged,
    )
    echo(f"  every cell equal to the raw view and to raw SQL: {compared:,} values")

    # a day of 10,000 new or changed calls
    new_calls = DAY_CHANGES * 7 // 10
    with cursor() as cr:
        cr.execute(
            FILL_CALLS,
            {
                "calls": new_calls,
                "offset": calls,
                "per_lead": CALLS_PER_LEAD,
                "company": company,
                "start": (
                    last.replace(hour=0, minute=0, second=0, microsecond=0)
                    + datetime.timedelta(days=1)
                ).isoformat(),
                "step": 86400 / new_calls,
                "with_leads": False,
            },
        )
        since = (last - datetime.timedelta(days=7)).isoformat()
        cr.execute(REQUALIFY, {"since": since, "count": DAY_CHANGES - new_calls})
        cr.execute(WIN_LEADS, {"since": since, "count": 500})
    _none, day_best, _median = _timed(refresh, runs=1)
    echo(
        f"roll-up refresh after a day of {new_calls:,} new and {DAY_CHANGES - new_calls:,} "
        f"re-qualified calls and 500 leads won: {day_best:.2f} s"
    )
    echo(f"  freshness note: {path(True)}")
    raw_groups = pivot(False)
    rollup_groups = pivot(True)
    compared = check(
        rollup_groups,
        raw_groups,
        raw_sql(cursor, company, channels, summed, averaged),
        summed,
        averaged,
    )
    echo(f"  after the refresh, every cell equal again: {compared:,} values")
    return {"raw": raw_best, "rollup": rollup_best, "cells": cells, "refresh": day_best}


@pytest.mark.bench
def test_bench_rollup(odoo_server_factory):
    server = odoo_server_factory(workers=1, fresh_db=True)
    cursor = functools.partial(devlib.pg_cursor, server.db)
    company, last = fill(server.rpc, cursor, CALLS)
    figures = run(server.rpc, cursor, company, last, CALLS)
    assert figures["cells"]
