"""Calls long after their number's lease: the company's late-call window."""

from odoo.tests import tagged

from .common import CallTrackingCommon, later


@tagged("post_install", "-at_install")
class TestLateCallWindow(CallTrackingCommon):
    def test_call_within_and_after_the_window(self):
        session = self._create_session(
            later(self.call_time, hours=-30), later(self.call_time, hours=-23)
        )
        call = self._process(self._event(call_id="within"))
        self.assertEqual(call.attribution_method, "session_expired")
        self.assertEqual(call.session_id, session)
        self.assertGreater(call.attribution_probability, 0.0)

        late = self._event(call_id="late", start=later(self.call_time, hours=2).isoformat() + "Z")
        call = self._process(late)
        self.assertEqual(call.attribution_method, "session_late")
        self.assertFalse(call.session_id)
        self.assertEqual(call.channel_id, self.channel_ads, "the pool's channel, without a visit")
        self.assertEqual(call.attribution_probability, 0.0)
        self.assertEqual(call.attribution_confidence, "none")
        self.assertTrue(call.lead_id, "an unattributed call still makes its lead")

        # a longer window: the same late call is attributed
        self.company.call_tracking_late_call_hours = 48
        call = self._process(dict(late, call_id="late-2"))
        self.assertEqual(call.session_id, session)
