import json
import re
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools.conversions import meta_fbc, meta_phone_hash, now_utc, unix_seconds
from ..tools.platform_versions import META_VERSION

META_ENDPOINT = f"https://graph.facebook.com/{META_VERSION}"
# what is kept of the answer of /events
META_ANSWER_KEYS = ("events_received", "messages", "fbtrace_id")
# "event_time can be up to 7 days before you send an event"
META_MAX_AGE = timedelta(days=7)


class CallTrackingDestinationMeta(models.Model):
    """Meta Conversions API (Meta, "Server Event Parameters", "Customer
    Information Parameters", "ClickID and the fbp and fbc Parameters"):
    ``POST <endpoint>/<pixel id>/events`` with up to 1,000 events, each with
    ``action_source`` ``phone_call``."""

    _inherit = "call.tracking.destination"

    kind = fields.Selection(
        selection_add=[("meta", "Meta Conversions API")], ondelete={"meta": "cascade"}
    )
    meta_test_event_code = fields.Char(
        string="Test Event Code",
        help="Meta: Events Manager > your dataset > Test events; used by the "
        "'Send test event' button only.",
    )

    def _get_default_endpoint(self):
        if self.kind != "meta":
            return super()._get_default_endpoint()
        return META_ENDPOINT

    def _check_credentials(self, require_secret=True):
        if self.kind != "meta":
            return super()._check_credentials(require_secret)
        if not re.fullmatch(r"\d{5,20}", self.account_ref or ""):
            raise ValidationError(
                self.env._(
                    "Pixel ID of %(name)s: expected the digits of the dataset, got %(value)r.",
                    name=self.name,
                    value=self.account_ref or "",
                )
            )
        if self.secret and not re.fullmatch(r"[A-Za-z0-9]{20,512}", self.secret):
            raise ValidationError(
                self.env._("Access token of %s: it is not a Meta access token.", self.name)
            )
        if require_secret and not self.secret:
            raise ValidationError(self.env._("Access token of %s: it is missing.", self.name))
        return None

    def _max_event_age(self):
        if self.kind != "meta":
            return super()._max_event_age()
        return META_MAX_AGE

    def _prepare_conversion(self, call, trigger, value, event_time):
        if self.kind != "meta":
            return super()._prepare_conversion(call, trigger, value, event_time)
        session = call.session_id
        fbc = meta_fbc(session.fbc, session.fbclid, session.assigned_at)
        fbp = session.fbp or ""
        if not fbc and not fbp:
            return None, self.env._(
                "The visit has no Meta click or browser id (fbclid, _fbc or _fbp cookie)."
            )
        user_data = {}
        phone_hash = meta_phone_hash(call.caller_number)
        if phone_hash:
            user_data["ph"] = [phone_hash]
        if fbc:
            user_data["fbc"] = fbc
        if fbp:
            user_data["fbp"] = fbp
        event = {
            "event_name": self.conversion_name,
            "event_time": unix_seconds(event_time),
            "action_source": "phone_call",
            "user_data": user_data,
        }
        if value:
            event["custom_data"] = {"value": value, "currency": self.currency_id.name}
        return event, None

    def _meta_post(self, events, test_event_code=None):
        body = {"data": events, "access_token": self.secret}
        if test_event_code:
            body["test_event_code"] = test_event_code
        url = f"{(self.endpoint_url or META_ENDPOINT).rstrip('/')}/{self.account_ref}/events"
        return self._http(
            "POST", url, data=json.dumps(body), headers={"Content-Type": "application/json"}
        )

    def _send_conversions(self, conversions):
        if self.kind != "meta":
            return super()._send_conversions(conversions)
        events = []
        for conversion in conversions:
            event = conversion._payload()
            # the de-duplication key: the same conversion sent again is one event
            event["event_id"] = conversion.event_id
            events.append(event)
        response = self._meta_post(events)
        conversions._mark_sent(self._answer_text(response, META_ANSWER_KEYS))
        return None

    def _send_test_event(self):
        if self.kind != "meta":
            return super()._send_test_event()
        if not self.meta_test_event_code:
            raise UserError(
                self.env._(
                    "Test Event Code of %s: it is required for a test event "
                    "(Events Manager > your dataset > Test events).",
                    self.name,
                )
            )
        event = {
            "event_name": self.conversion_name,
            "event_time": unix_seconds(now_utc()),
            "event_id": f"ct-test-{self.id}-{unix_seconds(now_utc())}",
            "action_source": "phone_call",
            "user_data": {"ph": [meta_phone_hash("+10000000000")]},
        }
        response = self._meta_post([event], self.meta_test_event_code)
        return self._answer_text(response, META_ANSWER_KEYS)
