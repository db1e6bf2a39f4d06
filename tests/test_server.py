"""The live server starts and serves the basic pages."""

import requests

TIMEOUT = 120  # the first page view builds the asset bundles


def test_health(base_url):
    resp = requests.get(f"{base_url}/web/health", timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.json()["status"] == "pass"


def test_website_home_page(base_url):
    resp = requests.get(f"{base_url}/", timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "<html" in resp.text
    # the website layout, not a bare web client page or an error page
    assert 'id="wrapwrap"' in resp.text
    assert "<footer" in resp.text


def test_login_page(base_url):
    resp = requests.get(f"{base_url}/web/login", timeout=TIMEOUT)
    assert resp.status_code == 200
    assert 'name="login"' in resp.text
    assert 'name="password"' in resp.text


def test_module_installed(odoo_server):
    installed = odoo_server.rpc(
        "ir.module.module",
        "search_count",
        [("name", "=", "call_tracking"), ("state", "=", "installed")],
    )
    assert installed == 1
