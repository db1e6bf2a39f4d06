"""Telnyx on loopback: its webhook sender and its REST API, in the formats
Telnyx documents (see ``models/call_tracking_provider_telnyx.py``).

:class:`TelnyxSender` builds Call Control webhooks (``{"data": {...}}``)
signed with an Ed25519 key pair of its own, as Telnyx signs them
(``telnyx-signature-ed25519`` over ``<telnyx-timestamp>|<raw body>``).

:class:`TelnyxApiStandIn` is a real HTTP server on loopback answering
``GET /v2/call_events`` (List call events: ``filter[occurred_at][gte]``,
``page[number]``, ``page[size]``, ``meta.total_pages``) from the events the
sender made, and serving recordings under ``/recordings/``. Every request
is recorded; ``fail_next`` makes the next answers fail with a status.
"""

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from odoo.addons.call_tracking.models.call_tracking_provider_telnyx import (
    telnyx_public_key_b64,
    telnyx_sign,
)


def iso(value):
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class TelnyxSender:
    """Makes the webhooks of one Telnyx account."""

    def __init__(self):
        self.private_key = Ed25519PrivateKey.generate()
        self.public_key = telnyx_public_key_b64(self.private_key.public_key())
        self.sent = []  # every event made, as (data envelope)

    def event(self, event_type, session, occurred_at, **payload):
        data = {
            "record_type": "event",
            "event_type": event_type,
            "id": str(uuid.uuid4()),
            "occurred_at": iso(occurred_at),
            "payload": {
                "call_control_id": f"v3:{session}-leg",
                "call_leg_id": payload.pop("call_leg_id", f"{session}-leg"),
                "call_session_id": session,
                "connection_id": "7267xxxxxxxxxxxxxx",
                "client_state": None,
                **payload,
            },
        }
        self.sent.append(data)
        return data

    def call(self, session, caller, called, start, talk=80, ring=5, cause="normal_clearing"):
        """The events of one inbound call: initiated, answered (unless
        missed), hangup."""
        events = [
            self.event(
                "call.initiated",
                session,
                start,
                direction="incoming",
                state="parked",
                start_time=iso(start),
                **{"from": caller, "to": called},
            )
        ]
        end = start + timedelta(seconds=ring + talk)
        if cause == "normal_clearing":
            events.append(
                self.event(
                    "call.answered",
                    session,
                    start + timedelta(seconds=ring),
                    start_time=iso(start),
                    **{"from": caller, "to": called},
                )
            )
        else:
            end = start + timedelta(seconds=ring)
        events.append(
            self.event(
                "call.hangup",
                session,
                end,
                start_time=iso(start),
                end_time=iso(end),
                state="hangup",
                hangup_cause=cause,
                hangup_source="caller",
                sip_hangup_cause="unspecified",
                **{"from": caller, "to": called},
            )
        )
        return events

    def request(self, data, signed_at=None, key=None, body=None):
        """``(body, headers)`` of the webhook of ``data``, signed at
        ``signed_at`` (default: now) with ``key`` (default: the account's)."""
        body = body if body is not None else json.dumps({"data": data, "meta": {"attempt": 1}})
        body = body.encode() if isinstance(body, str) else body
        signed_at = signed_at or datetime.now(UTC)
        if signed_at.tzinfo is None:
            signed_at = signed_at.replace(tzinfo=UTC)
        timestamp = str(int(signed_at.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "telnyx-timestamp": timestamp,
            "telnyx-signature-ed25519": telnyx_sign(key or self.private_key, timestamp, body),
        }
        return body, headers

    def request_data(self, data, token="token", **kwargs):
        """The ``request_data`` the webhook controller builds for it."""
        body, headers = self.request(data, **kwargs)
        return {
            "method": "POST",
            "url_base": "http://localhost",
            "url_path": f"/call_tracking/webhook/{token}",
            "headers": headers,
            "body": body,
            "form": [],
            "query": [],
            "remote_addr": "127.0.0.1",
        }


class TelnyxApiStandIn:
    """Telnyx's REST API on loopback, answering from ``events`` (data
    envelopes, e.g. a :class:`TelnyxSender`'s ``sent``)."""

    def __init__(self, events=(), api_key="KEYtest"):
        self.events = list(events)
        self.api_key = api_key
        self.recordings = {}  # path -> (content type, bytes)
        self.session_recordings = {}  # call_session_id -> path under /recordings/
        self.requests = []
        self.fail_next = []  # statuses (or raw bodies) of the next answers
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def _send(self, status, content_type, data):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                split = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(split.query).items()}
                with standin.lock:
                    standin.requests.append(
                        {"path": split.path, "query": query, "headers": dict(self.headers.items())}
                    )
                    failure = standin.fail_next.pop(0) if standin.fail_next else None
                if failure is not None:
                    if isinstance(failure, int):
                        self._send(failure, "application/json", b'{"errors": [{"title": "x"}]}')
                    else:
                        self._send(200, "application/json", failure)
                    return
                if split.path.startswith("/recordings/"):
                    content_type, data = standin.recordings.get(split.path, (None, None))
                    if data is None:
                        self._send(403, "application/xml", b"<Error>Request has expired</Error>")
                    else:
                        self._send(200, content_type, data)
                    return
                if split.path not in ("/v2/call_events", "/v2/recordings"):
                    self._send(404, "application/json", b"{}")
                    return
                if self.headers.get("Authorization") != f"Bearer {standin.api_key}":
                    self._send(401, "application/json", b'{"errors": [{"title": "Unauthorized"}]}')
                    return
                if split.path == "/v2/recordings":
                    answer = standin.recordings_page(query)
                else:
                    answer = standin.page(query)
                self._send(200, "application/json", json.dumps(answer).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = f"{self.url}/v2"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, query):
        """One page of List call events, as Telnyx documents it."""
        since = query.get("filter[occurred_at][gte]")
        records = [
            {
                "record_type": "call_event",
                "call_leg_id": data["payload"]["call_leg_id"],
                "call_session_id": data["payload"]["call_session_id"],
                "event_timestamp": data["occurred_at"],
                "name": data["event_type"],
                "type": "webhook",
                # "Event metadata, which includes raw event"
                "metadata": data,
            }
            for data in self.events
            if not since or data["occurred_at"] >= since.replace("Z", "")
        ]
        records.sort(key=lambda record: record["event_timestamp"])
        number = int(query.get("page[number]") or 1)
        size = int(query.get("page[size]") or 20)
        total_pages = max((len(records) + size - 1) // size, 1)
        return {
            "data": records[(number - 1) * size : number * size],
            "meta": {
                "total_pages": total_pages,
                "total_results": len(records),
                "page_number": number,
                "page_size": size,
            },
        }

    def recordings_page(self, query):
        """List all call recordings, filtered by call session."""
        session = query.get("filter[call_session_id]")
        path = self.session_recordings.get(session)
        data = []
        if path:
            data.append(
                {
                    "record_type": "recording",
                    "id": str(uuid.uuid4()),
                    "call_session_id": session,
                    "channels": "single",
                    "status": "completed",
                    "download_urls": {"mp3": f"{self.url}{path}?X-Amz-Expires=600"},
                }
            )
        meta = {"total_pages": 1, "total_results": len(data), "page_number": 1, "page_size": 20}
        return {"data": data, "meta": meta}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
