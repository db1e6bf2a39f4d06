"""Recordings over HTTP: the upload route of the Asterisk AGI program
(signature, size, type, the call that does not exist yet), who may read a
recording through ``/web/content`` (each role, two companies), and a browser
tour that plays a recording in the lead."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.call_tracking.models.call_tracking_provider_generic import generic_signature
from odoo.addons.call_tracking.models.call_tracking_webhook_event import REJECTED_BODY_BYTES

from .common import BILLBOARD, CALLER, SECRET, CallTrackingHttpCommon
from .recording_standin import make_wav


class RecordingHttpCase(CallTrackingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wav = make_wav(0.5)
        cls.Call = cls.env["call.tracking.call"].sudo()
        cls.Event = cls.env["call.tracking.webhook.event"].sudo()

    @classmethod
    def _call_event(cls, call_id, **values):
        start = fields.Datetime.now() - timedelta(hours=1)
        return {
            "event": "call_end",
            "call_id": call_id,
            "from": CALLER,
            "to": BILLBOARD,
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": 95,
            "talk_duration": 80,
            "status": "answered",
            **values,
        }


@tagged("post_install", "-at_install")
class TestRecordingUpload(RecordingHttpCase):
    def _upload(self, call_id, body, content_type="audio/wav", secret=SECRET, token=None):
        token = token or self.provider.webhook_token
        headers = {
            "Content-Type": content_type,
            "X-Call-Tracking-Signature": generic_signature(secret, body),
        }
        return self.url_open(
            f"/call_tracking/webhook/{token}/recording/{call_id}", data=body, headers=headers
        )

    def _entries(self, call_id):
        return self.Event.search(
            [("provider_id", "=", self.provider.id), ("url_path", "like", f"/recording/{call_id}")]
        )

    def test_upload_after_the_call(self):
        status, _type, _body = self._receive_signed(self._call_event("agi-1"))
        self.assertEqual(status, 200)
        call = self.Call.search([("provider_call_id", "=", "agi-1")])
        response = self._upload("agi-1", self.wav)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["recording_state"], "done")
        call.invalidate_recordset()
        self.assertEqual(call.recording_state, "done")
        self.assertEqual(call.recording_attachment_id.raw, self.wav)
        self.assertEqual(call.recording_attachment_id.mimetype, "audio/wav")
        entry = self._entries("agi-1")
        self.assertEqual(entry.state, "processed")
        self.assertEqual(entry.event_type, "recording_upload")
        self.assertEqual(entry.call_id, call)
        self.assertFalse(entry.raw_body, "the audio is the attachment, not an inbox body")

    def test_upload_before_the_call_is_kept_and_attached(self):
        """The hangup event and the upload race: the audio waits on the
        call's row, which the events complete when they arrive."""
        response = self._upload("agi-2", self.wav)
        self.assertEqual(response.status_code, 200, response.text)
        call = self.Call.search([("provider_call_id", "=", "agi-2")])
        self.assertEqual(call.recording_state, "done")
        self.assertFalse(call.lead_id)
        status, _type, _body = self._receive_signed(self._call_event("agi-2"))
        self.assertEqual(status, 200)
        self.assertEqual(self.Call.search([("provider_call_id", "=", "agi-2")]), call)
        call.invalidate_recordset()
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.recording_state, "done")
        self.assertTrue(call.lead_id)
        note = call.lead_id.message_ids.filtered(lambda m: "Phone call from" in (m.body or ""))
        self.assertIn(f"call_tracking.call_tracking_call_action/{call.id}", note.body)

    def test_bad_signature_403_kept(self):
        response = self._upload("agi-3", self.wav, secret="wrong-secret")
        self.assertEqual(response.status_code, 403)
        self.assertIn("X-Call-Tracking-Signature", response.json()["error"])
        self.assertFalse(self.Call.search([("provider_call_id", "=", "agi-3")]))
        entry = self._entries("agi-3")
        self.assertEqual(entry.state, "rejected")
        self.assertTrue(entry.body_truncated)
        self.assertTrue(entry.body.startswith("RIFF"), "the first bytes are kept")
        self.assertLessEqual(len(entry.body.encode()), REJECTED_BODY_BYTES * 3)

    def test_too_large_413_kept(self):
        self.company.call_tracking_recording_max_mb = 1
        big = make_wav(70)
        self.assertGreater(len(big), 1024 * 1024)
        response = self._upload("agi-4", big)
        self.assertEqual(response.status_code, 413)
        self.assertIn("too large", response.json()["error"])
        entry = self._entries("agi-4")
        self.assertEqual(entry.state, "error")
        self.assertIn("too large", entry.error_message)
        self.assertFalse(self.Call.search([("provider_call_id", "=", "agi-4")]))

    def test_not_audio_415_kept(self):
        status, _type, _body = self._receive_signed(self._call_event("agi-5"))
        self.assertEqual(status, 200)
        call = self.Call.search([("provider_call_id", "=", "agi-5")])
        lead = call.lead_id
        for content_type, body in (
            ("audio/wav", b"<html>not audio</html>"),
            ("text/plain", self.wav),
        ):
            response = self._upload("agi-5", body, content_type=content_type)
            self.assertEqual(response.status_code, 415, content_type)
            self.assertIn("not audio", response.json()["error"])
        entries = self._entries("agi-5")
        self.assertEqual(entries.mapped("state"), ["error", "error"])
        call.invalidate_recordset()
        self.assertFalse(call.recording_attachment_id)
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.lead_id, lead)

    def test_not_audio_before_the_call_creates_nothing(self):
        response = self._upload("agi-6", b"plain text", content_type="audio/mpeg")
        self.assertEqual(response.status_code, 415)
        self.assertFalse(self.Call.search([("provider_call_id", "=", "agi-6")]))

    def test_unknown_token_404(self):
        response = self._upload("agi-7", self.wav, token="no-such-token")
        self.assertEqual(response.status_code, 404)


@tagged("post_install", "-at_install")
class TestRecordingAccess(RecordingHttpCase):
    """Only who may read the call reads its recording, through the ORM and
    through /web/content, in two companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # two callers: a repeat caller's calls would share one lead
        cls._receive_signed(cls._call_event("acl-own", **{"from": "+12125550881"}))
        cls._receive_signed(cls._call_event("acl-other", **{"from": "+12125550882"}))
        cls.call_own = cls.Call.search([("provider_call_id", "=", "acl-own")])
        cls.call_other = cls.Call.search([("provider_call_id", "=", "acl-other")])
        assert cls.call_own.lead_id != cls.call_other.lead_id
        # the first call is the salesperson's, the second their colleague's
        cls.call_own.write({"user_id": cls.salesman.id})
        cls.call_own.lead_id.user_id = cls.salesman
        cls.call_other.write({"user_id": cls.salesman2.id})
        cls.call_other.lead_id.user_id = cls.salesman2
        provider_2 = cls.env["call.tracking.provider"].create(
            {"name": "Other company provider", "company_id": cls.company_2.id, "secret": SECRET}
        )
        cls.call_company_2 = cls.Call.create(
            {
                "provider_id": provider_2.id,
                "provider_call_id": "acl-company-2",
                "company_id": cls.company_2.id,
                "status": "answered",
            }
        )
        for call in cls.call_own | cls.call_other | cls.call_company_2:
            call._store_recording(cls.wav, "audio/wav", "wav")
        cls.att_own = cls.call_own.recording_attachment_id
        cls.att_other = cls.call_other.recording_attachment_id
        cls.att_company_2 = cls.call_company_2.recording_attachment_id

    # role -> the recordings it may read (own, other, company 2)
    EXPECTED = {
        "ct_salesman": (True, False, False),
        "ct_salesman2": (False, True, False),
        "ct_manager": (True, True, False),
        "ct_admin": (True, True, False),
        "ct_settings_admin": (True, True, False),
        "ct_manager_2": (False, False, True),
        "ct_portal": (False, False, False),
    }

    def _attachments(self):
        return (self.att_own, self.att_other, self.att_company_2)

    def test_orm_read_per_role(self):
        for login, allowed in self.EXPECTED.items():
            user = self.env["res.users"].search([("login", "=", login)])
            for attachment, may_read in zip(self._attachments(), allowed, strict=True):
                with self.subTest(login=login, attachment=attachment.name):
                    as_user = attachment.with_user(user)
                    if may_read:
                        self.assertEqual(as_user.raw, self.wav)
                    else:
                        with self.assertRaises(AccessError):
                            as_user.read(["datas"])
            # a search finds only the readable recordings
            Attachment = self.env["ir.attachment"].with_user(user)
            if not user._is_internal():
                with self.assertRaises(AccessError):
                    Attachment.search([("res_model", "=", "call.tracking.call")])
                continue
            found = Attachment.search([("res_model", "=", "call.tracking.call")])
            expected = {att.id for att, ok in zip(self._attachments(), allowed, strict=True) if ok}
            mine = {att.id for att in self._attachments()}
            self.assertEqual(set(found.ids) & mine, expected, login)

    def _get(self, attachment, form):
        if form == "path":
            return self.url_open(f"/web/content/{attachment.id}")
        if form == "download":
            return self.url_open(f"/web/content/{attachment.id}?download=true")
        return self.url_open(f"/web/content?model=ir.attachment&id={attachment.id}&field=datas")

    def test_web_content_per_role(self):
        for login, allowed in self.EXPECTED.items():
            self.authenticate(login, login)
            for attachment, may_read in zip(self._attachments(), allowed, strict=True):
                for form in ("path", "download", "query"):
                    with self.subTest(login=login, attachment=attachment.name, form=form):
                        response = self._get(attachment, form)
                        if may_read:
                            self.assertEqual(response.status_code, 200)
                            self.assertEqual(response.content, self.wav)
                            self.assertTrue(
                                response.headers["Content-Type"].startswith("audio/wav")
                            )
                        else:
                            self.assertNotEqual(response.status_code, 200)
                            self.assertNotEqual(response.content, self.wav)

    def test_web_content_public(self):
        self.authenticate(None, None)
        for attachment in self._attachments():
            for form in ("path", "download", "query"):
                response = self._get(attachment, form)
                self.assertNotEqual(response.content, self.wav, (attachment.name, form))


@tagged("post_install", "-at_install")
class TestRecordingTour(RecordingHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.write({"use_leads": False, "member_ids": [(4, cls.salesman.id)]})
        cls._receive_signed(cls._call_event("tour-recording"))
        cls.call = cls.Call.search([("provider_call_id", "=", "tour-recording")])
        cls.call.recording_state = "pending"
        cls.call._store_recording(make_wav(4), "audio/wav", "wav")
        cls.lead = cls.call.lead_id
        cls.lead.name = "Recorded call lead"
        # the note as it is logged when the recording is expected
        cls.call._post_call_message()

    def test_salesperson_plays_the_recording(self):
        self.assertEqual(self.lead.user_id, self.salesman)
        self.start_tour(
            f"/odoo/action-crm.crm_lead_action_pipeline/{self.lead.id}",
            "call_tracking_recording_tour",
            login=self.salesman.login,
        )
