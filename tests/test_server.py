"""The installed module over HTTP: its website configuration on the pages,
its scripts in the frontend bundle, and the standalone script that external
sites embed."""

import re

import pytest
import requests

TIMEOUT = 120  # the first page view builds the asset bundles


@pytest.fixture
def default_number(rpc):
    """The website company's default tracking number (set for the test
    when the database has none)."""
    company = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"][0]
    [values] = rpc("res.company", "read", [company], ["call_tracking_default_number"])
    number = values["call_tracking_default_number"]
    if number:
        yield number
        return
    rpc("res.company", "write", [company], {"call_tracking_default_number": "+380441110099"})
    try:
        yield "+380441110099"
    finally:
        rpc("res.company", "write", [company], {"call_tracking_default_number": False})


def test_website_page_carries_the_configuration(base_url, default_number):
    resp = requests.get(f"{base_url}/", timeout=TIMEOUT)
    assert resp.status_code == 200
    config = re.search(r'<span[^>]*id="o_call_tracking_config"[^>]*>', resp.text)
    assert config, "the number substitution is not configured on the page"
    assert f'data-number="{default_number}"' in config.group(0)
    assert 'data-endpoint="/call_tracking/number"' in config.group(0)


def test_frontend_bundle_serves_the_scripts(base_url, default_number):
    page = requests.get(f"{base_url}/", timeout=TIMEOUT).text
    bundles = re.findall(r'src="(/web/assets/[^"]*web\.assets_frontend[^"]*\.js)"', page)
    assert bundles, "no frontend bundle on the page"
    sources = [requests.get(f"{base_url}{path}", timeout=TIMEOUT) for path in bundles]
    assert all(resp.status_code == 200 for resp in sources)
    bundle = "\n".join(resp.text for resp in sources)
    # call_tracking_core.js (the substitution) and call_tracking.js (its widget)
    assert "call_tracking_number_click" in bundle
    assert "registry.callTracking" in bundle


def test_standalone_script_for_external_sites(base_url):
    resp = requests.get(
        f"{base_url}/call_tracking/static/src/js/call_tracking_core.js", timeout=TIMEOUT
    )
    assert resp.status_code == 200
    assert "javascript" in resp.headers["Content-Type"]
    assert "root.CallTracking" in resp.text
    assert "/call_tracking/number" in resp.text
