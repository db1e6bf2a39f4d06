"""Benchmark of POST /call_tracking/number against Odoo's cheapest route.

Prints requests per second and p50/p99 latency for new visitors (no key)
and returning visitors (a known key), at 1, 10 and 50 concurrent clients,
the same for GET /web/health, and the ratio between the two, over four
alternating rounds (the baseline last, then first, ...) so that a change of
the machine's load weighs on both sides alike. Timings are
printed, never asserted; the only assertions are correctness (HTTP 200, the
seven keys of the answer).

    make bench                                   # the conftest live server
    python tests/bench_number_endpoint.py --url http://127.0.0.1:8069 --db mydb

Every check of the endpoint is on: requests carry a desktop browser's user
agent (HTTP libraries are automated clients and get no lease) and each
request, the /web/health baseline's too, comes from a loopback source address
of its own (127.a.b.1, a /24 network each), so the caps of live leases per
client address and network are checked but never reached.

New visitors arrive as ``utm_source=ctbench&utm_medium=cpc``: with admin
JSON-RPC access (``--login``/``--password``) the benchmark creates (once) a
dynamic "Benchmark" channel with a pool big enough for every new visitor, so
it measures the real leasing path; without it (``--no-setup``) they arrive as
Google Ads visitors of the demo data and mostly get the default number once
its pool is full. The answer modes are printed either way.
"""

import argparse
import ipaddress
import itertools
import socket
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests
from visitor_client import BROWSER_UA, SourceAddressAdapter

try:
    import pytest
except ImportError:  # standalone run without pytest
    pytest = None

CONCURRENCY = (1, 10, 50)
# measurements per route and concurrency, alternating which route goes first
ROUNDS = 4
ANSWER_KEYS = {"number", "display", "href", "mode", "visitor", "expires_in", "channel"}
BENCH_CHANNEL = "Benchmark (tests/bench_number_endpoint.py)"
# E.164 numbers of the benchmark pool: +380 44 700 0000 ... (Kyiv range)
BENCH_PREFIX = "+38044700"
TIMEOUT = 30
RETRIES = 3
_sources = itertools.count()


def next_source():
    """A loopback address in a /24 network of its own (65,024 of them)."""
    n = next(_sources) % (254 * 256)
    return f"127.{n // 256 + 1}.{n % 256}.1"


def requests_for(clients, base=40, per_client=10, cap=500):
    """Bounded request count of one measurement."""
    return min(cap, max(base, per_client * clients))


def _assert_loopback(url):
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise SystemExit(f"cannot resolve {host!r}: {exc}") from exc
    if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise SystemExit(f"{url} is not a loopback address: the benchmark only runs locally")


class Rpc:
    """Minimal admin JSON-RPC client (execute_kw)."""

    def __init__(self, url, db, login, password):
        self.url, self.db, self.login, self.password = url.rstrip("/"), db, login, password
        self.uid = self._call("common", "login", db, login, password)
        if not self.uid:
            raise RuntimeError(f"login {login!r} refused on {db}")

    def _call(self, service, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": 1,
        }
        resp = requests.post(f"{self.url}/jsonrpc", json=payload, timeout=120)
        resp.raise_for_status()
        data = resp.json()
        if data.get("error"):
            raise RuntimeError(data["error"].get("data", {}).get("message") or data["error"])
        return data["result"]

    def __call__(self, model, method, *args, **kwargs):
        return self._call(
            "object",
            "execute_kw",
            self.db,
            self.uid,
            self.password,
            model,
            method,
            list(args),
            kwargs,
        )


def setup_bench_pool(rpc, size):
    """A dynamic channel recognising utm_source=ctbench with `size` numbers.
    Idempotent: reuses the pool of an earlier run, grown until `size`
    numbers are free."""
    channels = rpc(
        "call.tracking.channel",
        "search_read",
        [("name", "=", BENCH_CHANNEL)],
        fields=["pool_id"],
        context={"active_test": False},
    )
    if channels and channels[0]["pool_id"]:
        pool_id = channels[0]["pool_id"][0]
        rpc("call.tracking.channel", "write", [channels[0]["id"]], {"active": True})
        rpc("call.tracking.pool", "write", [pool_id], {"hold_minutes": 5})
    else:
        # a short hold: the leases of one run are free again for the next
        pool_id = rpc("call.tracking.pool", "create", {"name": BENCH_CHANNEL, "hold_minutes": 5})
        rpc(
            "call.tracking.channel",
            "create",
            {
                "name": BENCH_CHANNEL,
                "tracking_type": "dynamic",
                "pool_id": pool_id,
                "sequence": 0,
                "rule_ids": [(0, 0, {"utm_source": "ctbench", "utm_medium": "cpc"})],
            },
        )
    # numbers free now (leases of earlier runs last the hold time)
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    free_count = rpc(
        "call.tracking.number",
        "search_count",
        [("pool_id", "=", pool_id), "|", ("lease_expires_at", "=", False),
         ("lease_expires_at", "<", now)],
    )  # fmt: skip
    if free_count < size:
        taken = {
            r["number"]
            for r in rpc(
                "call.tracking.number",
                "search_read",
                [("number", "=like", BENCH_PREFIX + "%")],
                fields=["number"],
                context={"active_test": False},
            )
        }
        candidates = (f"{BENCH_PREFIX}{i:04d}" for i in range(10000))
        new = list(itertools.islice((n for n in candidates if n not in taken), size - free_count))
        rpc("call.tracking.number", "create", [{"number": n, "pool_id": pool_id} for n in new])
    return "utm_source=ctbench&utm_medium=cpc"


class Bench:
    def __init__(self, url, utm, budget=20.0):
        self.url = url.rstrip("/")
        self.utm = utm
        self.budget = budget  # seconds per measurement at most
        self.local = threading.local()
        self.lock = threading.Lock()
        self.resets = 0

    def _session(self):
        # One session and connection per request (Odoo's prefork workers drop
        # idle keep-alive connections after 2 s), from its own source address
        session = requests.Session()
        session.headers["Connection"] = "close"
        session.headers["User-Agent"] = BROWSER_UA
        session.mount("http://", SourceAddressAdapter(next_source()))
        return session

    def _send(self, method, path, **kwargs):
        """One request; a connection the server reset is tried again (and
        counted): with more clients than Odoo's listen backlog (8 per
        worker) and no reverse proxy in front, the kernel drops handshakes,
        the client's retransmission comes after the worker's 2 s socket
        timeout and the worker resets the connection. The latency measured
        includes the retries, as a browser would live it."""
        for attempt in range(RETRIES + 1):
            try:
                with self._session() as session:
                    return getattr(session, method)(f"{self.url}{path}", timeout=TIMEOUT, **kwargs)
            except requests.ConnectionError:
                if attempt == RETRIES:
                    raise
                with self.lock:
                    self.resets += 1
        raise AssertionError("unreachable")

    def number(self, visitor=None):
        body = {
            "url": f"https://shop.example/landing?{self.utm}&gclid={uuid.uuid4().hex}",
            "referrer": "https://www.google.com/",
            "ga_client_id": "1234567890.1700000000",
            "website_id": 1,
        }
        if visitor:
            body = {"visitor": visitor, "url": "https://shop.example/page", "website_id": 1}
        resp = self._send("post", "/call_tracking/number", json=body)
        assert resp.status_code == 200, f"HTTP {resp.status_code}: {resp.text[:300]}"
        answer = resp.json()
        missing = ANSWER_KEYS - set(answer)
        assert not missing, f"answer without {sorted(missing)}: {answer}"
        if visitor:
            assert answer["visitor"] == visitor, "a returning visitor keeps their key"
        return answer

    def health(self):
        resp = self._send("get", "/web/health")
        assert resp.status_code == 200, f"HTTP {resp.status_code}"

    def measure(self, func, args_list, clients):
        """Run func(*args) for each args with `clients` threads; returns
        (latencies, answers, elapsed)."""
        deadline = time.monotonic() + self.budget
        latencies, answers = [], []
        lock = threading.Lock()

        def one(args):
            if time.monotonic() > deadline:
                return
            start = time.perf_counter()
            answer = func(*args)
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                answers.append(answer)

        self.resets = 0
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            for future in [pool.submit(one, args) for args in args_list]:
                future.result()
        self.last_resets = self.resets
        return latencies, answers, time.perf_counter() - started


def _percentile(values, pct):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _row(label, clients, latencies, elapsed, extra=""):
    rps = len(latencies) / elapsed if elapsed else float("nan")
    return {
        "label": label,
        "clients": clients,
        "n": len(latencies),
        "rps": rps,
        "p50": _percentile(latencies, 50) * 1000,
        "p99": _percentile(latencies, 99) * 1000,
        "mean": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        "extra": extra,
    }


def _modes(answers):
    counts = {}
    for answer in answers:
        counts[answer["mode"]] = counts.get(answer["mode"], 0) + 1
    return " ".join(f"{mode}={count}" for mode, count in sorted(counts.items()))


def _measure_round(bench, clients, count, totals, health_first):
    """One round at ``clients``: new visitors, then the same visitors
    returning, and the /web/health baseline before or after them; adds each
    kind's latencies, answers, elapsed time and resets to ``totals``."""

    def add(kind, lat, answers, elapsed):
        total = totals.setdefault(kind, {"lat": [], "answers": [], "elapsed": 0.0, "resets": 0})
        total["lat"] += lat
        total["answers"] += answers
        total["elapsed"] += elapsed
        total["resets"] += bench.last_resets

    def health():
        lat, _answers, elapsed = bench.measure(bench.health, [()] * count, clients)
        add("health", lat, [], elapsed)

    if health_first:
        health()
    lat, answers, elapsed = bench.measure(bench.number, [()] * count, clients)
    add("new", lat, answers, elapsed)
    # returning visitors: keys from the new ones, each asked again
    keys = [a["visitor"] for a in answers] or [bench.number()["visitor"]]
    args = [(keys[i % len(keys)],) for i in range(count)]
    lat, answers, elapsed = bench.measure(bench.number, args, clients)
    add("returning", lat, answers, elapsed)
    if not health_first:
        health()


def run(url, utm, budget=20.0, out=print, rounds=ROUNDS):
    _assert_loopback(url)
    bench = Bench(url, utm, budget)
    # warm-up: routing maps, registries and caches of every worker
    for _ in range(6):
        bench.health()
        bench.number()
    labels = {
        "new": "number, new visitor",
        "returning": "number, returning visitor",
        "health": "/web/health",
    }
    rows = {}
    for clients in CONCURRENCY:
        count = requests_for(clients)
        # alternating rounds (baseline last, then first, ...): a change of
        # the machine's load during the measurement weighs on both sides
        totals = {}
        for index in range(rounds):
            _measure_round(bench, clients, count, totals, health_first=index % 2 == 1)
        for kind, total in totals.items():
            resets = total["resets"]
            extra = f" (connections reset and retried: {resets})" if resets else ""
            if kind != "health":
                extra = _modes(total["answers"]) + extra
            rows[(kind, clients)] = _row(
                labels[kind], clients, total["lat"], total["elapsed"], extra.strip()
            )

    out(f"\nPOST /call_tracking/number vs GET /web/health on {url}")
    out(
        f"new visitors arrive with ?{utm}; {rounds} alternating rounds, at most "
        f"{budget:.0f} s per measurement\n"
    )
    header = f"{'route':<27}{'clients':>8}{'n':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  modes"
    out(header)
    out("-" * len(header))
    for clients in CONCURRENCY:
        for kind in ("new", "returning", "health"):
            r = rows[(kind, clients)]
            out(
                f"{r['label']:<27}{r['clients']:>8}{r['n']:>6}{r['rps']:>9.1f}"
                f"{r['p50']:>9.1f}{r['p99']:>9.1f}  {r['extra']}"
            )
    out("\nratio /web/health ÷ /call_tracking/number (throughput; p50 latency number ÷ health)")
    for clients in CONCURRENCY:
        health = rows[("health", clients)]
        for kind in ("new", "returning"):
            r = rows[(kind, clients)]
            out(
                f"  {kind:<10} {clients:>3} clients: throughput x{health['rps'] / r['rps']:.2f}"
                f"   p50 x{r['p50'] / health['p50']:.2f}"
            )
    # the former targets (0.80 / 0.85) are withdrawn: the endpoint's goal is
    # against its floor route (bench_number_floor.py); this ratio watches
    # for regressions
    out("\nrequests per second of /call_tracking/number ÷ /web/health (a regression watch; "
        "the goal is against the floor route, bench_number_floor)")  # fmt: skip
    for clients in CONCURRENCY:
        health = rows[("health", clients)]
        figures = "   ".join(
            f"{kind} x{rows[(kind, clients)]['rps'] / health['rps']:.2f}"
            for kind in ("new", "returning")
        )
        out(f"  {clients:>3} clients: {figures}")
    return rows


def _setup(url, db, login, password, size):
    try:
        rpc = Rpc(url, db, login, password)
        return setup_bench_pool(rpc, size)
    except (RuntimeError, requests.RequestException) as exc:
        print(f"(no benchmark pool: {exc}; using the demo Google Ads channel)")
        return "utm_source=google&utm_medium=cpc"


def _pool_size():
    return ROUNDS * sum(requests_for(c) for c in CONCURRENCY) + 50


if pytest is not None:

    @pytest.mark.bench
    def test_bench_number_endpoint(odoo_server, bench_figure):
        # 50 clients overflow the prefork listen backlog: the workers log the
        # resulting socket timeouts (the client retries, see Bench._send)
        odoo_server.allowed_errors.append(r"werkzeug: .*Request timed out")
        utm = _setup(odoo_server.url, odoo_server.db, "admin", "admin", _pool_size())
        rows = run(odoo_server.url, utm)
        assert all(row["n"] for row in rows.values())
        for clients in CONCURRENCY:
            health = rows[("health", clients)]["rps"]
            bench_figure(
                f"/call_tracking/number ÷ /web/health, {clients} clients: "
                + "   ".join(
                    f"{kind} x{rows[(kind, clients)]['rps'] / health:.2f}"
                    for kind in ("new", "returning")
                )
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="Odoo base URL (loopback only)")
    parser.add_argument("--db", required=True, help="database (for the benchmark pool setup)")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--no-setup", action="store_true", help="use the demo channels as is")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per measurement")
    args = parser.parse_args(argv)
    _assert_loopback(args.url)
    if args.no_setup:
        utm = "utm_source=google&utm_medium=cpc"
    else:
        utm = _setup(args.url, args.db, args.login, args.password, _pool_size())
    run(args.url, utm, args.budget)
    return 0


if __name__ == "__main__":
    sys.exit(main())
