"""Zadarma recordings through the ``pbx/record/request`` API method.

Followed Zadarma's API documentation (https://zadarma.com/en/support/api/,
"Authorization" and "PBX: call recording file request") and its official
client library (https://github.com/zadarma/user-api-v1, ``lib/Client.php``
and ``Api::getPbxRecord``):

* ``GET https://api.zadarma.com/v1/pbx/record/request/`` with ``call_id``
  (the recording's id, ``call_id_with_rec`` of NOTIFY_END / NOTIFY_RECORD)
  or ``pbx_call_id`` (the call's permanent id), and optionally ``lifetime``
  (seconds the link works, 180 to 5184000);
* every request carries ``Authorization: <user key>:<signature>``
  (``tools/zadarma.py``), the user key being the provider's API key and
  the secret key its signing secret;
* the answer is JSON: ``{"status": "success", "link": ..., "lifetime_till":
  ...}`` (``links``, a list, when only ``pbx_call_id`` was given) or
  ``{"status": "error", "message": ...}``.

The link is then downloaded without credentials, from Zadarma's hosts
(``*.zadarma.com``), the host of the provider's API Base URL or the one
of its Recording Download URL.
"""

import json

from odoo import models

from ..tools import outbound, zadarma
from ..tools.webhook_parsing import parse_str

ZADARMA_HOST = "zadarma.com"
ZADARMA_RECORD_METHOD = "/v1/pbx/record/request/"
# seconds the link Zadarma gives works: downloaded at once
ZADARMA_LINK_LIFETIME = 180


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    def _get_recording_hosts(self):
        hosts = super()._get_recording_hosts()
        if self.kind == "zadarma":
            hosts.add(ZADARMA_HOST)
        return hosts

    def _parse_webhook_events(self, request_data):
        events = super()._parse_webhook_events(request_data)
        if self.kind != "zadarma":
            return events
        params = dict(request_data.get("form") or [])
        if params.get("event") in ("NOTIFY_END", "NOTIFY_RECORD") and (
            params.get("event") == "NOTIFY_RECORD" or str(params.get("is_recorded")) == "1"
        ):
            ref = parse_str(self.env, params, "call_id_with_rec")
            if ref:
                for event in events:
                    event["recording_ref"] = ref
        return events

    def _fetch_recording(self, call):
        if self.kind != "zadarma":
            return super()._fetch_recording(call)
        _ = self.env._
        # narrow sudo: the API key and the secret are for Settings
        # administrators only; they go to the request and its redaction
        provider_sudo = self.sudo()
        key, secret = provider_sudo.api_key, provider_sudo.secret
        if not key or not secret:
            raise outbound.OutboundError(
                _("Set the provider's API key and secret key to fetch Zadarma recordings."),
                retry=False,
            )
        params = {"format": "json", "lifetime": str(ZADARMA_LINK_LIFETIME)}
        if call.recording_ref:
            params["call_id"] = call.recording_ref
        else:
            params["pbx_call_id"] = call.provider_call_id
        headers = {
            "Authorization": zadarma.api_authorization(key, secret, ZADARMA_RECORD_METHOD, params)
        }
        url = self._get_api_base_url() + ZADARMA_RECORD_METHOD
        response = self._recording_request(
            url, params=params, headers=headers, timeout=15, secrets=(key, secret)
        )
        try:
            answer = json.loads(response.content or b"")
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, dict):
            raise outbound.OutboundError(
                _("Zadarma answered something other than JSON."), retry=True
            )
        if answer.get("status") != "success":
            message = outbound.parsed_error(response, (key, secret))
            raise outbound.OutboundError(
                _("Zadarma refused the recording request: %s", message or "-"), retry=False
            )
        link = answer.get("link") or next(iter(answer.get("links") or []), None)
        if not isinstance(link, str) or not link:
            raise outbound.OutboundError(_("Zadarma gave no recording link."), retry=True)
        audio = self._recording_request(link, max_bytes=call._get_recording_max_bytes())
        return audio.content, audio.headers.get("Content-Type")
