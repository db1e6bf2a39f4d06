"""Replays and weak secrets (issue 25, finding 6): the generic scheme's
optional signed timestamp, the bound of Zadarma's age setting, the minimum
length of a provider's signing secret."""

import json
import time

from odoo.exceptions import ValidationError
from odoo.tests import mute_logger, tagged

from ..models.call_tracking_provider_generic import SIGNATURE_HEADER, generic_signature
from .common import SECRET, CallTrackingCommon, CallTrackingHttpCommon

# the contract (docs/developer/security-visitors-and-webhooks.rst)
SIGNATURE_TOLERANCE = 300  # seconds either way
MIN_SECRET_LENGTH = 16
ZADARMA_MAX_AGE_LIMIT = 72  # hours


@tagged("post_install", "-at_install")
class TestGenericTimestamp(CallTrackingHttpCommon):
    def _post_signed(self, payload, timestamp, secret=SECRET):
        body = json.dumps(payload).encode()
        return self._post_json(
            None, raw=body, signature=generic_signature(secret, body, timestamp=timestamp)
        )

    def test_signature_vector(self):
        # printf '1733400000.{"event": "call_end", "call_id": "abc-123"}' |
        #   openssl dgst -sha256 -hmac test-secret-1234
        body = b'{"event": "call_end", "call_id": "abc-123"}'
        self.assertEqual(
            generic_signature(SECRET, body, timestamp=1733400000),
            "t=1733400000,sha256=6c464601b7181970796a96c324af168dc548ad7924e5f6abc64614cd6f58addf",
        )

    def test_timestamped_signature_accepted(self):
        response = self._post_signed(self._event("call_end"), int(time.time()))
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(len(self._calls()), 1)
        # the order of the pairs does not matter; unknown keys are ignored
        body = json.dumps(self._event("call_end", call_id="call-2")).encode()
        timestamp = int(time.time())
        header = generic_signature(SECRET, body, timestamp=timestamp)
        digest = header.split("sha256=")[1]
        swapped = f"v=2, sha256={digest}, t={timestamp}"
        self.assertEqual(self._post_json(None, raw=body, signature=swapped).status_code, 200)
        self.assertEqual(len(self._calls()), 2)

    @mute_logger("odoo.addons.call_tracking.models.call_tracking_webhook_event")
    def test_stale_or_forged_timestamp_refused(self):
        now = int(time.time())
        for timestamp in (now - SIGNATURE_TOLERANCE - 60, now + SIGNATURE_TOLERANCE + 60):
            response = self._post_signed(self._event("call_end"), timestamp)
            self.assertEqual(response.status_code, 403)
            self.assertIn("five minutes", response.json()["error"])
        # a captured request with its timestamp changed: the signature breaks
        body = json.dumps(self._event("call_end")).encode()
        header = generic_signature(SECRET, body, timestamp=now - 3600)
        moved = header.replace(f"t={now - 3600}", f"t={now}")
        response = self._post_json(None, raw=body, signature=moved)
        self.assertEqual(response.status_code, 403)
        # nor is it a signature of the old form
        digest = header.split("sha256=")[1]
        response = self._post_json(None, raw=body, signature=f"sha256={digest}")
        self.assertEqual(response.status_code, 403)
        response = self._post_json(None, raw=body, signature=f"t=soon,sha256={digest}")
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self._calls())
        self.assertEqual(set(self._events().mapped("state")), {"rejected"})

    def test_signature_without_timestamp_still_verifies(self):
        self.assertEqual(self._post_json(self._event("call_end")).status_code, 200)
        self.assertEqual(len(self._calls()), 1)

    def test_test_call_signs_with_a_timestamp(self):
        request_data = self.provider.sudo()._build_test_request(
            {
                "call_id": "test-1",
                "from": "+380501112233",
                "to": "+12125550121",
                "start": self.call_time,
                "duration": 30,
            }
        )
        self.assertTrue(request_data["headers"][SIGNATURE_HEADER].startswith("t="))


@tagged("post_install", "-at_install")
class TestProviderSecrets(CallTrackingCommon):
    def test_short_secret_refused_with_a_clear_error(self):
        Provider = self.env["call.tracking.provider"]
        with self.assertRaisesRegex(ValidationError, "too short"):
            Provider.create({"name": "Weak", "kind": "generic", "secret": "x" * 15})
        with self.assertRaisesRegex(ValidationError, "Minimum length: 16"):
            self.provider.secret_input = "short"
        provider = Provider.create(
            {"name": "Strong", "kind": "generic", "secret": "x" * MIN_SECRET_LENGTH}
        )
        self.assertEqual(provider.secret, "x" * MIN_SECRET_LENGTH)
        # no secret yet is allowed (the setup checklist asks for one)
        Provider.create({"name": "Later", "kind": "generic"})

    def test_zadarma_age_setting_is_bounded(self):
        provider = self.env["call.tracking.provider"].create(
            {"name": "Zadarma", "kind": "zadarma", "secret": "zadarma-secret-0123456789"}
        )
        provider.zadarma_max_age_hours = ZADARMA_MAX_AGE_LIMIT
        with self.assertRaisesRegex(ValidationError, "between 1 and 72"):
            provider.zadarma_max_age_hours = 24 * 365
        with self.assertRaisesRegex(ValidationError, "between 1 and 72"):
            provider.zadarma_max_age_hours = ZADARMA_MAX_AGE_LIMIT + 1
