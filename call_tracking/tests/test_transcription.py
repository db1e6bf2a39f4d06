"""Transcripts and keyword tags on real speech: espeak-ng says the caller's
words, PocketSphinx (the English model of its wheel) hears them, through
the cron and the call's stored recording."""

import shutil
import subprocess
import sys
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..tools import transcription
from .common import CallTrackingCommon

CALLER_WORDS = "I would like to know the price of delivery to Kyiv"


def synthesize(text):
    """WAV bytes of ``text`` said by espeak-ng (Debian package espeak-ng, see scripts/setup.sh)."""
    espeak = shutil.which("espeak-ng")
    if not espeak:
        raise AssertionError("espeak-ng is missing: apt-get install espeak-ng (scripts/setup.sh)")
    # the Klatt voice at 130 words a minute: the one PocketSphinx's US model
    # hears best among espeak-ng's English voices
    return subprocess.run(
        [espeak, "-v", "en-us+klatt", "-s", "130", "--stdout", text],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout


@tagged("post_install", "-at_install")
class TestTranscription(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.speech = synthesize(CALLER_WORDS)
        cls.lead = cls.env["crm.lead"].create({"name": "Kyiv delivery", "user_id": cls.salesman.id})
        Tag = cls.env["call.tracking.tag"]
        cls.tag_delivery = Tag.create(
            {
                "name": "Delivery CT",
                "phrase_ids": [
                    (0, 0, {"name": "delivery", "lang": "en"}),
                    (0, 0, {"name": "доставка", "lang": "uk"}),
                ],
            }
        )
        cls.tag_price = Tag.create(
            {"name": "Price CT", "phrase_ids": [(0, 0, {"name": "the price"})]}
        )
        cls.tag_complaint = Tag.create(
            {"name": "Complaint CT", "phrase_ids": [(0, 0, {"name": "complaint", "lang": "en"})]}
        )
        # said in Ukrainian only: never found in an English transcript
        cls.tag_uk = Tag.create(
            {"name": "Kyiv UK", "phrase_ids": [(0, 0, {"name": "kyiv", "lang": "uk"})]}
        )
        cls.cron = cls.env.ref("call_tracking.ir_cron_call_tracking_transcribe")
        # the demo data switches it on for its company
        cls.company.call_tracking_transcription_engine = False

    def _recorded_call(self, audio, name="speech.wav", mimetype="audio/x-wav", **values):
        call = self.env["call.tracking.call"].create(
            {
                "provider_id": self.provider.id,
                "provider_call_id": f"transcript-{name}-{len(audio)}",
                "company_id": self.company.id,
                "caller_number": "+380501112233",
                "status": "answered",
                "talk_duration": 4,
                "lead_id": self.lead.id,
                "user_id": self.salesman.id,
                **values,
            }
        )
        attachment = self.env["ir.attachment"].create(
            {
                "name": name,
                "raw": audio,
                "mimetype": mimetype,
                "res_model": call._name,
                "res_id": call.id,
            }
        )
        call.write({"recording_attachment_id": attachment.id, "recording_state": "done"})
        return call

    def _run_cron(self):
        self.cron.method_direct_trigger()
        return self.env["ir.cron.progress"].search(
            [("cron_id", "=", self.cron.id)], order="id desc", limit=1
        )

    def test_off_by_default(self):
        # a new company transcribes nothing until an engine is chosen
        self.assertFalse(self.company_2.call_tracking_transcription_engine)
        call = self._recorded_call(self.speech)
        self._run_cron()
        self.assertFalse(call.transcript_state)
        self.assertFalse(call.transcript)

    def test_pocketsphinx_transcribes_and_tags(self):
        self.company.call_tracking_transcription_engine = "pocketsphinx"
        call = self._recorded_call(self.speech)
        lead_before = self.lead.read(["stage_id", "user_id", "expected_revenue", "active"])
        progress = self._run_cron()

        self.assertEqual(call.transcript_state, "done", call.transcript_error)
        words = transcription.normalize_words(call.transcript)
        self.assertIn("price", words)
        self.assertIn("delivery", words)
        self.assertEqual(call.transcript_lang, "en")
        self.assertEqual(call.transcript_engine, "pocketsphinx")
        # segments: times within the clip, in order, their words the transcript's
        segments = call.transcript_segments
        self.assertTrue(segments)
        self.assertEqual(" ".join(s["text"] for s in segments), call.transcript)
        for segment in segments:
            self.assertLess(segment["start"], segment["end"])
            self.assertLessEqual(segment["end"], 5.0)
        test_tags = self.tag_delivery | self.tag_price | self.tag_complaint | self.tag_uk
        self.assertEqual(call.tag_ids & test_tags, self.tag_delivery | self.tag_price)
        # the shipped dictionary finds them too
        self.assertIn(self.env.ref("call_tracking.call_tracking_tag_delivery"), call.tag_ids)
        self.assertNotIn(self.env.ref("call_tracking.call_tracking_tag_complaint"), call.tag_ids)
        self.assertIn("price", call.transcript_html)
        # the calls' search view searches what was said
        Call = self.env["call.tracking.call"].with_user(self.salesman)
        self.assertEqual(Call.search([("transcript", "ilike", "delivery")]), call)
        self.assertEqual(Call.search([("tag_ids", "in", self.tag_delivery.ids)]), call)
        self.assertFalse(Call.search([("tag_ids", "in", self.tag_complaint.ids)]))
        # progress in the cron's log; the lead untouched
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertEqual(
            self.lead.read(["stage_id", "user_id", "expected_revenue", "active"]), lead_before
        )

    def test_bad_recording_fails_alone(self):
        """A recording that is no audio fails with its reason; the batch goes on."""
        self.company.call_tracking_transcription_engine = "pocketsphinx"
        bad = self._recorded_call(b"<html>not audio</html>" * 50, name="bad.wav")
        good = self._recorded_call(self.speech)
        progress = self._run_cron()
        self.assertEqual(bad.transcript_state, "failed")
        self.assertIn("cannot be decoded", bad.transcript_error)
        self.assertFalse(bad.tag_ids)
        self.assertEqual(bad.status, "answered")
        self.assertEqual(bad.lead_id, self.lead)
        self.assertEqual(good.transcript_state, "done")
        self.assertEqual((progress.done, progress.remaining), (2, 0))

    def test_time_budget(self):
        """A run past its time budget leaves the calls left for the next run."""
        self.company.call_tracking_transcription_engine = "pocketsphinx"
        first = self._recorded_call(self.speech, name="first.wav")
        second = self._recorded_call(self.speech, name="second.wav")
        Call = self.env["call.tracking.call"]
        # a run always transcribes one call, then looks at the clock
        Call._cron_transcribe(time_budget=0)
        self.assertEqual(first.transcript_state, "done")
        self.assertFalse(second.transcript_state)
        Call._cron_transcribe(time_budget=0)
        self.assertEqual(second.transcript_state, "done")

    def test_missing_engine_fails_calls_with_what_to_install(self):
        self.company.call_tracking_transcription_engine = "pocketsphinx"
        call = self._recorded_call(self.speech)
        # the package uninstalled after the engine was chosen
        with patch.dict(sys.modules, {"pocketsphinx": None}):
            self._run_cron()
        self.assertEqual(call.transcript_state, "failed")
        self.assertIn("pip install pocketsphinx", call.transcript_error)
        self.assertEqual(call.lead_id, self.lead)
        # once installed again, the manager queues it again
        call.with_user(self.manager).action_transcribe_again()
        self.assertFalse(call.transcript_state)
        self._run_cron()
        self.assertEqual(call.transcript_state, "done")

    def test_enabling_a_missing_engine_says_what_to_install(self):
        with (
            patch.dict(sys.modules, {"faster_whisper": None}),
            self.assertRaises(ValidationError) as caught,
        ):
            self.company.call_tracking_transcription_engine = "faster_whisper"
        self.assertIn("pip install faster-whisper", str(caught.exception))
        self.env["ir.config_parameter"].set_param(
            "call_tracking.whisper_model_dir", "/nonexistent/whisper-small"
        )
        # the package present or not, a model directory without a model is refused
        with self.assertRaises(ValidationError) as caught:
            self.company.call_tracking_transcription_engine = "faster_whisper"
        self.assertRegex(str(caught.exception), "faster-whisper|model.bin")
        self.env.invalidate_all()
        self.assertFalse(self.company.call_tracking_transcription_engine)

    def test_settings(self):
        Settings = self.env["res.config.settings"].with_user(self.settings_admin)
        settings = Settings.create({"call_tracking_transcription_engine": "pocketsphinx"})
        settings.execute()
        self.assertEqual(self.company.call_tracking_transcription_engine, "pocketsphinx")
        self.assertEqual(Settings.create({}).call_tracking_transcription_engine, "pocketsphinx")
        settings = Settings.create(
            {
                "call_tracking_transcription_engine": "faster_whisper",
                "call_tracking_whisper_model_dir": "/nonexistent/whisper-small",
            }
        )
        with self.assertRaises(ValidationError):
            settings.execute()

    def test_find_phrases(self):
        find = transcription.find_phrases
        self.assertEqual(find("What's the PRICE, please?", ["price", "cost"]), ["price"])
        self.assertEqual(find("priceless", ["price"]), [])
        self.assertEqual(find("Яка ціна доставки до Києва?", ["ціна доставки"]), ["ціна доставки"])
        self.assertEqual(find("we can offer  you", ["can offer"]), ["can offer"])
        self.assertEqual(find("", ["price"]), [])


@tagged("post_install", "-at_install")
class TestQualityDemo(CallTrackingCommon):
    """The demo's heard calls: recordings, transcripts, tags and scores of
    two salespeople, made by the real code at demo load. Skipped without demo data."""

    def test_demo_heard_calls(self):
        provider = self.env.ref(
            "call_tracking.demo_provider_second_office", raise_if_not_found=False
        )
        if not provider:
            # Odoo drops a module's whole demo when one file fails: a database
            # with Odoo's own demo data must have this module's too
            self.assertFalse(
                self.env.ref("base.user_demo", raise_if_not_found=False),
                "call_tracking's demo data failed to load (see the log)",
            )
            self.skipTest("no demo data")
        calls = self.env["call.tracking.call"].search(
            [("provider_call_id", "=like", "demo-heard-%")]
        )
        self.assertEqual(len(calls), 6)
        self.assertTrue(all(call.recording_attachment_id.raw for call in calls))
        self.assertEqual(
            set(calls.mapped("transcript_state")), {"done"}, calls.mapped("transcript_error")
        )
        self.assertEqual(len(calls.user_id), 2, "several salespeople")
        self.assertTrue(all(calls.mapped("lead_id")))
        tags = calls.tag_ids.mapped(lambda tag: tag.get_external_id()[tag.id])
        for xmlid in (
            "call_tracking.call_tracking_tag_price",
            "call_tracking.call_tracking_tag_delivery",
        ):
            self.assertIn(xmlid, tags)
        scorecards = calls.scorecard_ids
        self.assertEqual(len(scorecards), 6)
        self.assertEqual(len(scorecards.filtered(lambda s: s.state == "done")), 5)
        self.assertTrue(any(scorecards.line_ids.mapped("suggested")))
        self.assertTrue(any(0 < score < 100 for score in calls.mapped("score")))
