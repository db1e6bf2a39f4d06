"""POST /call_tracking/number against a live multi-worker server.

The public contract in docs/developer/contracts.rst (seven keys, 400 on malformed input, CORS),
the hold extension, and the invariant that matters most: under many
concurrent requests on several workers and two servers sharing one database,
no pool number is ever leased to two live sessions, and the visitors that
find the pool full get the default number.

Each test that leases numbers works on its own channel and pool (created over
JSON-RPC with a random utm_source), so it neither depends on nor disturbs the
demo pool other system tests use.
"""

import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from visitor_client import browser_session

ANSWER_KEYS = {"number", "display", "href", "mode", "visitor", "expires_in", "channel"}
TIMEOUT = 60
# area codes of valid US numbers; 555-01xx is the fiction range
AREA_CODES = (201, 202, 203, 205, 206, 207, 208, 209, 210, 213, 214, 215, 216, 217, 218)


def post(base_url, body=None, raw=None, headers=None, source=True):
    """POST to the number endpoint as a browser from ``source`` (default: a
    random loopback address in a /24 of its own, so the caps of live leases
    per client never mix the tests' visitors)."""
    headers = dict(headers or {})
    with browser_session(source) as client:
        if raw is None:
            return client.post(
                f"{base_url}/call_tracking/number", json=body or {}, headers=headers,
                timeout=TIMEOUT,
            )  # fmt: skip
        headers.setdefault("Content-Type", "application/json")
        return client.post(
            f"{base_url}/call_tracking/number", data=raw, headers=headers, timeout=TIMEOUT
        )


def make_pool(rpc, size, hold_minutes=30):
    """A dynamic channel recognised by a random utm_source, with a pool of
    ``size`` free numbers. Returns (channel_id, pool_id, numbers, url)."""
    tag = "systest" + secrets.token_hex(4)
    for area in random.sample(AREA_CODES, len(AREA_CODES)):
        numbers = [f"+1{area}55501{i:02d}" for i in range(size)]
        if not rpc("call.tracking.number", "search_count", [("number", "in", numbers)]):
            break
    else:
        pytest.fail("no free range of test numbers left in this database")
    pool_id = rpc(
        "call.tracking.pool",
        "create",
        {
            "name": f"Pool {tag}",
            "hold_minutes": hold_minutes,
            "number_ids": [(0, 0, {"number": n}) for n in numbers],
        },
    )
    channel_id = rpc(
        "call.tracking.channel",
        "create",
        {
            "name": f"Channel {tag}",
            "sequence": 1,
            "tracking_type": "dynamic",
            "pool_id": pool_id,
            "rule_ids": [(0, 0, {"utm_source": tag})],
        },
    )
    return channel_id, pool_id, numbers, f"https://shop.example.com/?utm_source={tag}"


@pytest.fixture(scope="module")
def company_default(rpc):
    company = rpc("res.company", "search_read", [("id", "=", 1)], ["call_tracking_default_number"])
    return company[0]["call_tracking_default_number"]


# ----------------------------------------------------------------------
# contract
# ----------------------------------------------------------------------


def test_answer_has_the_seven_keys(base_url, rpc):
    _channel, _pool, numbers, url = make_pool(rpc, 2)
    answers = [
        post(base_url, {"url": url, "referrer": "https://www.google.com/", "ga_client_id": "1.2"}),
        post(base_url, {"url": "https://x.example/", "referrer": "https://www.bing.com/"}),
        post(base_url, {}),
        post(base_url, raw=b""),
    ]
    modes = []
    for resp in answers:
        assert resp.status_code == 200, resp.text
        assert resp.headers["Content-Type"].startswith("application/json")
        # no session is written per request; only the visitor key's cookie
        cookies = resp.headers.get("Set-Cookie", "")
        assert "session_id" not in cookies
        assert cookies.startswith("call_tracking_visitor="), cookies
        data = resp.json()
        assert set(data) == ANSWER_KEYS
        assert data["number"].startswith("+")
        assert data["href"] == "tel:" + data["number"]
        assert isinstance(data["display"], str) and data["display"]
        assert isinstance(data["expires_in"], int) and data["expires_in"] > 0
        assert len(data["visitor"]) >= 32
        modes.append((data["mode"], data["channel"]))
    assert answers[0].json()["number"] in numbers
    assert modes[0][0] == "dynamic"
    assert modes[1] == ("static", "SEO")
    assert modes[2] == ("static", "Direct")


def test_same_key_same_number_and_longer_hold(base_url, rpc):
    channel_id, _pool, numbers, url = make_pool(rpc, 3)
    first = post(base_url, {"url": url}).json()
    session = rpc(
        "call.tracking.session",
        "search_read",
        [("visitor_key", "=", first["visitor"])],
        ["expires_at", "number_id", "channel_id"],
    )
    assert len(session) == 1
    assert session[0]["channel_id"][0] == channel_id
    time.sleep(1.5)
    # internal navigation, then a ping from the landing page again
    for body in (
        {"url": "https://shop.example.com/contactus", "referrer": "https://shop.example.com/"},
        {"url": url},
    ):
        again = post(base_url, dict(body, visitor=first["visitor"])).json()
        assert again["visitor"] == first["visitor"]
        assert again["number"] == first["number"]
        assert again["mode"] == "dynamic"
        assert again["expires_in"] == 1800
    later = rpc(
        "call.tracking.session",
        "search_read",
        [("visitor_key", "=", first["visitor"])],
        ["expires_at"],
    )
    assert len(later) == 1, "the same lease, extended"
    assert later[0]["expires_at"] > session[0]["expires_at"]
    number = rpc(
        "call.tracking.number",
        "search_read",
        [("number", "=", first["number"])],
        ["lease_expires_at", "lease_session_id"],
    )[0]
    assert number["lease_session_id"][0] == later[0]["id"]
    assert number["lease_expires_at"] == later[0]["expires_at"]
    # another visitor never gets that number nor that key
    other = post(base_url, {"url": url}).json()
    assert other["visitor"] != first["visitor"]
    assert other["number"] != first["number"]
    assert other["number"] in numbers


def test_unknown_key_gets_a_new_one(base_url):
    data = post(base_url, {"visitor": "guessed-key-123"}).json()
    assert data["visitor"] != "guessed-key-123"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b"null", "JSON object"),
        (b'"text"', "JSON object"),
        (b'{"url": 5}', "url must be a string"),
        (b'{"visitor": ["a"]}', "visitor must be a string"),
        (b'{"referrer": {"a": 1}}', "referrer must be a string"),
        (b'{"ga_client_id": 1.5}', "ga_client_id must be a string"),
        (b'{"website_id": "1"}', "website_id"),
        (b'{"website_id": true}', "website_id"),
        (b'{"website_id": -3}', "website_id"),
        (b'{"website_id": 1.0}', "website_id"),
        (b'{"website_id": 99999999999}', "website_id"),
        (b'{"website_id": 987654}', "unknown website_id"),
        (b'{"url": "' + b"a" * 5000 + b'"}', "too long"),
        (b'{"visitor": "' + b"k" * 200 + b'"}', "too long"),
    ],
)
def test_malformed_input_is_a_400(base_url, raw, reason):
    resp = post(base_url, raw=raw)
    assert resp.status_code == 400, resp.text
    assert set(resp.json()) == {"error"}
    assert reason in resp.json()["error"]


def test_oversized_body_is_a_413(base_url):
    """A body over the route's max_content_length is refused before Odoo
    reads it (413, Odoo's answer)."""
    resp = post(base_url, raw=b'{"url": "' + b"a" * 40000 + b'"}')
    assert resp.status_code == 413


def test_form_body_is_a_400(base_url):
    resp = requests.post(f"{base_url}/call_tracking/number", data={"url": "x"}, timeout=TIMEOUT)
    assert resp.status_code == 400
    assert "error" in resp.json()


def test_method_not_allowed(base_url):
    resp = requests.get(f"{base_url}/call_tracking/number", timeout=TIMEOUT)
    assert resp.status_code in (404, 405)


# ----------------------------------------------------------------------
# CORS
# ----------------------------------------------------------------------


def preflight(base_url, origin):
    return requests.options(
        f"{base_url}/call_tracking/number",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=TIMEOUT,
    )


def test_cors(base_url, rpc):
    own = base_url
    partner = f"https://partner-{secrets.token_hex(3)}.example"
    stranger = "https://stranger.example"
    # the website's own origin is always allowed
    resp = preflight(base_url, own)
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == own
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "content-type" in resp.headers["Access-Control-Allow-Headers"].lower()
    assert "Origin" in resp.headers["Vary"]
    # an unknown site is not
    resp = preflight(base_url, partner)
    assert "Access-Control-Allow-Origin" not in resp.headers
    resp = post(base_url, {}, headers={"Origin": partner})
    assert resp.status_code == 403
    assert "Access-Control-Allow-Origin" not in resp.headers
    # ...until the website lists it (its settings cache is cleared on write)
    website_id = rpc("website", "search", [], limit=1)[0]
    rpc("website", "write", [website_id], {"call_tracking_cors_origins": f"{partner}/\n"})
    try:
        resp = preflight(base_url, partner)
        assert resp.headers["Access-Control-Allow-Origin"] == partner
        resp = post(base_url, {"website_id": website_id}, headers={"Origin": partner})
        assert resp.status_code == 200
        assert resp.headers["Access-Control-Allow-Origin"] == partner
        assert "Origin" in resp.headers["Vary"]
        assert set(resp.json()) == ANSWER_KEYS
        resp = post(base_url, {"website_id": website_id}, headers={"Origin": stranger})
        assert resp.status_code == 403
        assert "Access-Control-Allow-Origin" not in resp.headers
    finally:
        rpc("website", "write", [website_id], {"call_tracking_cors_origins": False})
    # same-origin calls from the website itself
    resp = post(base_url, {}, headers={"Origin": own})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == own


# ----------------------------------------------------------------------
# concurrency
# ----------------------------------------------------------------------


def _burst(urls, body, count):
    """``count`` requests at once (threads released together), spread over
    ``urls``; returns the JSON answers."""
    barrier = threading.Barrier(count)

    def one(index):
        client = browser_session(source=True)
        barrier.wait()
        started = time.monotonic()
        resp = client.post(
            f"{urls[index % len(urls)]}/call_tracking/number", json=body, timeout=120
        )
        return resp, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=count) as executor:
        results = list(executor.map(one, range(count)))
    for resp, _elapsed in results:
        assert resp.status_code == 200, resp.text
    latencies = sorted(elapsed for _resp, elapsed in results)
    print(
        f"\n{count} concurrent new visitors on {len(urls)} server(s): "
        f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    return [resp.json() for resp, _elapsed in results]


def test_concurrent_visitors_never_share_a_number(
    base_url, rpc, odoo_server, odoo_server_factory, company_default
):
    """60 new visitors at once against a 10-number pool, on two servers of 2
    workers each over the same database: exactly 10 get a pool number, each a
    different one, held by exactly one live session; 50 get the default."""
    second = odoo_server_factory(workers=2)
    channel_id, pool_id, numbers, url = make_pool(rpc, 10)
    answers = _burst([base_url, second.url], {"url": url}, 60)

    dynamic = [a for a in answers if a["mode"] == "dynamic"]
    fallback = [a for a in answers if a["mode"] == "default"]
    assert not [a for a in answers if a["mode"] not in ("dynamic", "default")]
    assert len(dynamic) == 10
    assert sorted(a["number"] for a in dynamic) == sorted(numbers)
    assert len(fallback) == 50
    assert {a["number"] for a in fallback} == {company_default}
    assert len({a["visitor"] for a in answers}) == 60

    # the database agrees: one live dynamic session per number, each number
    # pointing at it
    sessions = rpc(
        "call.tracking.session",
        "search_read",
        [("pool_id", "=", pool_id), ("mode", "=", "dynamic"), ("is_live", "=", True)],
        ["number_id", "visitor_key", "expires_at", "channel_id"],
    )
    assert len(sessions) == 10
    assert {s["channel_id"][0] for s in sessions} == {channel_id}
    assert len({s["number_id"][0] for s in sessions}) == 10
    leases = rpc(
        "call.tracking.number",
        "search_read",
        [("pool_id", "=", pool_id)],
        ["lease_session_id", "is_leased"],
    )
    assert all(n["is_leased"] for n in leases)
    assert {n["lease_session_id"][0] for n in leases} == {s["id"] for s in sessions}
    assert (
        rpc(
            "call.tracking.session",
            "search_count",
            [("pool_id", "=", pool_id), ("mode", "=", "default")],
        )
        == 50
    )
    by_key = {s["visitor_key"]: s["number_id"][1] for s in sessions}
    for answer in dynamic:
        assert answer["visitor"] in by_key

    # the lucky ten ping concurrently: each keeps its own number
    pings = []

    def ping(answer):
        body = {"url": "https://shop.example.com/about", "visitor": answer["visitor"]}
        return answer, post(base_url, body).json()

    with ThreadPoolExecutor(max_workers=10) as executor:
        pings = list(executor.map(ping, dynamic))
    for answer, again in pings:
        assert again["number"] == answer["number"]
        assert again["mode"] == "dynamic"
        assert again["channel"] == f"Channel {url.rsplit('=', 1)[1]}"
