"""Webhook throughput: calls per second (start + end pairs, each creating a
call and a lead) against a multi-worker server, beside bare ``crm.lead``
creation over JSON-RPC measured in the same run.

    make bench                      # with the other benchmarks
    pytest -m bench tests/bench_webhook.py -s
    python tests/bench_webhook.py --url http://127.0.0.1:8069 --db DB [--log odoo.log]

Prints figures; never asserts timings.
"""

import argparse
import os
import random
import re
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from webhook_helpers import call_event, post_event, provider_token

CALLS = 120
CONCURRENCY = 4
ROUNDS = 4


def _webhook_calls(base_url, token, calls, concurrency):
    run = uuid.uuid4().hex[:8]
    # callers new to the database on every run (a repeat caller's call reuses
    # the open lead instead of creating one)
    prefix = random.randrange(100, 1000)

    def one_call(index):
        session = requests.Session()
        call_id = f"bench-{run}-{index}"
        caller = f"+38067{prefix}{index:04d}"
        for event in ("call_start", "call_end"):
            resp = post_event(session, base_url, token,
                              call_event(event, call_id, caller, "+380449990002"))  # fmt: skip
            resp.raise_for_status()

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one_call, range(calls)))
    return time.perf_counter() - start


def _rpc_leads(rpc, leads, concurrency):
    run = uuid.uuid4().hex[:8]

    def one_lead(index):
        values = {"name": f"bench {run} {index}", "phone": "+38067" + str(2000000 + index)}
        rpc("crm.lead", "create", [values])

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one_lead, range(leads)))
    return time.perf_counter() - start


# Odoo's request log line ends with: query count, query time, other time
REQUEST_LOG = re.compile(r'"POST /call_tracking/webhook/\S+ HTTP/[\d.]+" 200 - (\d+) ')


def _query_counts(log_path, offset):
    """Queries per webhook request, from the server log written after offset:
    {query count: number of requests}."""
    with open(log_path, "rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    return Counter(int(count) for count in REQUEST_LOG.findall(text))


def run(base_url, rpc, calls=CALLS, concurrency=CONCURRENCY, log_path=None, rounds=ROUNDS):
    """Both sides in alternating rounds (webhook then RPC, then RPC then
    webhook, ...), so that a change in the machine's load during the run
    weighs on both alike; the rates are of the summed times."""
    _provider_id, token = provider_token(rpc)
    # warm-up: registry, caches and assets of every worker
    _webhook_calls(base_url, token, 8, concurrency)
    _rpc_leads(rpc, 8, concurrency)
    offset = os.path.getsize(log_path) if log_path else 0
    per_round = max(calls // rounds, 1)
    calls = per_round * rounds
    webhook_s = rpc_s = 0.0
    round_ratios = []
    for index in range(rounds):
        sides = [
            lambda: _webhook_calls(base_url, token, per_round, concurrency),
            lambda: _rpc_leads(rpc, per_round, concurrency),
        ]
        if index % 2:
            sides.reverse()
        first, second = (side() for side in sides)
        hook, lead = (first, second) if index % 2 == 0 else (second, first)
        webhook_s += hook
        rpc_s += lead
        round_ratios.append(lead / hook)
    webhook_rate, rpc_rate = calls / webhook_s, calls / rpc_s
    print(
        f"\nwebhook: {calls} calls (start+end, call + lead each) in {webhook_s:.2f}s "
        f"= {webhook_rate:.1f} calls/s ({2 * calls / webhook_s:.1f} requests/s), "
        f"{concurrency} clients"
        f"\nbare crm.lead create over JSON-RPC: {calls} in {rpc_s:.2f}s = {rpc_rate:.1f} leads/s"
        f"\n{rounds} alternating rounds of {per_round}, ratio per round: "
        + ", ".join(f"{ratio:.2f}" for ratio in round_ratios)
        + f"\nratio webhook calls/s : RPC leads/s = {webhook_rate / rpc_rate:.2f}"
        # the machine's load: figures of a busy machine are not comparable
        f"\nload average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    if log_path:
        counts = _query_counts(log_path, offset)
        shown = ", ".join(f"{queries} x{n}" for queries, n in sorted(counts.most_common(4)))
        print(f"queries per webhook request (count x requests): {shown}", flush=True)
    return webhook_rate, rpc_rate


@pytest.mark.bench
def test_bench_webhook(odoo_server, bench_figure):
    webhook_rate, rpc_rate = run(odoo_server.url, odoo_server.rpc, log_path=odoo_server.log_path)
    bench_figure(
        f"webhook {webhook_rate:.1f} calls/s ÷ JSON-RPC crm.lead {rpc_rate:.1f}/s = "
        f"{webhook_rate / rpc_rate:.2f} (2 workers, over HTTP)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--log", help="the server's log file: print queries per request")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import devlib

    rpc = devlib.JsonRpc(args.url, args.db)
    run(args.url, rpc, args.calls, args.concurrency, log_path=args.log)


if __name__ == "__main__":
    main()
