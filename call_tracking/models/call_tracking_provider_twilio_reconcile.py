"""Twilio's call history for the reconciliation.

Followed Twilio's documentation of the Call resource, "Read multiple Call
resources" (https://www.twilio.com/docs/voice/api/call-resource#read-multiple-call-resources):
``GET /2010-04-01/Accounts/{AccountSid}/Calls.json`` with HTTP basic
authentication (Account SID, Auth Token), filtered by ``StartTime>`` and
``StartTime<``, ``PageSize`` up to 1000, each page giving ``calls`` and
``next_page_uri`` (relative to the API host, null on the last page). A call
has ``sid``, ``from``, ``to``, ``status``, ``direction``, ``start_time`` and
``end_time`` (RFC 2822), ``duration`` (seconds, as text).
"""

import re
from urllib.parse import urlsplit

from odoo import models

from ..exceptions import WebhookPayloadError
from ..tools import outbound
from ..tools.webhook_parsing import parse_int, parse_rfc2822, parse_str
from .call_tracking_provider_reconcile import MAX_PAGES, ReconcileError
from .call_tracking_provider_twilio import TWILIO_API_URL, TWILIO_STATUSES

TWILIO_PAGE_SIZE = 200
TWILIO_CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    def _get_api_default_base_url(self):
        if self.kind == "twilio":
            return TWILIO_API_URL
        return super()._get_api_default_base_url()

    def _reconcile_fetch(self, since, until):
        if self.kind != "twilio":
            return super()._reconcile_fetch(since, until)
        sid, token = self._reconcile_get_credentials()
        base = self._get_api_base_url()
        url = f"{base}/2010-04-01/Accounts/{sid}/Calls.json"
        params = {
            "StartTime>": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "StartTime<": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PageSize": TWILIO_PAGE_SIZE,
        }
        events = []
        for _page in range(MAX_PAGES):
            response = outbound.request(
                self.env,
                "GET",
                url,
                params=params,
                auth=(sid, token),
                secrets=(token,),
                timeout=self._reconcile_timeout(),
            )
            payload = self._reconcile_json(response)
            if not isinstance(payload, dict) or not isinstance(payload.get("calls"), list):
                raise ReconcileError(self.env._("Twilio's API answered without a list of calls."))
            events.extend(e for e in map(self._twilio_call_event, payload["calls"]) if e)
            next_uri = payload.get("next_page_uri")
            if not isinstance(next_uri, str) or not next_uri.startswith("/"):
                break
            # the next page, on the same host (never another one)
            url, params = base + urlsplit(next_uri).path + "?" + urlsplit(next_uri).query, None
        return events

    def _twilio_call_event(self, call):
        """The end event of a finished inbound call of Twilio's list, or
        None (another direction, not finished, or malformed)."""
        if not isinstance(call, dict) or call.get("direction") != "inbound":
            return None
        if not isinstance(call.get("sid"), str) or not TWILIO_CALL_SID.fullmatch(call["sid"]):
            return None
        event_type, status = TWILIO_STATUSES.get(call.get("status"), (None, None))
        if event_type != "call_end":
            return None
        try:
            duration = parse_int(self.env, call, "duration")
            if status == "answered" and not duration:
                status = "missed"
            return {
                "event": "call_end",
                "call_id": parse_str(self.env, call, "sid", required=True),
                "from": parse_str(self.env, call, "from"),
                "to": parse_str(self.env, call, "to"),
                "start": parse_rfc2822(self.env, call, "start_time"),
                "end": parse_rfc2822(self.env, call, "end_time"),
                "duration": duration,
                "talk_duration": duration if status == "answered" else 0,
                "status": status,
            }
        except WebhookPayloadError:
            return None
