"""Real HTTP servers on loopback standing in for the telephony providers'
REST APIs, following their documented formats (see
docs/admin/telephony-binotel.rst and docs/admin/reconciliation.rst).

Each keeps the calls it knows in its own format (``calls``), checks the
credentials as the provider does, and records every request
(``requests``). ``down = True`` makes it answer 503; ``override = (status,
body)`` makes it answer that to everything (an answer of any shape);
``delay`` seconds are waited before answering (a slow API).
"""

import base64
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from odoo.tests.common import _super_send

from ..models.call_tracking_provider_generic import generic_signature
from ..tools.zadarma import api_signature

AUDIO = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64


class LoopbackMixin:
    """Requests to the loopback stand-ins go out as sent (Odoo's test
    runner blocks other hosts and stretches short timeouts); the guard may
    contact the loopback (``call_tracking.outbound_allowed_networks``)."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if urlsplit(r.url).hostname == "127.0.0.1":
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def _allow_loopback(cls, env):
        env["ir.config_parameter"].sudo().set_param(
            "call_tracking.outbound_allowed_networks", "127.0.0.0/8"
        )


class ApiStandIn:
    def __init__(self):
        self.calls = []
        self.requests = []
        self.down = False
        self.override = None
        self.delay = 0
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                request = {
                    "method": self.command,
                    "path": split.path,
                    "query": dict(parse_qsl(split.query, keep_blank_values=True)),
                    "raw_query": split.query,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
                with standin.lock:
                    standin.requests.append(request)
                if standin.delay:
                    time.sleep(standin.delay)
                if standin.down:
                    status, data, headers = 503, b"Service Unavailable", {}
                elif standin.override:
                    status, data = standin.override
                    headers = {}
                else:
                    status, data, headers = standin.handle(request)
                if isinstance(data, (dict, list)):
                    data = json.dumps(data).encode()
                elif isinstance(data, str):
                    data = data.encode()
                try:
                    self.send_response(status)
                    headers = {"Content-Type": "application/json", **headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        self.calls, self.requests = [], []
        self.down, self.override, self.delay = False, None, 0

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request):
        return 404, {"error": "not found"}, {}


def to_unix(moment):
    return int(moment.replace(tzinfo=UTC).timestamp())


class BinotelApi(ApiStandIn):
    """Binotel's REST API 4.0: ``POST /api/4.0/<method>.json``, JSON body
    with ``key`` and ``secret``; ``callDetails`` keyed by generalCallID."""

    def __init__(self, key, secret):
        super().__init__()
        self.key, self.secret = key, secret

    def handle(self, request):
        path = request["path"]
        if path.startswith("/rec/"):
            return 200, AUDIO, {"Content-Type": "audio/mpeg"}
        try:
            params = json.loads(request["body"] or b"{}")
        except ValueError:
            return 400, {"status": "error", "message": "Bad request"}, {}
        if params.get("key") != self.key or params.get("secret") != self.secret:
            return 200, {"status": "error", "code": 120, "message": "Wrong key or secret"}, {}
        by_id = {str(c["generalCallID"]): c for c in self.calls}
        if path == "/api/4.0/stats/call-details.json":
            ids = [str(i) for i in params.get("generalCallID") or []]
            found = {i: by_id[i] for i in ids if i in by_id}
            return 200, {"status": "success", "callDetails": found}, {}
        if path == "/api/4.0/stats/incoming-calls-for-period.json":
            start, stop = int(params["startTime"]), int(params["stopTime"])
            found = {
                str(c["generalCallID"]): c
                for c in self.calls
                if str(c.get("callType")) == "0" and start <= int(c["startTime"]) <= stop
            }
            return 200, {"status": "success", "callDetails": found}, {}
        if path == "/api/4.0/stats/call-record.json":
            call_id = str(params.get("generalCallID"))
            if call_id not in by_id:
                return 200, {"status": "error", "code": 404, "message": "Record not found"}, {}
            return 200, {"status": "success", "url": f"{self.url}/rec/{call_id}.mp3?t=tmp"}, {}
        return 404, {"status": "error", "message": "Unknown method"}, {}

    @staticmethod
    def details(call_id, start, caller, called, billsec=80, disposition="ANSWER", **extra):
        return {
            "companyID": "1",
            "generalCallID": str(call_id),
            "callID": str(call_id) + "1",
            "startTime": str(to_unix(start)),
            "callType": "0",
            "waitsec": "5",
            "billsec": str(billsec),
            "disposition": disposition,
            "isNewCall": "1",
            "externalNumber": caller,
            "pbxNumberData": {"number": called, "name": "Tracking"},
            "employeeData": {"name": "Operator", "email": "op@example.com"},
            "historyData": [],
            "recordingStatus": "uploaded",
            **extra,
        }


class TwilioApi(ApiStandIn):
    """Twilio's ``GET /2010-04-01/Accounts/{sid}/Calls.json`` (basic auth,
    ``StartTime>``/``StartTime<``, ``PageSize``, ``next_page_uri``)."""

    def __init__(self, sid, token):
        super().__init__()
        self.sid, self.token = sid, token

    def handle(self, request):
        expected = "Basic " + base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        if request["headers"].get("authorization") != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}, {}
        if request["path"] != f"/2010-04-01/Accounts/{self.sid}/Calls.json":
            return 404, {"code": 20404, "message": "Not found", "status": 404}, {}
        query = request["query"]
        after = datetime.strptime(query["StartTime>"], "%Y-%m-%dT%H:%M:%SZ")
        before = datetime.strptime(query["StartTime<"], "%Y-%m-%dT%H:%M:%SZ")
        size = int(query.get("PageSize", 50))
        page = int(query.get("Page", 0))
        calls = [c for c in self.calls if after <= c["_start"] <= before]
        chunk = calls[page * size : (page + 1) * size]
        next_uri = None
        if (page + 1) * size < len(calls):
            params = {**query, "Page": page + 1, "PageToken": f"PA{page + 1}"}
            next_uri = f"{request['path']}?{urlencode(params)}"
        body = {
            "calls": [{k: v for k, v in c.items() if not k.startswith("_")} for c in chunk],
            "page": page,
            "page_size": size,
            "next_page_uri": next_uri,
            "uri": request["path"],
        }
        return 200, body, {}

    @staticmethod
    def call(sid, start, caller, called, duration=80, status="completed"):
        from datetime import timedelta
        from email.utils import format_datetime

        return {
            "_start": start,
            "sid": sid,
            "from": caller,
            "to": called,
            "status": status,
            "direction": "inbound",
            "start_time": format_datetime(start.replace(tzinfo=UTC)),
            "end_time": format_datetime((start + timedelta(seconds=duration)).replace(tzinfo=UTC)),
            "duration": str(duration),
        }


class ZadarmaApi(ApiStandIn):
    """Zadarma's ``GET /v1/statistics/pbx/`` (signed Authorization header,
    ``start``/``end`` in the PBX time zone, here UTC; ``skip``/``limit``)."""

    def __init__(self, key, secret):
        super().__init__()
        self.key, self.secret = key, secret

    def handle(self, request):
        if request["path"] != "/v1/statistics/pbx/":
            return 404, {"status": "error", "message": "Not found"}, {}
        query = request["query"]
        signature = api_signature(self.secret, request["path"], query)
        if request["headers"].get("authorization") != f"{self.key}:{signature}":
            return 401, {"status": "error", "message": "Not authorized"}, {}
        start = datetime.strptime(query["start"], "%Y-%m-%d %H:%M:%S")
        end = datetime.strptime(query["end"], "%Y-%m-%d %H:%M:%S")
        skip, limit = int(query.get("skip", 0)), min(int(query.get("limit", 1000)), 1000)
        rows = [
            r
            for r in self.calls
            if start <= datetime.strptime(r["callstart"], "%Y-%m-%d %H:%M:%S") <= end
        ]
        return (
            200,
            {
                "status": "success",
                "start": query["start"],
                "end": query["end"],
                "stats": rows[skip : skip + limit],
            },
            {},
        )

    @staticmethod
    def row(call_id, start, caller, called, seconds=80, disposition="answered"):
        return {
            "call_id": call_id + ".1",
            "pbx_call_id": call_id,
            "callstart": start.strftime("%Y-%m-%d %H:%M:%S"),
            "clid": caller.lstrip("+"),
            "destination": called.lstrip("+"),
            "disposition": disposition,
            "seconds": seconds,
            "is_recorded": "false",
            "call_type": "in",
        }


class GenericPull(ApiStandIn):
    """The generic pull contract: ``GET /history?since&until[&cursor]``,
    signed query; answer ``{"events": [...], "next_cursor": ...}`` signed
    over its body."""

    page_size = 7

    def __init__(self, secret):
        super().__init__()
        self.secret = secret

    def handle(self, request):
        expected = generic_signature(self.secret, request["raw_query"].encode())
        if request["headers"].get("x-call-tracking-signature") != expected:
            return 403, {"error": "bad signature"}, {}
        query = request["query"]
        since = datetime.strptime(query["since"], "%Y-%m-%dT%H:%M:%SZ")
        until = datetime.strptime(query["until"], "%Y-%m-%dT%H:%M:%SZ")
        events = [
            e
            for e in self.calls
            if since <= datetime.strptime(e["start"], "%Y-%m-%dT%H:%M:%SZ") <= until
        ]
        offset = int(query.get("cursor") or 0)
        page = events[offset : offset + self.page_size]
        more = offset + self.page_size < len(events)
        body = json.dumps(
            {"events": page, "next_cursor": str(offset + self.page_size) if more else None}
        ).encode()
        return 200, body, {"X-Call-Tracking-Signature": generic_signature(self.secret, body)}
