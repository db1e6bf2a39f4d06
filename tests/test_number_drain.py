"""Pools that cannot be drained, against a live 2-worker server: a drain
attack from one address, automated clients, and the cap of live leases per
client under concurrent requests on several workers.

Clients bind their own loopback source addresses (127.a.b.c): the server
sees them as different client addresses and networks, as it would see
visitors behind a reverse proxy with ``proxy_mode``.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_number_endpoint import make_pool
from visitor_client import browser_session, loopback_address

TIMEOUT = 60
CAP_ADDRESS = 3  # the company's default cap of live leases per address
CRAWLERS = (
    "AdsBot-Google (+http://www.google.com/adsbot.html)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexDirect/3.0; +http://yandex.com/bots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36"
    ),
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
    "",
)


@pytest.fixture(scope="module")
def company_default(rpc):
    company = rpc("res.company", "search_read", [("id", "=", 1)], ["call_tracking_default_number"])
    return company[0]["call_tracking_default_number"]


def ask(base_url, url, source, user_agent=None, visitor=None):
    kwargs = {} if user_agent is None else {"user_agent": user_agent}
    body = {"url": f"{url}&gclid={uuid.uuid4().hex}"}
    if visitor:
        body = {"url": url, "visitor": visitor}
    with browser_session(source, **kwargs) as client:
        resp = client.post(f"{base_url}/call_tracking/number", json=body, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_drain_attack_from_one_address(base_url, rpc, company_default):
    """500 requests from one address, each with a fresh key and click id,
    leave all but the cap of a 10-number pool to real visitors from other
    addresses."""
    _channel_id, pool_id, numbers, url = make_pool(rpc, 10)
    attacker = loopback_address()

    with ThreadPoolExecutor(max_workers=8) as executor:
        answers = list(executor.map(lambda _i: ask(base_url, url, attacker), range(500)))
    leased = [a for a in answers if a["mode"] == "dynamic"]
    assert len(leased) == CAP_ADDRESS
    assert {a["number"] for a in answers if a["mode"] != "dynamic"} == {company_default}

    # real visitors, each from their own network: the rest of the pool is theirs
    visitors = [ask(base_url, url, loopback_address()) for _i in range(len(numbers))]
    modes = [v["mode"] for v in visitors]
    assert modes.count("dynamic") == len(numbers) - CAP_ADDRESS
    got = {a["number"] for a in leased} | {v["number"] for v in visitors if v["mode"] == "dynamic"}
    assert got == set(numbers)
    # the refused requests left no session behind: the leases, and the
    # visitors who found the pool full
    sessions = rpc("call.tracking.session", "search_count", [("pool_id", "=", pool_id)])
    assert sessions == len(numbers) + modes.count("default")


def test_concurrent_requests_of_one_client_respect_the_cap(base_url, rpc):
    """30 requests at once from one address over the server's workers: the
    cap holds (the leases of one client serialize in PostgreSQL)."""
    _channel_id, _pool_id, _numbers, url = make_pool(rpc, 10)
    client = loopback_address()
    with ThreadPoolExecutor(max_workers=30) as executor:
        answers = list(executor.map(lambda _i: ask(base_url, url, client), range(30)))
    assert [a["mode"] for a in answers].count("dynamic") == CAP_ADDRESS


def test_network_cap(base_url, rpc):
    """Ten live leases per /24 network by default, whatever the addresses."""
    _channel_id, _pool_id, _numbers, url = make_pool(rpc, 15)
    network = loopback_address().rsplit(".", 1)[0]
    answers = [ask(base_url, url, loopback_address(network, host)) for host in range(1, 13)]
    assert [a["mode"] for a in answers].count("dynamic") == 10


def test_crawlers_get_no_lease_and_no_session(base_url, rpc, company_default):
    _channel_id, pool_id, _numbers, url = make_pool(rpc, 3)
    for user_agent in CRAWLERS:
        answer = ask(base_url, url, loopback_address(), user_agent=user_agent)
        assert answer["mode"] == "default", user_agent
        assert answer["number"] == company_default
        assert not rpc(
            "call.tracking.session", "search_count", [("visitor_key", "=", answer["visitor"])]
        )
    assert not rpc("call.tracking.session", "search_count", [("pool_id", "=", pool_id)])
    # a browser is served
    assert ask(base_url, url, loopback_address())["mode"] == "dynamic"
