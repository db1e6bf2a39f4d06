"""Benchmark of the Call Analysis roll-up at 10,000,000 calls.

A scratch database (call_tracking installed) is filled with
``CT_ROLLUP_CALLS`` calls (default 10,000,000: three years at about 10,000 a
day; a quick check: ``CT_ROLLUP_CALLS=200000``) and a lead for every 4 calls,
by ``INSERT ... SELECT generate_series`` as PostgreSQL's "Populating a
Database" advises (indexes built after, foreign-key triggers off). The
dimensions vary independently (20 channels of 3 campaigns, 10 salespeople,
3 statuses, the leads' 3 qualities), so that the daily roll-up is about as
large as real data makes it. The roll-up is built by its cron's steps, then
the Call Analysis by channel x month, with every measure the roll-up covers
(all but Unique Callers, a count of distinct callers that no sum of days or
months gives: a pivot asking for it reads the raw view), is read as the web
client reads it (``read_group`` over JSON-RPC) from the raw view and from
the roll-up, best and median of 5 each, side by side; then the whole pivot
as the web client loads it (four grouped reads).

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
# the roll-up's tables, daily then monthly (call_tracking_call_report_rollup.py)
ROLLUP_TABLES = (
    "call_tracking_call_rollup",
    "call_tracking_call_rollup_month",
    "call_tracking_call_rollup_month_channel",
)
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
    SELECT (SELECT id FROM crm_stage WHERE NOT is_won ORDER BY sequence, id LIMIT 1) AS open,
           (SELECT id FROM crm_stage WHERE is_won ORDER BY sequence, id LIMIT 1) AS won
)
INSERT INTO crm_lead (name, type, active, company_id, user_id, stage_id, expected_revenue,
                      call_quality, date_closed, create_date, write_date)
SELECT 'bench lead ' || g, 'opportunity', TRUE, %(company)s, 2,
       -- one lead in 7 won
       CASE WHEN g %% 7 = 0 THEN ctx.won ELSE ctx.open END, (g %% 50) * 100.0,
       CASE WHEN g %% 5 = 0 THEN 'untargeted' WHEN g %% 5 < 4 THEN 'targeted' END,
       CASE WHEN g %% 7 = 0 THEN now() AT TIME ZONE 'UTC' END, now(), now()
  FROM generate_series(1, %(leads)s) g, ctx
"""
# 20 channels with 3 campaigns each, 10 salespeople, 3 statuses drawn
# independently from a hash of the call's number (so that a day holds most
# of their 5,400 combinations with the leads' 3 qualities: a realistic
# roll-up, not one row per channel); 4 consecutive calls per lead, the
# lead's quality on its calls; %(step)s seconds apart from %(start)s
FILL_CALLS = """
WITH ctx AS (
    SELECT (SELECT id FROM call_tracking_provider WHERE company_id = %(company)s
             ORDER BY id LIMIT 1) AS provider,
           (SELECT array_agg(id ORDER BY id) FROM call_tracking_channel
             WHERE name->>'en_US' LIKE 'Rollup channel %%') AS channels,
           (SELECT array_agg(id ORDER BY id) FROM utm_campaign
             WHERE name LIKE 'Rollup campaign %%') AS campaigns,
           (SELECT array_agg(id ORDER BY id) FROM res_users
             WHERE login LIKE 'rollup-bench-%%') AS users,
           (SELECT min(id) FROM crm_lead WHERE name = 'bench lead 1') AS lead0
), n AS (
    SELECT g, (%(offset)s + g)::bigint AS n,
           ((%(offset)s + g)::bigint * 2654435761) %% 4294967296 AS h
      FROM generate_series(1, %(calls)s) g
)
INSERT INTO call_tracking_call (provider_id, provider_call_id, company_id, caller_number,
       channel_id, campaign_id, start_at, status, duration, talk_duration, lead_id, quality,
       user_id, attribution_method, create_date, write_date)
SELECT ctx.provider, 'bench-' || n.n, %(company)s,
       '+38050' || lpad(((n.n * 7919) %% 400000)::text, 7, '0'),
       ctx.channels[1 + n.h %% 20],
       ctx.campaigns[1 + (n.h %% 20) * 3 + (n.h / 20) %% 3],
       %(start)s::timestamp + n.g * %(step)s * interval '1 second',
       CASE WHEN (n.h / 60) %% 10 < 7 THEN 'answered'
            WHEN (n.h / 60) %% 10 < 9 THEN 'missed' ELSE 'busy' END,
       n.n %% 600 + 10,
       CASE WHEN (n.h / 60) %% 10 < 7 THEN n.n %% 600 ELSE 0 END,
       CASE WHEN %(with_leads)s THEN ctx.lead0 + (n.n - 1) / %(per_lead)s END,
       CASE WHEN ((n.n - 1) / %(per_lead)s + 1) %% 5 = 0 THEN 'untargeted'
            WHEN ((n.n - 1) / %(per_lead)s + 1) %% 5 < 4 THEN 'targeted' END,
       ctx.users[1 + (n.h / 600) %% 10], 'static', now(), now()
  FROM n, ctx
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
    rpc("utm.campaign", "create", [{"name": f"Rollup campaign {index:02d}"} for index in range(60)])
    rpc(
        "res.users",
        "create",
        [{"name": f"Rollup salesperson {index}", "login": f"rollup-bench-{index}"}
         for index in range(10)],
    )  # fmt: skip
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
        # a bulk load as PostgreSQL's "Populating a Database" advises: the
        # plain indexes dropped and built again after, the foreign keys'
        # per-row triggers off (the rows are consistent by construction)
        dropped = _drop_indexes(cr, ["call_tracking_call", "crm_lead"])
        cr.execute("SET session_replication_role = replica")
        cr.execute(FILL_LEADS, {"leads": leads, "company": company})
        chunk = 1000000
        for offset in range(0, calls, chunk):
            cr.execute(
                FILL_CALLS,
                {
                    "calls": min(chunk, calls - offset),
                    "offset": offset,
                    "per_lead": CALLS_PER_LEAD,
                    "company": company,
                    "start": (
                        datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=offset * step)
                    ).isoformat(),
                    "step": step,
                    "with_leads": True,
                },
            )
            echo(f"  {offset + min(chunk, calls - offset):,} calls inserted")
        cr.execute("RESET session_replication_role")
        cr.execute("SET maintenance_work_mem = '512MB'")
        for definition in dropped:
            cr.execute(definition)
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


def _drop_indexes(cr, tables):
    """Drop the indexes of ``tables`` that back no constraint; returns their
    definitions, to build them again after the load."""
    cr.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
          FROM pg_index i
         WHERE i.indrelid = ANY(%s::regclass[])
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [tables],
    )
    indexes = cr.fetchall()
    for name, _definition in indexes:
        cr.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in indexes]


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
        # the cron's steps (a batch of days each, one transaction each) until
        # nothing is left, as the cron runner does while steps report progress
        while True:
            rpc("ir.cron", "method_direct_trigger", [cron])
            with cursor() as cr:
                cr.execute(
                    "SELECT (SELECT count(*) FROM call_tracking_call_rollup_queue), "
                    "refreshed_at IS NOT NULL FROM call_tracking_call_rollup_state"
                )
                queued, complete = cr.fetchone()
            if not queued and complete:
                return

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
        for table in ROLLUP_TABLES:
            cr.execute(f"SELECT count(*) FROM {table}")
            rows = cr.fetchone()[0]
            echo(f"  {table}: {rows:,} rows ({calls / max(rows, 1):,.1f} calls per row)")
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

    # the whole pivot as the web client loads it: the grand total, the row
    # totals, the column totals and the cells (four grouped reads)
    def pivot_load():
        for groupby in ([], GROUPBY[:1], GROUPBY[1:], GROUPBY):
            rpc(
                "call.tracking.call.report",
                "read_group",
                domain,
                specs,
                groupby,
                lazy=False,
                context={"tz": "UTC"},
            )

    _none, load_best, load_median = _timed(pivot_load)
    echo(
        f"  {'whole pivot, 4 grouped reads':<34}: {load_best * 1000:8.0f} ms / "
        f"{load_median * 1000:8.0f} ms   (roll-up: totals, rows, columns, cells)"
    )

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
    return {
        "raw": raw_best,
        "rollup": rollup_best,
        "pivot": load_best,
        "cells": cells,
        "refresh": day_best,
    }


@pytest.mark.bench
def test_bench_rollup(odoo_server_factory, bench_figure):
    server = odoo_server_factory(workers=1, fresh_db=True)
    cursor = functools.partial(devlib.pg_cursor, server.db)
    company, last = fill(server.rpc, cursor, CALLS)
    figures = run(server.rpc, cursor, company, last, CALLS)
    assert figures["cells"]
    bench_figure(
        f"Call Analysis channel x month over {CALLS:,} calls, {figures['cells']} cells "
        f"equal to raw SQL: roll-up {figures['rollup'] * 1000:.0f} ms (whole pivot "
        f"{figures['pivot'] * 1000:.0f} ms), raw view {figures['raw'] * 1000:.0f} ms "
        f"(best of {RUNS}); a day of changes refreshed in "
        f"{figures['refresh']:.2f} s"
    )
