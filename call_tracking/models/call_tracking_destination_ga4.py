import json
import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.conversions import (
    ga4_name,
    ga4_params,
    parse_ga_client_id,
    parse_ga_session_id,
    unix_micros,
)

GA4_ENDPOINT = "https://www.google-analytics.com/mp/collect"
GA4_ENDPOINT_EU = "https://region1.google-analytics.com/mp/collect"
# Measurement Protocol: events may be backdated by up to 72 hours
GA4_MAX_AGE = timedelta(hours=72)
MEASUREMENT_ID_RE = re.compile(r"^G-[A-Z0-9]{4,20}$")


class CallTrackingDestinationGa4(models.Model):
    """GA4 Measurement Protocol (Google, "Send Measurement Protocol events"
    and the Measurement Protocol reference): one ``POST /mp/collect`` per
    conversion, the test event on ``/debug/mp/collect``."""

    _inherit = "call.tracking.destination"

    kind = fields.Selection(
        selection_add=[("ga4", "GA4 Measurement Protocol")], ondelete={"ga4": "cascade"}
    )
    ga4_region = fields.Selection(
        [("global", "Global"), ("eu", "European Union")],
        string="GA4 Data Collection",
        default="global",
        help="European Union: the region1 endpoint, so data is collected in the EU.",
    )

    def _get_default_endpoint(self):
        if self.kind != "ga4":
            return super()._get_default_endpoint()
        return GA4_ENDPOINT_EU if self.ga4_region == "eu" else GA4_ENDPOINT

    @api.onchange("ga4_region")
    def _onchange_ga4_region(self):
        if self.kind == "ga4":
            self.endpoint_url = self._get_default_endpoint()

    def _check_credentials(self, require_secret=True):
        if self.kind != "ga4":
            return super()._check_credentials(require_secret)
        if not MEASUREMENT_ID_RE.match(self.account_ref or ""):
            raise ValidationError(
                self.env._(
                    "Measurement ID of %(name)s: expected G- followed by letters and "
                    "digits (Admin > Data streams > your stream), got %(value)r.",
                    name=self.name,
                    value=self.account_ref or "",
                )
            )
        if self.secret and not re.fullmatch(r"[A-Za-z0-9_-]{8,128}", self.secret):
            raise ValidationError(
                self.env._("API secret of %s: it is not a Measurement Protocol secret.", self.name)
            )
        if require_secret and not self.secret:
            raise ValidationError(
                self.env._(
                    "API secret of %s: it is missing (Admin > Data streams > your "
                    "stream > Measurement Protocol API secrets).",
                    self.name,
                )
            )
        return None

    def _max_event_age(self):
        if self.kind != "ga4":
            return super()._max_event_age()
        return GA4_MAX_AGE

    def _prepare_conversion(self, call, trigger, value, event_time):
        if self.kind != "ga4":
            return super()._prepare_conversion(call, trigger, value, event_time)
        session = call.session_id
        client_id = parse_ga_client_id(session.ga_client_id)
        if not client_id:
            return None, self.env._("The visit has no GA client id (no _ga cookie).")
        session_id = parse_ga_session_id(session.ga_session_id)
        params = {
            "session_id": int(session_id) if session_id else None,
            "engagement_time_msec": max((call.talk_duration or 0) * 1000, 1),
            "source": session.utm_source,
            "medium": session.utm_medium,
            "campaign": session.utm_campaign,
            "term": session.utm_term,
            "content": session.utm_content,
            "call_trigger": trigger,
            "call_status": call.status,
            "call_duration": call.duration or 0,
            "talk_duration": call.talk_duration or 0,
            "first_time_caller": int(bool(call.is_first_call)),
            "tracking_channel": call.channel_id.name,
        }
        if value:
            params["value"] = value
            params["currency"] = self.currency_id.name
        payload = {
            "client_id": client_id,
            "timestamp_micros": unix_micros(event_time),
            "events": [{"name": ga4_name(self.conversion_name), "params": ga4_params(params)}],
        }
        consent = self._ga4_consent()
        if consent:
            payload["consent"] = consent
        return payload, None

    def _ga4_consent(self):
        consent = {}
        for key, field in (
            ("ad_user_data", "consent_ad_user_data"),
            ("ad_personalization", "consent_ad_personalization"),
        ):
            if self[field] in ("granted", "denied"):
                consent[key] = self[field].upper()
        return consent

    def _ga4_url(self, debug=False):
        url = self.endpoint_url or self._get_default_endpoint()
        if debug:
            url = url.replace("/mp/collect", "/debug/mp/collect", 1)
        return url

    def _ga4_post(self, payload, debug=False):
        response = self._http(
            "POST",
            self._ga4_url(debug),
            params={"measurement_id": self.account_ref, "api_secret": self.secret},
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        # the debug endpoint's validation messages; /mp/collect answers 2xx
        # without a body
        return self._answer_text(response, ("validationMessages",))

    def _send_conversions(self, conversions):
        if self.kind != "ga4":
            return super()._send_conversions(conversions)
        # one client per request: one request per conversion
        return self._send_each(conversions, lambda c: self._ga4_post(c._payload()))

    def _send_test_event(self):
        if self.kind != "ga4":
            return super()._send_test_event()
        payload = {
            "client_id": "1234567890.1234567890",
            "events": [
                {
                    "name": ga4_name(self.conversion_name),
                    "params": {"engagement_time_msec": 1, "call_trigger": "test"},
                }
            ],
        }
        consent = self._ga4_consent()
        if consent:
            payload["consent"] = consent
        return self._ga4_post(payload, debug=True)
