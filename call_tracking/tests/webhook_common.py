import json
from datetime import datetime, timedelta

from odoo.tests import HttpCase, TransactionCase, new_test_user

from odoo.addons.call_tracking.controllers.call_tracking_webhook import (
    CallTrackingWebhookController,
)
from odoo.addons.call_tracking.models.call_tracking_provider_generic import generic_signature

TRACKED = "+380441234567"  # dynamic pool number
STATIC = "+380441234500"  # static number of the billboard channel
FALLBACK = "+380441234599"  # pool fallback number
CALLER = "+380501112233"
SECRET = "test-secret-1234"


class WebhookFixtureMixin:
    """One company with a generic provider, a dynamic pool number, a static
    channel number, a salesperson and a manager."""

    @classmethod
    def _setup_call_tracking(cls):
        env = cls.env
        cls.company = env.company
        cls.salesman = new_test_user(
            env, login="ct_salesman", groups="sales_team.group_sale_salesman", name="Sally Sales"
        )
        cls.salesman2 = new_test_user(
            env, login="ct_salesman2", groups="sales_team.group_sale_salesman", name="Sam Sales"
        )
        cls.manager = new_test_user(
            env, login="ct_manager", groups="sales_team.group_sale_manager", name="Max Manager"
        )
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
        cls.pool = env["call.tracking.pool"].create(
            {"name": "Test pool", "hold_minutes": 30, "default_number": FALLBACK}
        )
        cls.number = env["call.tracking.number"].create(
            {"number": TRACKED, "pool_id": cls.pool.id, "provider_id": cls.provider.id}
        )
        cls.static_number = env["call.tracking.number"].create(
            {"number": STATIC, "provider_id": cls.provider.id}
        )
        Source = env["utm.source"]
        cls.source_billboard = Source.create({"name": "Billboard CT"})
        cls.medium_offline = env["utm.medium"].create({"name": "Offline CT"})
        cls.channel_static = env["call.tracking.channel"].create(
            {
                "name": "Billboard",
                "tracking_type": "static",
                "number_id": cls.static_number.id,
                "is_offline": True,
                "source_id": cls.source_billboard.id,
                "medium_id": cls.medium_offline.id,
            }
        )
        cls.channel_ads = env["call.tracking.channel"].create(
            {"name": "Google Ads CT", "tracking_type": "dynamic", "pool_id": cls.pool.id}
        )
        cls.visitor = env["website.visitor"].create({"access_token": "f" * 32})
        cls.call_time = datetime(2026, 11, 22, 10, 15, 0)

    @classmethod
    def _create_session(cls, assigned_at, expires_at, **values):
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

    def _event(self, event="call_end", call_id="call-1", **values):
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


class WebhookTransactionCase(WebhookFixtureMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_call_tracking()

    def _process(self, *payloads, provider=None):
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


class WebhookHttpCase(WebhookFixtureMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_call_tracking()

    def _url(self, provider=None, token=None):
        provider = provider or self.provider
        return f"/call_tracking/webhook/{token or provider.webhook_token}"

    def _post_json(self, payload, provider=None, secret=SECRET, raw=None, signature=None, **kw):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature is None and secret:
            signature = generic_signature(secret, body)
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


def later(dt, **delta):
    return dt + timedelta(**delta)


def receive_webhook(provider_sudo, request_data):
    """What the webhook controller answers to ``request_data`` for the
    provider (found in sudo, as the route does): ``(status, content type,
    body)``, without an HTTP server."""
    return CallTrackingWebhookController._handle_webhook(provider_sudo, dict(request_data))


def signed_generic_request(payload, token="token", secret=SECRET):
    """The request data the webhook controller builds for a generic JSON
    event signed with ``secret`` (see :func:`receive_webhook`)."""
    body = json.dumps(payload).encode()
    return {
        "method": "POST",
        "url_base": "http://localhost",
        "url_path": f"/call_tracking/webhook/{token}",
        "headers": {
            "Content-Type": "application/json",
            "X-Call-Tracking-Signature": generic_signature(secret, body),
        },
        "body": body,
        "form": [],
        "query": [],
        "remote_addr": "127.0.0.1",
    }
