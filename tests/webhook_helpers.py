"""Shared helpers of the webhook system tests and benchmark: sign and post
generic webhooks to a live server (the public contract in docs/admin/providers.rst,
"Provider webhooks")."""

import hashlib
import hmac
import json
from datetime import UTC, datetime

import requests

DEMO_GENERIC_SECRET = "demo-generic-secret"  # demo/call_tracking_provider_demo.xml
TIMEOUT = 60


def provider_token(rpc, xmlid="demo_provider_generic"):
    data = rpc(
        "ir.model.data",
        "search_read",
        [("module", "=", "call_tracking"), ("name", "=", xmlid)],
        fields=["res_id"],
    )
    assert data, f"call_tracking.{xmlid} is missing from the demo data"
    provider = rpc("call.tracking.provider", "read", [data[0]["res_id"]], fields=["webhook_token"])[
        0
    ]
    return provider["id"], provider["webhook_token"]


def sign(body, secret=DEMO_GENERIC_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def now_iso():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def call_event(event, call_id, caller, called, **extra):
    payload = {
        "event": event,
        "call_id": call_id,
        "from": caller,
        "to": called,
        "start": extra.pop("start", None) or now_iso(),
    }
    if event == "call_end":
        payload.update(duration=95, talk_duration=80, status="answered")
    payload.update(extra)
    return payload


def post_event(session, base_url, token, payload, secret=DEMO_GENERIC_SECRET, raw=None):
    """POST a generic event (or the ``raw`` body) signed with ``secret``."""
    body = raw if raw is not None else json.dumps(payload).encode()
    return (session or requests).post(
        f"{base_url}/call_tracking/webhook/{token}",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Call-Tracking-Signature": sign(body, secret),
        },
        timeout=TIMEOUT,
    )
