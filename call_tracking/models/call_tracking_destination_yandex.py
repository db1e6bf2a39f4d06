import re
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import ValidationError

from ..tools.conversions import unix_seconds, yandex_calls_csv

YANDEX_ENDPOINT = "https://api-metrika.yandex.net"
UPLOAD_PATH = "/management/v1/counter/%s/offline_conversions/upload_calls"
STATUS_PATH = "/management/v1/counter/%s/offline_conversions/calls_uploading/%s"
LIST_PATH = "/management/v1/counter/%s/offline_conversions/calls_uploadings"
# Metrica links a call to a visit of the last 21 days
YANDEX_MAX_AGE = timedelta(days=21)
# upload statuses after which Metrica changes nothing more
DONE_STATUSES = {"PROCESSED"}
FAILED_STATUSES = {"LINKAGE_FAILURE", "EXPIRED", "FAILED"}


class CallTrackingDestinationYandex(models.Model):
    """Yandex Metrica calls (Yandex Metrica management API, "Sending call
    data" and ``upload_calls``): one multipart CSV upload per batch and
    identifier type, then the upload's status is polled
    (``calls_uploading/{id}``) until Metrica has processed it."""

    _inherit = "call.tracking.destination"

    kind = fields.Selection(
        selection_add=[("yandex_metrica", "Yandex Metrica calls")],
        ondelete={"yandex_metrica": "cascade"},
    )

    def _get_default_endpoint(self):
        if self.kind != "yandex_metrica":
            return super()._get_default_endpoint()
        return YANDEX_ENDPOINT

    def _check_credentials(self, require_secret=True):
        if self.kind != "yandex_metrica":
            return super()._check_credentials(require_secret)
        if not re.fullmatch(r"\d{1,12}", self.account_ref or ""):
            raise ValidationError(
                self.env._(
                    "Counter ID of %(name)s: expected the digits of the Metrica tag, "
                    "got %(value)r.",
                    name=self.name,
                    value=self.account_ref or "",
                )
            )
        if self.secret and not re.fullmatch(r"[A-Za-z0-9_.-]{16,256}", self.secret):
            raise ValidationError(
                self.env._("OAuth token of %s: it is not a Yandex OAuth token.", self.name)
            )
        if require_secret and not self.secret:
            raise ValidationError(self.env._("OAuth token of %s: it is missing.", self.name))
        return None

    def _max_event_age(self):
        if self.kind != "yandex_metrica":
            return super()._max_event_age()
        return YANDEX_MAX_AGE

    def _prepare_conversion(self, call, trigger, value, event_time):
        if self.kind != "yandex_metrica":
            return super()._prepare_conversion(call, trigger, value, event_time)
        session = call.session_id
        if session.ym_uid:
            id_column, ident = "ClientId", session.ym_uid
        elif session.yclid:
            id_column, ident = "Yclid", session.yclid
        else:
            return None, self.env._("The visit has no Metrica ClientId (_ym_uid cookie) nor yclid.")
        talk = call.talk_duration or 0
        row = {
            "id_column": id_column,
            "id": ident,
            "DateTime": unix_seconds(event_time),
            "StaticCall": int(call.attribution_method == "static"),
            "PhoneNumber": call.caller_number or "",
            "TalkDuration": talk,
            "HoldDuration": max((call.duration or 0) - talk, 0),
            "CallMissed": int(call.status != "answered"),
            "FirstTimeCaller": int(bool(call.is_first_call)),
            "Tag": trigger,
            "URL": session.landing_url or "",
        }
        if value:
            row["Price"] = value
            row["Currency"] = self.currency_id.name
        return row, None

    def _yandex_url(self, path):
        return (self.endpoint_url or YANDEX_ENDPOINT).rstrip("/") + path

    def _yandex_headers(self):
        return {"Authorization": f"OAuth {self.secret}"}

    def _send_conversions(self, conversions):
        if self.kind != "yandex_metrica":
            return super()._send_conversions(conversions)
        by_column = conversions.grouped(lambda c: c._payload().get("id_column"))
        for id_column, batch in by_column.items():
            rows = [c._payload() for c in batch]
            body = yandex_calls_csv(id_column, rows)
            response = self._http(
                "POST",
                self._yandex_url(UPLOAD_PATH % self.account_ref),
                params={"new_goal_name": self.conversion_name, "comment": "Odoo call_tracking"},
                files={"file": ("calls.csv", body.encode(), "text/csv")},
                headers=self._yandex_headers(),
            )
            data = self._json_of(response)
            uploading = data.get("uploading") if isinstance(data, dict) else None
            upload_id = uploading.get("id") if isinstance(uploading, dict) else None
            status = uploading.get("status") if isinstance(uploading, dict) else None
            batch._mark_sent(
                self._answer_text(response, ("uploading",)),
                upload_ref=str(upload_id) if upload_id is not None else None,
                status=str(status) if status else None,
                poll=upload_id is not None,
            )

    def _poll_conversions(self, conversions):
        if self.kind != "yandex_metrica":
            return super()._poll_conversions(conversions)
        for upload_ref, batch in conversions.grouped("upload_ref").items():
            if not upload_ref:
                batch.next_try_at = False
                continue
            response = self._http(
                "GET",
                self._yandex_url(STATUS_PATH % (self.account_ref, upload_ref)),
                headers=self._yandex_headers(),
            )
            data = self._json_of(response)
            uploading = data.get("uploading") if isinstance(data, dict) else None
            status = str(uploading.get("status") or "") if isinstance(uploading, dict) else ""
            batch._reschedule_poll(
                answer=self._answer_text(response, ("uploading",)),
                status=status or None,
                final=status in DONE_STATUSES | FAILED_STATUSES,
                failed=status in FAILED_STATUSES,
            )
        return None

    def _send_test_event(self):
        if self.kind != "yandex_metrica":
            return super()._send_test_event()
        # Metrica has no validation endpoint: the list of uploads proves the
        # counter and the token without uploading anything
        response = self._http(
            "GET",
            self._yandex_url(LIST_PATH % self.account_ref),
            params={"limit": 1},
            headers=self._yandex_headers(),
        )
        return self._answer_text(response, ("uploadings",))
