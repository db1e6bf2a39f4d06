"""The fixture world every call_tracking test class derives from.

One ``setUpClass`` builds, once per class:

- the company (the database's main company, in the United States) with its
  default number, and a second company in Belgium with its own number and
  channel;
- realistic users (``mail_new_test_user``): two salespeople, a sales
  manager, a Call Tracking administrator who is not in sales, a Settings
  administrator, a portal user, and a sales manager of the second company;
- a sales team and a signed generic provider with its salesperson;
- a paid pool of three numbers with its fallback number, static numbers,
  and the channels of a combined setup: Google Ads and Facebook Ads on the
  pool, SEO, an offline billboard, and the one direct-traffic channel.

The company's other channels (the demo data's) are archived first, so the
recognition tests see exactly this setup with or without demo data.

Helpers assign numbers, move time, build and process webhook events, and
sign requests; :class:`CallTrackingCommon` runs in a transaction,
:class:`CallTrackingHttpCommon` against the test HTTP server.
"""

import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.tests import HttpCase, TransactionCase
from odoo.tests.common import ChromeBrowser
from odoo.tools import SQL

from odoo.addons.call_tracking.controllers.call_tracking_webhook import (
    CallTrackingWebhookController,
)
from odoo.addons.call_tracking.models.call_tracking_provider_generic import generic_signature
from odoo.addons.mail.tests.common import mail_new_test_user

# US numbers: the test company is in the United States
DEFAULT = "+12125550100"  # the company's number, on its website
FALLBACK = "+12125550199"  # the paid pool's fallback number
SEO = "+12125550111"
DIRECT = "+12125550112"
BILLBOARD = "+12125550113"  # static number of the offline billboard
POOL = ("+12125550121", "+12125550122", "+12125550123")
TRACKED = POOL[0]  # the pool number the webhook tests call
STATIC = BILLBOARD
CALLER = "+380501112233"  # a caller from abroad
SECRET = "test-secret-1234"

# A real browser's user agent: HTTP libraries (requests' own) and headless
# Chromium are automated clients and get no lease.
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
GOOGLE_ADS_URL = "https://shop.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=spring"
FACEBOOK_URL = "https://shop.example.com/offers?fbclid=IwAR0abc"
PAGE_URL = "https://shop.example.com/contactus"
SAME_SITE = "https://shop.example.com/"


@contextmanager
def rollup_tables():
    """Yield the list of what the Call Analysis roll-up answered for each
    grouped read inside the block (a table name, or None: the raw view)."""
    from ..report.call_tracking_call_report_rollup import CallTrackingCallReport

    tables = []
    covers = CallTrackingCallReport._rollup_covers

    def spy(model, *args, **kwargs):
        tables.append(covers(model, *args, **kwargs))
        return tables[-1]

    with patch.object(CallTrackingCallReport, "_rollup_covers", spy):
        yield tables


def rollup_build(env):
    """Run the roll-up's refresh steps until it is complete (a first build
    queues every day, the demo's too)."""
    report = env["call.tracking.call.report"]
    report._rollup_refresh()
    while not report._rollup_state():
        report._rollup_refresh()


def later(dt, **delta):
    return dt + timedelta(**delta)


def receive_webhook(provider_sudo, request_data):
    """What the webhook controller answers to ``request_data`` for the
    provider (found in sudo, as the route does): ``(status, content type,
    body)``, without an HTTP server."""
    return CallTrackingWebhookController._handle_webhook(provider_sudo, dict(request_data))


def signed_headers(body, secret=SECRET):
    """The headers of a generic JSON webhook ``body`` (bytes) signed with
    ``secret`` (none when ``secret`` is empty): the one signed-webhook
    fixture of the Odoo tests (the system tests sign in
    ``tests/webhook_helpers.py``, outside Odoo)."""
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Call-Tracking-Signature"] = generic_signature(secret, body)
    return headers


def signed_generic_request(payload, token="token", secret=SECRET):
    """The request data the webhook controller builds for a generic JSON
    event signed with ``secret`` (see :func:`receive_webhook`)."""
    body = json.dumps(payload).encode()
    return {
        "method": "POST",
        "url_base": "http://localhost",
        "url_path": f"/call_tracking/webhook/{token}",
        "headers": signed_headers(body, secret),
        "body": body,
        "form": [],
        "query": [],
        "remote_addr": "127.0.0.1",
    }


class CallTrackingWorld:
    """The world and its helpers, for a TransactionCase or an HttpCase."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_call_tracking_world()

    @classmethod
    def _setup_call_tracking_world(cls):
        env = cls.env
        cls.company = env.company
        cls.company.country_id = env.ref("base.us")
        cls.company.call_tracking_default_number = DEFAULT
        # start from a known setup, with or without the demo data
        env["call.tracking.channel"].search([("company_id", "=", cls.company.id)]).active = False
        cls.company_2 = env["res.company"].create(
            {
                "name": "Other Company",
                "country_id": env.ref("base.be").id,
                "call_tracking_default_number": "02 555 12 34",
            }
        )

        # users
        cls.salesman = mail_new_test_user(
            env, login="ct_salesman", groups="sales_team.group_sale_salesman", name="Sally Sales"
        )
        cls.salesman2 = mail_new_test_user(
            env, login="ct_salesman2", groups="sales_team.group_sale_salesman", name="Sam Sales"
        )
        cls.manager = mail_new_test_user(
            env, login="ct_manager", groups="sales_team.group_sale_manager", name="Max Manager"
        )
        cls.ct_admin = mail_new_test_user(
            env,
            login="ct_admin",
            groups="base.group_user,call_tracking.call_tracking_group_manager",
            name="Carla Call Tracking",
        )
        cls.settings_admin = mail_new_test_user(
            env,
            login="ct_settings_admin",
            groups="base.group_system,call_tracking.call_tracking_group_manager",
            name="Simon Settings",
        )
        cls.portal = mail_new_test_user(
            env, login="ct_portal", groups="base.group_portal", name="Paula Portal"
        )
        cls.public = env.ref("base.public_user")
        cls.manager_2 = mail_new_test_user(
            env,
            login="ct_manager_2",
            groups="sales_team.group_sale_manager",
            name="Olga Other Company",
            company_id=cls.company_2.id,
            company_ids=[cls.company_2.id],
        )

        # sales team and provider
        cls.team = env["crm.team"].create({"name": "Call Team", "use_leads": True})
        cls.provider = env["call.tracking.provider"].create(
            {
                "name": "Generic test provider",
                "kind": "generic",
                "secret": SECRET,
                "team_id": cls.team.id,
                "user_id": cls.salesman.id,
            }
        )

        # pool and numbers
        Number = env["call.tracking.number"]
        cls.pool = env["call.tracking.pool"].create(
            {"name": "Paid", "hold_minutes": 30, "default_number": FALLBACK}
        )
        cls.pool_numbers = Number.create(
            [
                {
                    "number": number,
                    "pool_id": cls.pool.id,
                    "sequence": index,
                    "provider_id": cls.provider.id,
                }
                for index, number in enumerate(POOL)
            ]
        )
        cls.number = cls.pool_numbers[0]  # TRACKED
        cls.number_seo, cls.number_direct, cls.number_billboard = Number.create(
            [
                {"number": number, "provider_id": cls.provider.id}
                for number in (SEO, DIRECT, BILLBOARD)
            ]
        )
        cls.static_number = cls.number_billboard

        # channels
        cls.source_billboard = env["utm.source"].create({"name": "Billboard CT"})
        cls.medium_offline = env["utm.medium"].create({"name": "Offline CT"})
        Channel = env["call.tracking.channel"]
        cls.channel_google = Channel.create(
            {
                "name": "Google Ads",
                "sequence": 10,
                "tracking_type": "dynamic",
                "pool_id": cls.pool.id,
                "rule_ids": [
                    (0, 0, {"utm_source": "google, adwords", "utm_medium": "cpc"}),
                    (0, 0, {"landing_param": "gclid"}),
                ],
            }
        )
        cls.channel_facebook = Channel.create(
            {
                "name": "Facebook Ads",
                "sequence": 20,
                "tracking_type": "dynamic",
                "pool_id": cls.pool.id,
                "rule_ids": [
                    (0, 0, {"utm_source": "facebook"}),
                    (0, 0, {"landing_param": "fbclid"}),
                ],
            }
        )
        cls.channel_seo = Channel.create(
            {
                "name": "SEO",
                "sequence": 30,
                "number_id": cls.number_seo.id,
                "rule_ids": [(0, 0, {"referrer_type": "search"})],
            }
        )
        cls.channel_billboard = Channel.create(
            {
                "name": "Billboard",
                "sequence": 5,
                "tracking_type": "static",
                "number_id": cls.number_billboard.id,
                "is_offline": True,
                "source_id": cls.source_billboard.id,
                "medium_id": cls.medium_offline.id,
                "rule_ids": [(0, 0, {"utm_source": "billboard"})],
            }
        )
        cls.channel_direct = Channel.create(
            {
                "name": "Direct",
                "sequence": 100,
                "number_id": cls.number_direct.id,
                "is_default": True,
            }
        )
        # the sessions the webhook tests create are Google Ads visitors
        cls.channel_ads = cls.channel_google
        cls.channel_static = cls.channel_billboard

        # the second company: its own number and channel
        cls.number_2 = Number.create({"number": "02 555 12 35", "company_id": cls.company_2.id})
        cls.channel_2 = Channel.create(
            {
                "name": "Other Google",
                "company_id": cls.company_2.id,
                "number_id": cls.number_2.id,
                "rule_ids": [(0, 0, {"utm_source": "google"})],
            }
        )

        cls.visitor = env["website.visitor"].create({"access_token": "f" * 32})
        cls.call_time = datetime(2026, 11, 22, 10, 15, 0)
        # a blocked caller of the first company (no test calls from it)
        cls.blocked_number = env["call.tracking.blocked.number"].create(
            {"number": "+380509998877", "note": "Robocaller"}
        )

    # ------------------------------------------------------------------
    # number assignment and time
    # ------------------------------------------------------------------

    def assign(self, url=None, referrer=None, key=None, company=None, **kwargs):
        return self.env["call.tracking.session"]._assign_number(
            company or self.company, visitor_key=key, url=url, referrer=referrer, **kwargs
        )

    def sessions(self, key):
        return self.env["call.tracking.session"].search([("visitor_key", "=", key)])

    def time_passes(self, minutes):
        """Move every session, lease and release ``minutes`` into the past:
        for the database, ``minutes`` have passed."""
        self.env.flush_all()
        delta = SQL("%s::interval", f"{minutes} minutes")
        # rows move one by one: check the lease exclusion once all have moved
        self.env.cr.execute(SQL("SET CONSTRAINTS call_tracking_session_lease_exclusion DEFERRED"))
        self.env.cr.execute(
            SQL(
                """
            UPDATE call_tracking_session
               SET assigned_at = assigned_at - %(delta)s,
                   last_seen_at = last_seen_at - %(delta)s,
                   expires_at = expires_at - %(delta)s
                """,
                delta=delta,
            )
        )
        self.env.cr.execute(
            SQL(
                """
            UPDATE call_tracking_number
               SET lease_expires_at = lease_expires_at - %(delta)s,
                   last_released_at = last_released_at - %(delta)s
                """,
                delta=delta,
            )
        )
        self.env.cr.execute(SQL("SET CONSTRAINTS call_tracking_session_lease_exclusion IMMEDIATE"))
        self.env.invalidate_all()

    @classmethod
    def _create_session(cls, assigned_at, expires_at, **values):
        """A Google Ads visitor session leasing the tracked pool number."""
        return cls.env["call.tracking.session"].create(
            {
                "visitor_key": values.pop("visitor_key", "vk-test"),
                "company_id": cls.company.id,
                "mode": "dynamic",
                "number_id": cls.number.id,
                "pool_id": cls.pool.id,
                "channel_id": cls.channel_ads.id,
                "visitor_id": cls.visitor.id,
                "assigned_at": assigned_at,
                "last_seen_at": assigned_at,
                "expires_at": expires_at,
                "utm_source": "google",
                "utm_medium": "cpc",
                "utm_campaign": "spring_sale_ct",
                "utm_term": "plumber kyiv",
                "landing_url": "https://shop.example/plumbing?utm_source=google",
                **values,
            }
        )

    # ------------------------------------------------------------------
    # webhook events
    # ------------------------------------------------------------------

    def _event(self, event="call_end", call_id="call-1", **values):
        """A generic provider event: a call from CALLER to the tracked
        number, at ``call_time``."""
        payload = {
            "event": event,
            "call_id": call_id,
            "from": CALLER,
            "to": TRACKED,
            "start": self.call_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if event == "call_end":
            payload.update(duration=95, talk_duration=80, status="answered")
        payload.update(values)
        return {k: v for k, v in payload.items() if v is not None}

    @classmethod
    def _receive_signed(cls, payload, provider=None, secret=SECRET):
        """Have the webhook controller receive ``payload`` signed with
        ``secret``: ``(status, content type, body)``."""
        provider = provider or cls.provider
        return receive_webhook(
            provider.sudo(), signed_generic_request(payload, provider.webhook_token, secret)
        )

    def _process(self, *payloads, provider=None):
        """Process already verified events, as the controller delegates
        them: the calls they wrote."""
        provider = provider or self.provider
        calls = self.env["call.tracking.call"]
        for payload in payloads:
            events = provider.sudo()._parse_webhook_events({"body": json.dumps(payload).encode()})
            calls |= (
                self.env["call.tracking.call"]
                .sudo()
                ._process_webhook_events(provider.sudo(), events)
            )
        return calls


class CallTrackingCommon(CallTrackingWorld, TransactionCase):
    """The world, in a transaction."""


class CallTrackingHttpCommon(CallTrackingWorld, HttpCase):
    """The world, with the test HTTP server and a browser. Requests and the
    browser present a desktop Chrome user agent (:data:`BROWSER_UA`), as a
    visitor's browser does."""

    def setUp(self):
        super().setUp()
        navigate_to = ChromeBrowser.navigate_to

        def navigate_as_visitor(browser, url, wait_stop=False):
            browser._websocket_request(
                "Emulation.setUserAgentOverride", params={"userAgent": BROWSER_UA}
            )
            return navigate_to(browser, url, wait_stop=wait_stop)

        self.patch(ChromeBrowser, "navigate_to", navigate_as_visitor)

    def url_open(self, url, data=None, files=None, timeout=12, headers=None, **kwargs):
        headers = {"User-Agent": BROWSER_UA, **(headers or {})}
        return super().url_open(
            url, data=data, files=files, timeout=timeout, headers=headers, **kwargs
        )

    def _url(self, provider=None, token=None):
        provider = provider or self.provider
        return f"/call_tracking/webhook/{token or provider.webhook_token}"

    def _post_json(self, payload, provider=None, secret=SECRET, raw=None, signature=None, **kw):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = signed_headers(body, secret if signature is None else None)
        if signature:
            headers["X-Call-Tracking-Signature"] = signature
        return self.opener.post(
            self.base_url() + self._url(provider, **kw), data=body, headers=headers, timeout=30
        )

    def _events(self, provider=None):
        provider = provider or self.provider
        return self.env["call.tracking.webhook.event"].search(
            [("provider_id", "=", provider.id)], order="id"
        )

    def _calls(self, provider=None):
        provider = provider or self.provider
        return self.env["call.tracking.call"].search([("provider_id", "=", provider.id)])
