"""The inbox, second source: calls fetched from a provider's API
(reconciliation), and requests awaiting their confirmation by the API.

An entry fetched from an API stores the normalised events as JSON, sealed
with an HMAC keyed by the database secret (``database.secret``), so that
reprocessing it trusts only what the reconciliation itself stored.
"""

import hashlib
import hmac
import json
import logging

from odoo import api, fields, models

from ..exceptions import (
    WebhookConfirmationPending,
    WebhookError,
    WebhookPayloadError,
    WebhookSignatureError,
)
from .call_tracking_call import EVENT_TYPES

_logger = logging.getLogger(__name__)

API_METHOD = "API"
API_SEAL_HEADER = "X-Call-Tracking-Signature"
# the keys of a normalised event an API entry may carry
API_EVENT_KEYS = frozenset(
    {
        "event",
        "call_id",
        "from",
        "to",
        "start",
        "answer",
        "end",
        "duration",
        "talk_duration",
        "status",
        "recording_url",
        "provider_attribution",
    }
)
DATETIME_KEYS = ("start", "answer", "end")
CONFIRM_BATCH = 200


class CallTrackingWebhookEvent(models.Model):
    _inherit = "call.tracking.webhook.event"

    source = fields.Selection(
        [("webhook", "Webhook"), ("api", "Provider API")],
        required=True,
        default="webhook",
        index=True,
        readonly=True,
        help="Webhook: a request the provider sent. Provider API: a call the "
        "reconciliation fetched from the provider's call history.",
    )
    state = fields.Selection(
        selection_add=[("pending", "Awaiting Confirmation")],
        ondelete={"pending": "set default"},
    )
    confirm_attempts = fields.Integer(
        readonly=True, help="How many times the provider's API was asked to confirm the event."
    )

    # ------------------------------------------------------------------
    # Entries of the API source
    # ------------------------------------------------------------------

    @api.model
    def _api_seal(self, body):
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret") or ""
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return f"sha256={digest}"

    @api.model
    def _api_request_data(self, provider, events):
        """The request_data of an entry holding ``events`` (normalised,
        fetched from ``provider``'s API)."""
        serialised = [
            {
                key: fields.Datetime.to_string(value) if key in DATETIME_KEYS and value else value
                for key, value in event.items()
                if key in API_EVENT_KEYS
            }
            for event in events
        ]
        body = json.dumps({"events": serialised}, sort_keys=True).encode()
        return {
            "method": API_METHOD,
            "url_base": "",
            "url_path": "",
            "headers": {"Content-Type": "application/json", API_SEAL_HEADER: self._api_seal(body)},
            "body": body,
            "form": [],
            "query": [],
            "remote_addr": "",
            "received_at": fields.Datetime.now(),
            "source": "api",
        }

    @api.model
    def _create_from_api(self, provider, events):
        """Store and process the events of one call fetched from the API;
        return the entry (its state says the outcome: the processing runs
        in a savepoint, a failure is kept on the entry)."""
        request_data = self._api_request_data(provider, events)
        values = self._prepare_request_values(provider, request_data)
        # several entries per transaction: each savepoint is released
        _events, outcome, _error = self._run_processing(provider, request_data, release=True)
        return self._insert_entry(provider, {**values, **outcome})

    @api.model
    def _prepare_request_values(self, provider, request_data, max_body=None):
        if max_body is None:
            values = super()._prepare_request_values(provider, request_data)
        else:
            values = super()._prepare_request_values(provider, request_data, max_body=max_body)
        values["source"] = "api" if request_data.get("source") == "api" else "webhook"
        return values

    def _get_request_data(self):
        request_data = super()._get_request_data()
        request_data["source"] = self.source
        return request_data

    @api.model
    def _parse_request(self, provider, request_data):
        if request_data.get("source") != "api":
            if self.env.context.get("call_tracking_test_call"):
                # the Test call button's request (see _make_test_call)
                provider = provider.with_context(call_tracking_test_call=True)
            return super()._parse_request(provider, request_data)
        return self._parse_api_events(request_data)

    @api.model
    def _parse_api_events(self, request_data):
        """The events an API entry stored, once its seal is verified."""
        _ = self.env._
        body = request_data.get("body") or b""
        headers = {k.lower(): v for k, v in (request_data.get("headers") or {}).items()}
        seal = (headers.get(API_SEAL_HEADER.lower()) or "").encode()
        if not hmac.compare_digest(seal, self._api_seal(body).encode()):
            raise WebhookSignatureError(_("The stored API events were changed: not processed."))
        try:
            payload = json.loads(body.decode())
        except ValueError as exc:
            raise WebhookPayloadError(_("The stored API events are not JSON.")) from exc
        events = []
        for item in payload.get("events") or []:
            if not isinstance(item, dict) or item.get("event") not in EVENT_TYPES:
                raise WebhookPayloadError(_("A stored API event is malformed."))
            event = dict(item)
            for key in DATETIME_KEYS:
                if event.get(key):
                    event[key] = fields.Datetime.to_datetime(event[key])
            events.append(event)
        return events

    # ------------------------------------------------------------------
    # Confirmation by the provider's API
    # ------------------------------------------------------------------

    @api.model
    def _run_processing(self, provider, request_data, body_truncated=False, release=True):
        events, outcome, error = super()._run_processing(
            provider, request_data, body_truncated=body_truncated
        )
        if isinstance(error, WebhookConfirmationPending):
            # kept, awaiting the API: neither an error for the provider to
            # retry nor a processed event
            outcome = {
                **outcome,
                "state": "pending",
                "confirm_attempts": (self.confirm_attempts if len(self) == 1 else 0) + 1,
            }
            if error.call_id:
                outcome["provider_call_id"] = str(error.call_id)[:255]
            return [], outcome, None
        return events, outcome, error

    def action_reprocess(self):
        """API entries are processed again from what they stored (their seal
        is checked); the others are verified and processed as requests."""
        self.check_access("write")
        api_entries = self.filtered(lambda e: e.source == "api")
        for event_sudo in api_entries.sudo():
            try:
                event_sudo._process()
            except WebhookError:
                continue  # the entry keeps the reason
        return super(CallTrackingWebhookEvent, self - api_entries).action_reprocess()

    @api.model
    def _cron_confirm_pending(self, batch_size=CONFIRM_BATCH):
        """Ask the providers' APIs again to confirm the entries awaiting
        confirmation, oldest first. A provider whose API is still
        unreachable is left for the next run after its first failure (one
        timeout per provider and run, not one per entry)."""
        entries = self.search(
            [("state", "=", "pending")], order="received_at, id", limit=batch_size
        )
        down = set()
        done = 0
        for entry in entries:
            if entry.provider_id.id in down:
                continue
            try:
                # in the provider's company, as the webhook processes it
                entry.with_company(entry.company_id)._process()
            except WebhookError as exc:
                # rejected or failed: the entry keeps the reason
                _logger.info(
                    "call_tracking: inbox entry %s not confirmed: %s", entry.id, exc.reason
                )
            done += 1
            if entry.state == "pending":
                down.add(entry.provider_id.id)
        remaining = self.search_count([("state", "=", "pending")]) if not down else 0
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        _logger.info("call_tracking: %s inbox entries asked for confirmation", done)
        return done
