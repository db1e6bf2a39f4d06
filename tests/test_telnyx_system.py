"""Telnyx Call Control webhooks against the live multi-worker server: a
provider configured over RPC as an administrator does it, webhooks signed
with a key pair the test creates (Telnyx's scheme: Ed25519 over
``<telnyx-timestamp>|<raw body>``), the call and its lead in Odoo; a
replayed (old) request and a forged one are refused and kept."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from webhook_helpers import TIMEOUT

UNKNOWN_NUMBER = "+380449990003"


@pytest.fixture(scope="module")
def telnyx(rpc):
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    provider_id = rpc(
        "call.tracking.provider",
        "create",
        [
            {
                "name": f"Telnyx system {uuid.uuid4().hex[:6]}",
                "kind": "telnyx",
                "telnyx_public_key": base64.b64encode(public).decode(),
            }
        ],
    )
    provider_id = provider_id[0] if isinstance(provider_id, list) else provider_id
    [provider] = rpc("call.tracking.provider", "read", [provider_id], fields=["webhook_token"])
    return provider_id, provider["webhook_token"], key


def _iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event(event_type, session, occurred_at, **payload):
    return {
        "data": {
            "record_type": "event",
            "event_type": event_type,
            "id": str(uuid.uuid4()),
            "occurred_at": _iso(occurred_at),
            "payload": {"call_leg_id": session + "-leg", "call_session_id": session, **payload},
        },
        "meta": {"attempt": 1},
    }


def _post(base_url, token, key, body, signed_at=None):
    timestamp = str(int((signed_at or datetime.now(UTC)).timestamp()))
    signature = key.sign(timestamp.encode() + b"|" + body)
    return requests.post(
        f"{base_url}/call_tracking/webhook/{token}",
        data=body,
        headers={
            "Content-Type": "application/json",
            "telnyx-timestamp": timestamp,
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        },
        timeout=TIMEOUT,
    )


def test_call_and_lead_over_http(base_url, rpc, telnyx):
    provider_id, token, key = telnyx
    session = f"sys-{uuid.uuid4()}"
    caller = "+38050" + str(uuid.uuid4().int % 10**7).zfill(7)
    start = datetime.now(UTC) - timedelta(seconds=90)
    numbers = {"from": caller, "to": UNKNOWN_NUMBER, "start_time": _iso(start)}
    events = [
        _event("call.initiated", session, start, direction="incoming", **numbers),
        _event("call.answered", session, start + timedelta(seconds=4), **numbers),
        _event("call.hangup", session, start + timedelta(seconds=64),
               hangup_cause="normal_clearing", **numbers),
    ]  # fmt: skip
    for event in (events[2], *events):  # a duplicate, out of order
        response = _post(base_url, token, key, json.dumps(event).encode())
        assert response.status_code == 200, response.text
    calls = rpc(
        "call.tracking.call",
        "search_read",
        [("provider_id", "=", provider_id), ("provider_call_id", "=", session)],
        fields=["status", "duration", "talk_duration", "caller_number", "lead_id"],
    )
    assert len(calls) == 1
    assert calls[0]["status"] == "answered"
    assert calls[0]["duration"] == 64
    assert calls[0]["talk_duration"] == 60
    assert calls[0]["caller_number"] == caller
    assert calls[0]["lead_id"]


def test_replayed_and_forged_are_refused(base_url, rpc, telnyx):
    provider_id, token, key = telnyx
    session = f"sys-{uuid.uuid4()}"
    body = json.dumps(
        _event("call.hangup", session, datetime.now(UTC), hangup_cause="normal_clearing",
               **{"from": "+380501234567", "to": UNKNOWN_NUMBER})
    ).encode()  # fmt: skip
    old = _post(base_url, token, key, body, signed_at=datetime.now(UTC) - timedelta(minutes=10))
    assert old.status_code == 403
    assert "five minutes" in old.json()["error"]
    forged = _post(base_url, token, Ed25519PrivateKey.generate(), body)
    assert forged.status_code == 403
    entries = rpc(
        "call.tracking.webhook.event",
        "search_read",
        [("provider_id", "=", provider_id), ("state", "=", "rejected")],
        fields=["error_message"],
    )
    assert len(entries) >= 2
    assert not rpc("call.tracking.call", "search_count", [("provider_call_id", "=", session)])
