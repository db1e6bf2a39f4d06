"""Twilio recordings: the media of the call's ``RecordingUrl``.

Followed Twilio's documentation, "Recording resource", "Fetch a Recording
media file" (https://www.twilio.com/docs/voice/api/recording#fetch-a-recording-media-file):
a recording's URI is
``https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}``;
without an extension (or with ``.wav``) it answers a WAV file, with ``.mp3``
an MP3 file (smaller: the one stored). When the account enforces HTTP basic
authentication for media, the credentials are the account SID and its auth
token: the SID is read from the recording's own URI, the auth token is the
provider's secret. They are sent only to the provider's API host (Twilio's
or the one its API Base URL names) or the host of its Recording Download
URL; a redirect elsewhere gets no credentials (``tools/outbound.py``).

A recording made with ``<Dial record=...>`` or ``<Start><Recording>`` is
announced by a *recording status callback* ("Voice Webhooks", "Recording
status callbacks": https://www.twilio.com/docs/usage/webhooks/voice-webhooks),
signed like every Twilio request, with ``AccountSid``, ``CallSid``,
``RecordingSid``, ``RecordingUrl`` and ``RecordingStatus`` (``in-progress``,
``completed``, ``absent``...) and no ``CallStatus``: when its URL is set as the
recording status callback, a completed recording's URL goes on the call.
"""

import re
from urllib.parse import urlsplit

from odoo import models

from ..tools import outbound
from ..tools.webhook_parsing import parse_str, parse_url

TWILIO_RECORDING_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Recordings/RE[0-9a-fA-F]{32}"
    r"(?P<ext>\.(wav|mp3))?$"
)


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    def _parse_webhook_events(self, request_data):
        if self.kind != "twilio":
            return super()._parse_webhook_events(request_data)
        params = dict(request_data.get("form") or [])
        if "RecordingSid" not in params or "CallStatus" in params:
            return super()._parse_webhook_events(request_data)
        # a recording status callback: only a completed recording has a file
        event = {
            "event": "call_update",
            "call_id": parse_str(self.env, params, "CallSid", required=True),
        }
        if params.get("RecordingStatus") == "completed":
            event["recording_url"] = parse_url(self.env, params, "RecordingUrl")
        return [event]

    def _fetch_recording(self, call):
        if self.kind != "twilio":
            return super()._fetch_recording(call)
        parts = urlsplit(call.recording_url or "")
        match = TWILIO_RECORDING_PATH.match(parts.path)
        if not match:
            raise outbound.OutboundError(
                self.env._("The recording URL is not a Twilio recording URI."), retry=False
            )
        if not match.group("ext"):
            parts = parts._replace(path=f"{parts.path}.mp3")
        url = parts.geturl()
        response = self._recording_request(
            url,
            auth=(match.group("account"), self.secret or ""),
            max_bytes=call._get_recording_max_bytes(),
        )
        return response.content, response.headers.get("Content-Type")
