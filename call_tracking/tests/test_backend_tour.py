"""Browser tours of the back end, as the people who use it.

A signed provider webhook goes through the provider's real receiving path
(inbox, signature, call, attribution to a static billboard number, lead for
the provider's salesperson); then, in Chromium, the salesperson judges the
call-lead from the CRM pipeline, and a sales manager reads it in Call
Tracking > Reporting > Call Analysis and opens the request in the Webhook
Inbox. The tours are
call_tracking/static/tests/tours/call_tracking_backend_tour.js.
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..report.call_tracking_call_report_rollup import ROLLUP_TABLES
from .common import BILLBOARD, CallTrackingHttpCommon, rollup_build, rollup_tables

CALLER = "+12125550888"


@tagged("post_install", "-at_install")
class TestBackendTour(CallTrackingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # no leads stage: call-leads are opportunities in the pipeline
        cls.team.write({"use_leads": False, "member_ids": [(4, cls.salesman.id)]})
        cls.channel = cls.channel_billboard
        start = fields.Datetime.now() - timedelta(hours=1)
        payload = {
            "event": "call_end",
            "call_id": "tour-call-1",
            "from": CALLER,
            "to": BILLBOARD,
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": 95,
            "talk_duration": 80,
            "status": "answered",
        }
        cls.webhook_status, _content_type, _answer = cls._receive_signed(payload)
        cls.call = cls.env["call.tracking.call"].search([("provider_call_id", "=", "tour-call-1")])
        cls.lead = cls.call.lead_id
        cls.lead.name = "Tour call lead"

    def test_fixture(self):
        """The tours start from a fresh, unqualified opportunity of the
        salesperson, attributed to the billboard."""
        self.assertEqual(self.webhook_status, 200)
        self.assertEqual(len(self.call), 1)
        self.assertEqual(self.call.channel_id, self.channel)
        self.assertEqual(self.call.webhook_event_ids.state, "processed")
        self.assertEqual(self.lead.type, "opportunity")
        self.assertEqual(self.lead.user_id, self.salesman)
        self.assertEqual(self.lead.tracking_channel_id, self.channel)
        self.assertFalse(self.lead.call_quality)

    def test_salesperson_qualifies_call_lead(self):
        self.start_tour("/odoo", "call_tracking_salesperson_tour", login=self.salesman.login)
        self.lead.invalidate_recordset()
        self.call.invalidate_recordset()
        self.assertEqual(self.lead.call_quality, "untargeted")
        self.assertEqual(
            self.lead.call_quality_reason_id, self.env.ref("call_tracking.quality_reason_spam")
        )
        self.assertEqual(self.call.quality, "untargeted", "the call mirrors the lead")

    def test_manager_call_analysis_and_inbox(self):
        # the calls' summary built (in the companies' and the manager's time
        # zone): the pivot is read from it, and the report says how fresh it is
        self.env["res.company"].search([]).partner_id.write({"tz": "UTC"})
        self.manager.tz = "UTC"
        rollup_build(self.env)
        with rollup_tables() as tables:
            self.start_tour("/odoo", "call_tracking_manager_report_tour", login=self.manager.login)
        self.assertIn(ROLLUP_TABLES[0][0], tables, "the pivot reads the monthly summary")
