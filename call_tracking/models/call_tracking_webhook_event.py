import base64
import json
import logging
from urllib.parse import parse_qsl

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .call_tracking_provider import (
    KEPT_HEADERS,
    MAX_BODY_BYTES,
    WebhookError,
    WebhookSignatureError,
)

_logger = logging.getLogger(__name__)

# the headers kept in the inbox, compared lower-cased (HTTP names are not
# case-sensitive)
KEPT_HEADERS_LOWER = frozenset(name.lower() for name in KEPT_HEADERS)


class CallTrackingWebhookEvent(models.Model):
    """Raw inbox of provider webhooks: every request is stored before it is
    parsed, so nothing a provider sent is ever lost, and an entry can be
    processed again once the cause of its failure is fixed."""

    _name = "call.tracking.webhook.event"
    _description = "Call Tracking Webhook Event"
    _order = "received_at desc, id desc"
    _rec_name = "received_at"

    provider_id = fields.Many2one(
        "call.tracking.provider", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(
        related="provider_id.company_id", store=True, index=True, readonly=True, precompute=True
    )
    received_at = fields.Datetime(required=True, readonly=True, index=True)
    method = fields.Char(readonly=True)
    url = fields.Char(string="URL", readonly=True)
    remote_addr = fields.Char(string="Remote Address", readonly=True)
    headers = fields.Text(readonly=True, help="The headers relevant to parsing and signatures.")
    raw_body = fields.Binary(attachment=False, readonly=True, help="The exact bytes received.")
    body = fields.Text(compute="_compute_body")
    body_truncated = fields.Boolean(readonly=True)
    state = fields.Selection(
        [
            ("received", "Received"),
            ("processed", "Processed"),
            ("rejected", "Rejected"),
            ("error", "Error"),
        ],
        required=True,
        default="received",
        index=True,
        readonly=True,
    )
    error_message = fields.Text(readonly=True)
    provider_call_id = fields.Char(string="Provider Call ID", readonly=True, index="btree_not_null")
    event_type = fields.Char(readonly=True)
    call_id = fields.Many2one(
        "call.tracking.call",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
    )
    processed_at = fields.Datetime(readonly=True)

    @api.depends("raw_body")
    def _compute_body(self):
        # the web client reads with bin_size=True, which turns binary values
        # into their human size ("1.2 Kb"): read the bytes themselves
        for event in self.with_context(bin_size=False):
            raw = base64.b64decode(event.raw_body) if event.raw_body else b""
            event.body = raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")

    # ------------------------------------------------------------------
    # Creation from a request
    # ------------------------------------------------------------------

    @api.model
    def _create_from_request(self, provider, request_data):
        body = request_data.get("body") or b""
        headers = request_data.get("headers") or {}
        kept = {
            name: str(value)[:1024]
            for name, value in headers.items()
            if name.lower() in KEPT_HEADERS_LOWER
        }
        return self.create(
            {
                "provider_id": provider.id,
                "received_at": fields.Datetime.now(),
                "method": (request_data.get("method") or "")[:16],
                "url": (request_data.get("url") or "")[:2048],
                "remote_addr": (request_data.get("remote_addr") or "")[:64],
                "headers": json.dumps(kept, indent=1, sort_keys=True),
                "raw_body": base64.b64encode(body[:MAX_BODY_BYTES]),
                "body_truncated": len(body) > MAX_BODY_BYTES,
            }
        )

    def _request_data(self):
        """Rebuild the request_data of the stored request (for reprocessing)."""
        self.ensure_one()
        raw_body = self.with_context(bin_size=False).raw_body
        body = base64.b64decode(raw_body) if raw_body else b""
        headers = json.loads(self.headers or "{}")
        content_type = next(
            (value for name, value in headers.items() if name.lower() == "content-type"), ""
        )
        form = []
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        query = []
        if "?" in (self.url or ""):
            query = parse_qsl(self.url.split("?", 1)[1], keep_blank_values=True)
        return {
            "method": self.method,
            "url": self.url,
            "headers": headers,
            "body": body,
            "form": form,
            "query": query,
            "remote_addr": self.remote_addr,
        }

    def _mark(self, state, message=False):
        self.write({"state": state, "error_message": message or False})

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------

    def _process(self, request_data=None):
        """Parse the stored request and apply its events; return
        ``(status, body, content_type)``. The processing runs in a savepoint:
        when it fails, only the processing is rolled back and the entry
        keeps the error."""
        self.ensure_one()
        provider = self.provider_id
        request_data = request_data or self._request_data()
        if self.body_truncated:
            return self._fail(400, self.env._("The body is too large."))
        try:
            with self.env.cr.savepoint():
                events = provider._parse_events(request_data)
                calls = self.env["call.tracking.call"]._process_webhook_events(provider, events)
        except WebhookError as exc:
            return self._fail(exc.status, exc.reason)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            # Let Odoo retry the whole request in a new transaction.
            raise
        except Exception as exc:  # the raw event must survive any processing failure
            _logger.exception("Call tracking webhook event %s failed", self.id)
            # the details stay in the inbox entry and the log: the provider
            # only learns that processing failed (no internals in the answer)
            self._mark("error", self.env._("Processing failed: %s", exc))
            return self._answer_error(500, self.env._("Processing failed."))
        first = events[0] if events else {}
        self.write(
            {
                "state": "processed",
                "error_message": False,
                "processed_at": fields.Datetime.now(),
                "call_id": calls[:1].id,
                "provider_call_id": str(first.get("call_id") or "")[:255] or False,
                "event_type": ", ".join(sorted({e.get("event") or "" for e in events}))[:64],
            }
        )
        return provider._webhook_response(events)

    def _fail(self, status, reason):
        self._mark("error", reason)
        return self._answer_error(status, reason)

    @api.model
    def _answer_error(self, status, reason):
        return status, json.dumps({"error": reason}), "application/json"

    def action_reprocess(self):
        """Verify and process the stored request again.

        Only who may write the entries (call tracking managers, through the
        access rights and the company rules) may reprocess them; the
        processing itself then runs in sudo, as for the provider's request.
        """
        self.check_access("write")
        events_sudo = self.sudo()
        for event_sudo in events_sudo:
            try:
                event_sudo.provider_id._verify_request(event_sudo._request_data())
            except WebhookSignatureError as exc:
                event_sudo._mark("rejected", exc.reason)
                continue
            event_sudo._process()
        return True
