"""A sales manager scores a call in Chromium, from the call form: the
transcript's suggestions are pre-ticked, the manager decides. The tour is
call_tracking/static/tests/tours/call_tracking_quality_tour.js."""

from odoo.tests import tagged

from .common import CallTrackingHttpCommon


@tagged("post_install", "-at_install")
class TestQualityTour(CallTrackingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the shipped checklist (1, 2, 2, 2), and nothing else
        cls.shipped = cls.env["call.tracking.score.criterion"].browse(
            [
                cls.env.ref(f"call_tracking.call_tracking_score_criterion_{key}").id
                for key in ("greeting", "need", "offer", "next_step")
            ]
        )
        cls.env["call.tracking.score.criterion"].search(
            [("id", "not in", cls.shipped.ids)]
        ).active = False
        cls.call = cls.env["call.tracking.call"].create(
            {
                "provider_id": cls.provider.id,
                "provider_call_id": "tour-scorecard-1",
                "company_id": cls.company.id,
                "caller_number": "+380501112299",
                "status": "answered",
                "talk_duration": 42,
                "user_id": cls.salesman.id,
                "transcript_state": "done",
                "transcript_lang": "en",
                "transcript": "good morning thank you for calling we can offer you a discount",
                "transcript_segments": [
                    {"start": 0.3, "end": 2.1, "text": "good morning thank you for calling"},
                    {"start": 2.6, "end": 4.4, "text": "we can offer you a discount"},
                ],
                "tag_ids": [(4, cls.env.ref("call_tracking.call_tracking_tag_delivery").id)],
            }
        )
        attachment = cls.env["ir.attachment"].create(
            {
                "name": "tour.wav",
                "raw": b"RIFF",
                "res_model": cls.call._name,
                "res_id": cls.call.id,
            }
        )
        cls.call.recording_attachment_id = attachment

    def test_manager_scores_a_call(self):
        url = f"/odoo/action-call_tracking.call_tracking_call_action/{self.call.id}"
        self.start_tour(url, "call_tracking_scorecard_tour", login=self.manager.login)
        scorecard = self.call.scorecard_ids
        self.assertEqual(scorecard.state, "done")
        self.assertEqual(scorecard.scorer_id, self.manager)
        ticked = scorecard.line_ids.filtered("checked").criterion_id
        self.assertEqual(
            ticked,
            self.env.ref("call_tracking.call_tracking_score_criterion_greeting")
            | self.env.ref("call_tracking.call_tracking_score_criterion_offer")
            | self.env.ref("call_tracking.call_tracking_score_criterion_next_step"),
        )
        # (1 + 2 + 2) / (1 + 2 + 2 + 2)
        self.assertEqual(scorecard.score, 71.4)  # (1 + 2 + 2) / 7, stored to one decimal
