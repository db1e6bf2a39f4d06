"""Sizing figures for the deployment guide (docs/admin/deployment-replica.rst):
requests per second that **one** Odoo worker serves on each public route,
and Call Analysis reports per second served from a hot standby.

* An Odoo server with ``workers=1`` (the conftest's ``odoo_server_factory``)
  and two clients (one request in flight while the client prepares the next,
  so the worker is never idle and never queues more than one):
  ``POST /call_tracking/number`` for a new visitor (a paid click, a lease of
  the benchmark pool of ``bench_number_endpoint.py``), for a returning
  visitor (its key, a ping extending the lease), and the webhook pair
  ``call_start`` + ``call_end`` of a new caller (a call and a lead).
* A streaming replica made as ``tests/test_replica.py`` makes it
  (``pg_basebackup -R`` on a slot) and a second server with ``workers=1``,
  ``--db_replica_host``/``--db_replica_port``: the Call Analysis pivot by
  channel x month with every measure of the default pivot
  (``web_read_group``, ``@api.readonly``) over the demo data, one client,
  checked in the replica's statement log.

Each measurement is bounded (``BENCH_SIZING_REQUESTS`` requests or
``BENCH_SIZING_SECONDS`` seconds, whichever comes first). Prints figures;
never asserts timings.

    pytest -m bench tests/bench_sizing.py -s
"""

import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import devlib
import pytest
import requests
from bench_number_endpoint import Rpc, setup_bench_pool
from replica_lib import Replica, pg_bin, primary_log_path, web_session
from visitor_client import BROWSER_UA, SourceAddressAdapter
from webhook_helpers import call_event, post_event, provider_token

REQUESTS = int(os.environ.get("BENCH_SIZING_REQUESTS", "300"))
SECONDS = float(os.environ.get("BENCH_SIZING_SECONDS", "15"))
CLIENTS = 2
# the default pivot's measures and the other counts and ratios of the view
REPORT_MEASURES = [
    "call_count:sum",
    "caller_key:count_distinct",
    "answered_count:sum",
    "missed_rate:avg",
    "targeted_count:sum",
    "targeted_rate:avg",
    "lead_count:sum",
    "won_count:sum",
    "won_revenue:sum",
    "won_rate:avg",
    "talk_duration:sum",
]
_sources = iter(range(10**9))
_sources_lock = threading.Lock()


def _source():
    """A loopback address of its own /24 per visitor (the lease caps per
    address and network are checked, never reached)."""
    with _sources_lock:
        n = next(_sources) % (254 * 256)
    return f"127.{n // 256 + 1}.{n % 256}.1"


def _visitor_session(source=None):
    session = requests.Session()
    session.headers["User-Agent"] = BROWSER_UA
    session.mount("http://", SourceAddressAdapter(source or _source()))
    return session


def measure(label, func, count=REQUESTS, seconds=SECONDS, clients=CLIENTS, per_call=1):
    """Run ``func(index)`` up to ``count`` times (or ``seconds``) with
    ``clients`` threads; print and return the rate (requests per second)."""
    deadline = time.monotonic() + seconds
    latencies = []
    lock = threading.Lock()

    def one(index):
        if time.monotonic() > deadline:
            return
        start = time.perf_counter()
        func(index)
        with lock:
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - started
    done = len(latencies)
    rate = per_call * done / elapsed
    print(
        f"{label:<44} {done:>5} in {elapsed:6.2f} s = {rate:7.1f} requests/s"
        f"   p50 {1000 * statistics.median(latencies):6.1f} ms"
        f"   ({clients} clients)",
        flush=True,
    )
    return rate


def _number(url, body, source=None):
    with _visitor_session(source) as session:
        resp = session.post(f"{url}/call_tracking/number", json=body, timeout=60)
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()


def _new_visitor_body(utm):
    return {
        "url": f"https://shop.example/landing?{utm}&gclid={uuid.uuid4().hex}",
        "referrer": "https://www.google.com/",
        "website_id": 1,
    }


def public_routes(server):
    """Requests per second of one worker on the public routes."""
    rpc = Rpc(server.url, server.db, "admin", "admin")
    # a lease for every new visitor of the run (the short hold frees them later)
    utm = setup_bench_pool(rpc, REQUESTS + 20)
    _provider_id, token = provider_token(server.rpc)
    url = server.url
    # warm-up: the worker's registry, caches and prepared paths
    for _index in range(5):
        _number(url, _new_visitor_body(utm))
    figures = {}
    modes = []

    def new_visitor(_index):
        answer = _number(url, _new_visitor_body(utm))
        modes.append(answer["mode"])

    figures["number, new visitor"] = measure("POST /call_tracking/number new visitor", new_visitor)
    # returning visitors: keys (and their addresses) from one first visit each
    returning = []
    for _index in range(min(REQUESTS, 60)):
        source = _source()
        returning.append((_number(url, _new_visitor_body(utm), source)["visitor"], source))

    def returning_visitor(index):
        key, source = returning[index % len(returning)]
        body = {"visitor": key, "url": "https://shop.example/page", "website_id": 1}
        assert _number(url, body, source)["visitor"] == key

    figures["number, returning visitor"] = measure(
        "POST /call_tracking/number returning visitor", returning_visitor
    )
    run = uuid.uuid4().hex[:6]

    def webhook_pair(index):
        call_id = f"sizing-{run}-{index}"
        caller = f"+38067{int(run, 16) % 1000:03d}{index:04d}"
        with requests.Session() as session:
            for event in ("call_start", "call_end"):
                payload = call_event(event, call_id, caller, "+380449990002")
                resp = post_event(session, url, token, payload)
                assert resp.status_code == 200, resp.text[:300]

    pairs = measure(
        "webhook call_start + call_end (new caller)",
        webhook_pair,
        count=max(REQUESTS // 2, 1),
        per_call=2,
    )
    figures["webhook requests"] = pairs
    print(
        f"  = {pairs / 2:.1f} calls/s (each a call and a lead); new visitors' answers: "
        + ", ".join(f"{m} {modes.count(m)}" for m in sorted(set(modes))),
        flush=True,
    )
    return figures


def _pivot_payload(marker):
    return {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {
            "model": "call.tracking.call.report",
            "method": "web_read_group",
            "args": [],
            "kwargs": {
                "domain": [("caller_number", "!=", marker)],
                "fields": REPORT_MEASURES,
                "groupby": ["channel_id", "start_at:month"],
                "lazy": False,
            },
        },
    }


def replica_reports(server, replica):
    """Call Analysis pivots per second served by the standby (one client)."""
    session = web_session(server)
    endpoint = f"{server.url}/web/dataset/call_kw/call.tracking.call.report/web_read_group"
    primary_log = primary_log_path()
    primary_start = primary_log.stat().st_size
    markers = []
    cells = []

    def pivot(index):
        marker = f"sizing-marker-{index}-{uuid.uuid4().hex[:8]}"
        resp = session.post(endpoint, json=_pivot_payload(marker), timeout=120)
        resp.raise_for_status()
        body = resp.json()
        assert "error" not in body, body.get("error")
        markers.append(marker)
        cells.append(len(body["result"]["groups"]))

    pivot(-1)  # warm-up
    rate = measure(
        "Call Analysis pivot channel x month (replica)", pivot, count=REQUESTS, clients=1
    )
    replica_log = replica.log.read_text(errors="replace")
    primary_text = primary_log.read_bytes()[primary_start:].decode(errors="replace")
    on_replica = sum(1 for m in markers if m in replica_log)
    on_primary = sum(1 for m in markers if m in primary_text)
    with devlib.pg_cursor(server.db) as cr:
        cr.execute("SELECT count(*) FROM call_tracking_call")
        calls = cr.fetchone()[0]
    print(
        f"  {cells[-1]} cells over {calls} calls; {on_replica} of {len(markers)} pivots seen "
        f"in the replica's log, {on_primary} in the primary's",
        flush=True,
    )
    assert on_replica == len(markers) and not on_primary, "the pivots ran on the replica"
    return rate


def _load():
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


@pytest.mark.bench
def test_bench_sizing_routes(odoo_server_factory):
    print(
        f"\nsizing: one worker, {os.cpu_count()} cores, load average {_load()}; at most "
        f"{REQUESTS} requests or {SECONDS:.0f} s per figure",
        flush=True,
    )
    server = odoo_server_factory(workers=1)
    public_routes(server)
    server.stop()
    print(f"load average after: {_load()}", flush=True)


@pytest.mark.bench
def test_bench_sizing_replica(odoo_db, odoo_server_factory):
    params = devlib.pg_params()
    host = params.get("host", "")
    if not host.startswith("/") or pg_bin() is None or not primary_log_path().exists():
        pytest.skip("needs the private PostgreSQL cluster and its server tools")
    print(f"\nsizing from a replica: one worker, load average {_load()}", flush=True)
    with devlib.pg_cursor() as cr:
        cr.execute(f"ALTER DATABASE \"{odoo_db}\" SET log_statement = 'all'")
    # a hot standby opens for reads once no transaction of the primary has
    # more than 64 subtransactions open (a long savepoint-heavy job on the
    # same cluster delays it)
    replica = Replica(host, params.get("port", 5432), odoo_db)
    try:
        replica.start()
        replica.wait_caught_up()
        reader = odoo_server_factory(
            f"--db_replica_host={replica.sock}", f"--db_replica_port={replica.port}", workers=1
        )
        replica_reports(reader, replica)
        reader.stop()
    finally:
        with devlib.pg_cursor() as cr:
            cr.execute(f'ALTER DATABASE "{odoo_db}" RESET log_statement')
        replica.cleanup()
    print(f"load average after: {_load()}", flush=True)
