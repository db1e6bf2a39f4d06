"""Binotel (the cloud PBX most Ukrainian companies use).

Followed Binotel's developer documentation (https://developers.binotel.ua/:
"WebHooks", "API CALL SETTINGS", "REST API", "REST API: STATS"); the
formats are summed up in ``tools/binotel.py``.

Binotel does not sign its requests, so a request is accepted only when:

* it reaches the provider's secret webhook URL (its token);
* it comes from an address of the provider's allow-list (prefilled with
  the servers Binotel's documentation lists; ``remote_addr`` is the
  address Odoo sees, the proxy's ``X-Forwarded-For`` only with Odoo's
  ``proxy_mode`` behind a trusted proxy);
* for a completed call (``hangupTheCall``, ``apiCallCompleted``), Binotel's
  REST API confirms it: ``stats/call-details`` by ``generalCallID`` with
  the company's API key and secret, and only the fields the API returns
  are used. When the API cannot be reached, the entry waits in the inbox
  ("Awaiting Confirmation") and a cron asks again: never dropped, never
  trusted unconfirmed. A call the API does not know is rejected.

``receivedTheCall`` and ``answeredTheCall`` (token and allow-list) open
the call while it rings, so its lead exists during the conversation; the
confirmed end must report the same caller, or it is rejected.
"""

import json
from datetime import UTC, timedelta
from urllib.parse import urlencode

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..exceptions import WebhookConfirmationPending, WebhookPayloadError, WebhookSignatureError
from ..tools import binotel, outbound
from ..tools.phone import caller_to_e164
from ..tools.webhook_parsing import parse_str
from .call_tracking_provider_reconcile import ReconcileError, ReconcileUnsupported

# Binotel's stats answer a period at once: the window is read an hour a page
BINOTEL_PAGE_SECONDS = 3600
# the API is asked within the provider's request: a short wait
BINOTEL_CONFIRM_TIMEOUT = 5
# how long a hangupTheCall waits for the call to reach Binotel's statistics
BINOTEL_HANGUP_GRACE = timedelta(hours=1)


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    kind = fields.Selection(
        selection_add=[("binotel", "Binotel")], ondelete={"binotel": "set default"}
    )
    binotel_allowed_ips = fields.Text(
        string="Allowed Addresses",
        default=lambda self: "\n".join(binotel.BINOTEL_SERVERS),
        tracking=True,
        help="Binotel: the addresses (or CIDR networks) requests may come from, one per "
        "line; prefilled with the servers Binotel publishes. Behind a reverse proxy, "
        "Odoo reads the caller's address from X-Forwarded-For only in proxy_mode.",
    )

    @api.constrains("binotel_allowed_ips")
    def _check_binotel_allowed_ips(self):
        for provider in self:
            _networks, invalid = binotel.parse_allow_list(provider.binotel_allowed_ips)
            if invalid:
                raise ValidationError(
                    self.env._("Not an address or a network: %s", ", ".join(invalid[:5]))
                )

    def _get_webhook_fetch_fields(self):
        return [*super()._get_webhook_fetch_fields(), "binotel_allowed_ips"]

    def _get_api_default_base_url(self):
        if self.kind == "binotel":
            return binotel.BINOTEL_API_URL
        return super()._get_api_default_base_url()

    # ------------------------------------------------------------------
    # Webhook
    # ------------------------------------------------------------------

    def _verify_webhook(self, request_data):
        if self.kind != "binotel":
            return super()._verify_webhook(request_data)
        networks, _invalid = binotel.parse_allow_list(self.binotel_allowed_ips)
        address = request_data.get("remote_addr") or ""
        if not binotel.address_allowed(address, networks):
            raise WebhookSignatureError(
                self.env._(
                    "The address %s is not in the provider's allowed addresses.", address[:64]
                )
            )

    def _parse_webhook_events(self, request_data):
        if self.kind != "binotel":
            return super()._parse_webhook_events(request_data)
        _ = self.env._
        params = binotel.parse_php_form(request_data.get("form") or [])
        if not params:
            raise WebhookPayloadError(_("Binotel requests are form-encoded POSTs."))
        request_type = params.get("requestType")
        if request_type in binotel.PROGRESS_TYPES:
            return self._binotel_progress_events(params, request_data)
        if request_type in binotel.COMPLETION_TYPES:
            details = params.get("callDetails") if request_type == "apiCallCompleted" else params
            if not isinstance(details, dict):
                raise WebhookPayloadError(_("'callDetails' is missing."))
            call_id = parse_str(self.env, details, "generalCallID", required=True, max_len=64)
            if self.env.context.get("call_tracking_test_call") and call_id.startswith("test-"):
                # the Test call button's own request, built in Odoo: there
                # is no such call in Binotel to confirm it
                event = binotel.details_to_event(details)
            else:
                event = self._binotel_confirm(call_id, request_type, request_data)
            if event is None:
                return []  # an outgoing call: not tracked
            self._binotel_check_same_call(event)
            return [event]
        if request_type == "transferredTheCall":
            return []  # the call goes on: its end is confirmed later
        raise WebhookPayloadError(_("Unknown requestType %r.", str(request_type or "")[:32]))

    def _binotel_progress_events(self, params, request_data):
        """The call start (``receivedTheCall``) or answer
        (``answeredTheCall``) of an incoming call, at the time received."""
        call_id = parse_str(self.env, params, "generalCallID", required=True, max_len=64)
        if binotel.as_text(params.get("callType")) not in (binotel.INCOMING, None):
            return []
        received_at = request_data.get("received_at") or fields.Datetime.now()
        if params["requestType"] == "answeredTheCall":
            # only for a call opened by its receivedTheCall: an answer alone
            # (an outgoing call, whose events carry no direction) opens none
            known = self.env["call.tracking.call"].search_count(
                [("provider_id", "=", self.id), ("provider_call_id", "=", call_id)], limit=1
            )
            if not known:
                return []
            return [{"event": "call_update", "call_id": call_id, "answer": received_at}]
        return [
            {
                "event": "call_start",
                "call_id": call_id,
                "from": parse_str(self.env, params, "externalNumber"),
                "to": binotel.called_number(params),
                "start": received_at,
            }
        ]

    def _binotel_check_same_call(self, event):
        """Refuse a confirmed end whose caller or called number is not the
        one the call was opened with (an earlier, unconfirmed
        receivedTheCall): the API's values are the ones trusted."""
        call = self.env["call.tracking.call"].search_fetch(
            [("provider_id", "=", self.id), ("provider_call_id", "=", event["call_id"])],
            ["caller_number", "called_number", "company_id"],
            limit=1,
        )
        for fname, key in (("caller_number", "from"), ("called_number", "to")):
            stored, raw = call[fname], event.get(key)
            if not stored or not raw or not stored.startswith("+"):
                continue
            country = self.env["res.country"] if raw.startswith("+") else self.company_id.country_id
            if caller_to_e164(raw, country) != stored:
                raise WebhookSignatureError(
                    self.env._(
                        "Binotel's API reports other numbers for call %s than its first event.",
                        event["call_id"],
                    )
                )

    def _get_webhook_answer(self, events):
        if self.kind != "binotel":
            return super()._get_webhook_answer(events)
        return "application/json", json.dumps({"status": "success"})

    # ------------------------------------------------------------------
    # REST API
    # ------------------------------------------------------------------

    def _binotel_api(self, method, params, timeout=None):
        """The JSON answer of Binotel's REST API ``method`` (e.g.
        ``stats/call-details``), raising ``outbound.OutboundError`` when it
        cannot be reached and ``ReconcileError`` when it refuses or answers
        something unreadable. The key and secret travel in the body, as
        Binotel documents; they are redacted from every error."""
        self.ensure_one()
        try:
            key, secret = self._reconcile_get_credentials()
        except ReconcileUnsupported as exc:
            raise ReconcileError(self.env._("The provider's API key is not set.")) from exc
        base = self._get_api_base_url() + "/"
        response = outbound.request(
            self.env,
            "POST",
            f"{base}{method}.json",
            json={**params, "key": key, "secret": secret},
            headers={"Accept": "application/json"},
            timeout=timeout or self._reconcile_timeout(),
            secrets=(key, secret),
        )
        return self._reconcile_json(response)

    def _binotel_confirm(self, call_id, request_type="apiCallCompleted", request_data=None):
        """The call's end event, built from Binotel's API only. Raise
        ``WebhookConfirmationPending`` when the API cannot confirm it now,
        ``WebhookSignatureError`` when the API does not know the call.

        ``hangupTheCall`` comes as the call ends, maybe before Binotel's
        statistics have it: a call the API does not know yet waits (up to
        ``BINOTEL_HANGUP_GRACE``) instead of being rejected at once."""
        _ = self.env._
        try:
            payload = self._binotel_api(
                "stats/call-details", {"generalCallID": [call_id]}, timeout=BINOTEL_CONFIRM_TIMEOUT
            )
            details = binotel.api_call_details(payload)
        except outbound.OutboundError as exc:
            raise WebhookConfirmationPending(
                _("Binotel's API could not confirm the call yet: %s", exc.message), call_id
            ) from exc
        except (ReconcileError, ValueError) as exc:
            raise WebhookConfirmationPending(
                _("Binotel's API could not confirm the call yet: %s", getattr(exc, "message", exc)),
                call_id,
            ) from exc
        for item in details:
            if isinstance(item, dict) and binotel.as_text(item.get("generalCallID"), 64) == call_id:
                event = binotel.details_to_event(item)
                if event is None and binotel.as_text(item.get("callType")) in (
                    binotel.INCOMING,
                    None,
                ):
                    break  # an incoming call without its identity: unknown
                return event
        received_at = (request_data or {}).get("received_at") or fields.Datetime.now()
        if (
            request_type == "hangupTheCall"
            and received_at > fields.Datetime.now() - BINOTEL_HANGUP_GRACE
        ):
            raise WebhookConfirmationPending(
                _("Binotel's API does not know the call %s yet.", call_id), call_id
            )
        raise WebhookSignatureError(_("Binotel's API does not know the call %s.", call_id))

    def _reconcile_fetch(self, since, until):
        if self.kind != "binotel":
            return super()._reconcile_fetch(since, until)
        self._reconcile_get_credentials()  # not set up: skipped quietly
        start = int(since.replace(tzinfo=UTC).timestamp())
        stop = int(until.replace(tzinfo=UTC).timestamp())
        events = []
        for page_start in range(start, stop, BINOTEL_PAGE_SECONDS):
            page_stop = min(page_start + BINOTEL_PAGE_SECONDS - 1, stop)
            payload = self._binotel_api(
                "stats/incoming-calls-for-period", {"startTime": page_start, "stopTime": page_stop}
            )
            try:
                details = binotel.api_call_details(payload)
            except ValueError as exc:
                raise ReconcileError(self.env._("Binotel's API: %s", exc)) from exc
            events.extend(e for e in map(binotel.details_to_event, details) if e)
        return events

    def _fetch_recording(self, call):
        if self.kind != "binotel":
            return super()._fetch_recording(call)
        _ = self.env._
        try:
            payload = self._binotel_api(
                "stats/call-record", {"generalCallID": call.provider_call_id}
            )
        except (ReconcileError, ReconcileUnsupported) as exc:
            raise outbound.OutboundError(getattr(exc, "message", str(exc))) from exc
        if not isinstance(payload, dict):
            payload = {}
        url = payload.get("url")
        if (
            payload.get("status") != "success"
            or not isinstance(url, str)
            or not url.startswith(("https://", "http://"))
        ):
            raise outbound.OutboundError(_("Binotel's API gave no recording link for this call."))
        # the link is temporary: fetched at once
        response = outbound.request(
            self.env, "GET", url, timeout=30, max_bytes=call._get_recording_max_bytes()
        )
        content_type = (response.headers.get("Content-Type") or "audio/mpeg").split(";")[0].strip()
        return response.content, content_type

    # ------------------------------------------------------------------
    # Test call
    # ------------------------------------------------------------------

    def _build_test_request(self, call_values):
        if self.kind != "binotel":
            return super()._build_test_request(call_values)
        start = call_values["start"].replace(tzinfo=UTC)
        # an apiCallCompleted as Binotel posts it (PHP's nested form names)
        form = [
            ("requestType", "apiCallCompleted"),
            ("callDetails[companyID]", "0"),
            ("callDetails[generalCallID]", call_values["call_id"]),
            ("callDetails[startTime]", str(int(start.timestamp()))),
            ("callDetails[callType]", binotel.INCOMING),
            ("callDetails[waitsec]", "0"),
            ("callDetails[billsec]", str(call_values["duration"])),
            ("callDetails[disposition]", "ANSWER"),
            ("callDetails[externalNumber]", call_values["from"]),
            ("callDetails[pbxNumberData][number]", call_values["to"]),
        ]
        request_data = self._get_test_request_base(
            "application/x-www-form-urlencoded", urlencode(form).encode(), form
        )
        networks, _invalid = binotel.parse_allow_list(self.binotel_allowed_ips)
        # sent as from Binotel's first server (the allow-list is checked)
        request_data["remote_addr"] = str(networks[0].network_address) if networks else ""
        return request_data
