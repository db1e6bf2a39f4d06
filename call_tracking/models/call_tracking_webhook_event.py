import base64
import json
import logging
from urllib.parse import parse_qsl

from psycopg2.errors import UniqueViolation

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..const import MAX_BODY_BYTES, REJECTED_BODY_BYTES, SIGNED_KEY_CONSTRAINT
from ..exceptions import (
    WebhookBodyTooLargeError,
    WebhookError,
    WebhookProcessingError,
    WebhookSignatureError,
)
from ..tools.retention import purge_batch

_logger = logging.getLogger(__name__)

PURGE_BATCH = 10000
# the headers kept in the inbox, compared lower-cased (HTTP names are not
# case-sensitive)
KEPT_HEADERS_LOWER = frozenset(
    name.lower()
    for name in (
        "Content-Type",
        "Content-Length",
        "User-Agent",
        "X-Call-Tracking-Signature",
        "X-Twilio-Signature",
        "I-Twilio-Idempotency-Token",
        "Signature",
        "telnyx-signature-ed25519",
        "telnyx-timestamp",
        "X-Forwarded-For",
        "X-Forwarded-Host",
        "X-Forwarded-Proto",
    )
)


def _caused(error, cause):
    """``error`` raised later ``from cause``."""
    error.__cause__ = cause
    return error


class CallTrackingWebhookEvent(models.Model):
    """Raw inbox of provider webhooks: every request is stored whatever its
    parsing and processing do, so nothing a provider sent is ever lost, and
    an entry can be processed again once the cause of its failure is fixed."""

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
    url_base = fields.Char(
        string="Received Base URL",
        readonly=True,
        help="Scheme and host the request reached, as Odoo saw it (behind a proxy in "
        "proxy_mode: the public one). Signatures are checked against it and against the "
        "provider's public base URL.",
    )
    url_path = fields.Char(string="Path", readonly=True, help="Path and query string.")
    url = fields.Char(string="URL", compute="_compute_url")
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

    @api.depends("url_base", "url_path")
    def _compute_url(self):
        for event in self:
            event.url = f"{event.url_base or ''}{event.url_path or ''}" or False

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
    def _prepare_request_values(self, provider, request_data, max_body=MAX_BODY_BYTES):
        body = request_data.get("body") or b""
        headers = request_data.get("headers") or {}
        kept = {
            name: str(value)[:1024]
            for name, value in headers.items()
            if name.lower() in KEPT_HEADERS_LOWER
        }
        return {
            "provider_id": provider.id,
            "received_at": request_data.get("received_at") or fields.Datetime.now(),
            "method": (request_data.get("method") or "")[:16],
            "url_base": (request_data.get("url_base") or "")[:512],
            "url_path": (request_data.get("url_path") or "")[:2048],
            "remote_addr": (request_data.get("remote_addr") or "")[:64],
            "headers": json.dumps(kept, indent=1, sort_keys=True),
            "raw_body": base64.b64encode(body[:max_body]),
            "body_truncated": len(body) > max_body,
        }

    @api.model
    def _create_rejected(self, provider, request_data, reason):
        """The inbox entry of a request refused for its signature: only the
        first few KB of its body are kept (flagged truncated)."""
        values = self._prepare_request_values(provider, request_data, max_body=REJECTED_BODY_BYTES)
        return self.create({**values, "state": "rejected", "error_message": reason})

    def _get_request_data(self):
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
        if "?" in (self.url_path or ""):
            query = parse_qsl(self.url_path.split("?", 1)[1], keep_blank_values=True)
        return {
            "method": self.method,
            "url_base": self.url_base,
            "url_path": self.url_path,
            "headers": headers,
            "body": body,
            "form": form,
            "query": query,
            "remote_addr": self.remote_addr,
            "received_at": self.received_at,
        }

    def _mark(self, state, message=False):
        self.write({"state": state, "error_message": message or False})

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------

    @api.model
    def _create_and_process(self, provider, request_data):
        """Process a verified request and store its inbox entry with the
        outcome, in one insert; return ``(entry, events)``.

        The processing runs in a savepoint, so the entry is stored whatever
        the processing does: when it fails, only the processing is rolled
        back, the entry keeps the error and the ``WebhookError`` is raised
        again for the caller to answer. As when the entry was inserted
        first, the entry and the processing are committed together, and
        both are rolled back only when Odoo retries the whole request after
        a concurrency error."""
        values = self._prepare_request_values(provider, request_data)
        events, outcome, error = self._run_processing(
            provider, request_data, values["body_truncated"]
        )
        entry = self.create({**values, **outcome})
        if error:
            raise error from error.__cause__
        return entry, events

    def _process(self, request_data=None):
        """Parse the stored, verified request and apply its events; return
        the events. The processing runs in a savepoint: when it fails, only
        the processing is rolled back, the entry keeps the error and the
        ``WebhookError`` is raised again for the caller to answer."""
        self.ensure_one()
        request_data = request_data or self._get_request_data()
        events, outcome, error = self._run_processing(
            self.provider_id, request_data, self.body_truncated
        )
        self.write(outcome)
        if error:
            raise error from error.__cause__
        return events

    @api.model
    def _run_processing(self, provider, request_data, body_truncated=False):
        """Parse a verified request and apply its events in a savepoint:
        ``(events, the entry's outcome values, None)``, or after a failure
        (rolled back to the savepoint) ``([], the entry's error values, the
        WebhookError to raise)``."""
        try:
            if body_truncated:
                raise WebhookBodyTooLargeError(
                    self.env._("The body was not kept whole: it cannot be processed.")
                )
            with self.env.cr.savepoint():
                events = self._parse_request(provider, request_data)
                calls = self.env["call.tracking.call"]._process_webhook_events(provider, events)
        except WebhookError as exc:
            state = "rejected" if isinstance(exc, WebhookSignatureError) else "error"
            return [], {"state": state, "error_message": exc.reason}, exc
        except UniqueViolation as exc:
            if exc.diag.constraint_name != SIGNED_KEY_CONSTRAINT:
                # another unique constraint, e.g. a UTM source created by a
                # concurrent request: a failure to retry, not a refusal
                return self._processing_failed(provider, exc)
            # two provider call ids for the same signed values (Zadarma)
            reason = self.env._("Another call already carries the same signed values.")
            return (
                [],
                {"state": "rejected", "error_message": reason},
                _caused(WebhookSignatureError(reason), exc),
            )
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            # Let Odoo retry the whole request in a new transaction.
            raise
        # the raw event must survive any processing failure (logged there)
        except Exception as exc:  # noqa: BLE001
            return self._processing_failed(provider, exc)
        first = events[0] if events else {}
        outcome = {
            "state": "processed",
            "error_message": False,
            "processed_at": fields.Datetime.now(),
            "call_id": calls[:1].id,
            "provider_call_id": str(first.get("call_id") or "")[:255] or False,
            "event_type": ", ".join(sorted({e.get("event") or "" for e in events}))[:64],
        }
        return events, outcome, None

    @api.model
    def _parse_request(self, provider, request_data):
        """The normalised events of a verified request: the provider's
        kind reads them (hook: requests of other sources, such as the
        calls a reconciliation fetched from a provider's API)."""
        return provider._parse_webhook_events(request_data)

    def _processing_failed(self, provider, exc):
        """The outcome of an unexpected processing failure: logged, kept on
        the inbox entry (state error), answered 500 so the provider retries."""
        _logger.exception(
            "Call tracking webhook event %s of provider %s failed",
            self.id or "(new)",
            provider.id,
        )
        # the details stay in the inbox entry and the log: the provider
        # only learns that processing failed (no internals in the answer)
        values = {"state": "error", "error_message": self.env._("Processing failed: %s", exc)}
        error = WebhookProcessingError(self.env._("Processing failed."))
        return [], values, _caused(error, exc)

    def action_reprocess(self):
        """Verify and process the stored requests again.

        The signature is checked again with the provider's current secret and
        public base URL (and the base the request reached): an entry rejected
        because of a wrong setting is recovered once the setting is fixed.
        Only who may write the entries (call tracking managers, through the
        access rights and the company rules) may reprocess them; the
        processing itself then runs in sudo, as for the provider's request.
        """
        self.check_access("write")
        for event_sudo in self.sudo():
            request_data = event_sudo._get_request_data()
            try:
                if event_sudo.body_truncated:
                    raise WebhookBodyTooLargeError(
                        self.env._("The body was not kept whole: it cannot be verified.")
                    )
                event_sudo.provider_id._verify_webhook(request_data)
            except WebhookSignatureError as exc:
                event_sudo._mark("rejected", exc.reason)
                continue
            except WebhookError as exc:
                event_sudo._mark("error", exc.reason)
                continue
            try:
                event_sudo._process(request_data)
            except WebhookError:
                continue  # the entry keeps the reason (see _process)
        return True

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _cron_purge(self, batch_size=PURGE_BATCH):
        """Delete the inbox entries older than their company's retention,
        one batch per run; the cron is re-triggered while some remain."""
        self.env["res.company"].flush_model(["call_tracking_webhook_retention_days"])
        return purge_batch(
            self,
            SQL(
                """
                SELECT e.id
                  FROM call_tracking_webhook_event e
                  JOIN res_company c ON c.id = e.company_id
                 WHERE e.received_at < (now() AT TIME ZONE 'UTC')
                           - c.call_tracking_webhook_retention_days * interval '1 day'
                """
            ),
            batch_size,
            "old webhook inbox entries",
        )
