"""The caller's journey on the lead: first and last touch kept as calls and
visits arrive in any order, and one timeline of calls, visits, page views
and form submissions."""

from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CallTrackingCommon


@tagged("post_install", "-at_install")
class TestJourney(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead = cls.env["crm.lead"].create(
            {"name": "Journey", "user_id": cls.salesman.id, "company_id": cls.company.id}
        )
        # the visitor's visits: Facebook on Jan 1, Google Ads on Jan 3, a
        # direct return (no channel) on Jan 5
        cls.visit_facebook = cls._create_session(
            datetime(2026, 1, 1, 10),
            datetime(2026, 1, 1, 10, 30),
            channel_id=cls.channel_facebook.id,
            visitor_key="vk-journey",
        )
        cls.visit_google = cls._create_session(
            datetime(2026, 1, 3, 10), datetime(2026, 1, 3, 10, 30), visitor_key="vk-journey"
        )
        cls.visit_direct = cls._create_session(
            datetime(2026, 1, 5, 10),
            datetime(2026, 1, 5, 10, 30),
            mode="default",
            number_id=False,
            pool_id=False,
            channel_id=False,
            visitor_key="vk-journey",
        )
        cls.env["website.track"].create(
            {
                "visitor_id": cls.visitor.id,
                "url": "/shop/plumbing",
                "visit_datetime": datetime(2026, 1, 3, 10, 1),
            }
        )

    def _call(self, start, channel, name):
        channel = channel or self.env["call.tracking.channel"]
        return self.env["call.tracking.call"].create(
            {
                "provider_id": self.provider.id,
                "provider_call_id": name,
                "company_id": self.company.id,
                "start_at": start,
                "caller_number": "+380501234567",
                "status": "answered",
                "talk_duration": 60,
                "channel_id": channel.id,
                "source_id": channel.source_id.id,
                "medium_id": channel.medium_id.id,
                "lead_id": self.lead.id,
            }
        )

    def _touches(self):
        lead = self.lead
        return (
            (lead.first_touch_at, lead.first_touch_channel_id),
            (lead.last_touch_at, lead.last_touch_channel_id),
        )

    def test_touches_as_calls_and_visits_arrive_out_of_order(self):
        # a billboard call on Jan 4 comes first: first and last touch
        billboard_at = datetime(2026, 1, 4, 12)
        self._call(billboard_at, self.channel_billboard, "journey-1")
        self.assertEqual(
            self._touches(),
            ((billboard_at, self.channel_billboard), (billboard_at, self.channel_billboard)),
        )
        self.assertEqual(self.lead.last_touch_source_id, self.source_billboard)
        self.assertEqual(self.lead.last_touch_medium_id, self.medium_offline)
        # the visitor is linked to the lead: its earlier visits come first,
        # the later direct return is no touch from anywhere
        self.lead.visitor_ids = self.visitor
        self.assertEqual(
            self._touches(),
            (
                (datetime(2026, 1, 1, 10), self.channel_facebook),
                (billboard_at, self.channel_billboard),
            ),
        )
        # a call of Dec 31 recovered late (reconciliation): the new first touch
        early = datetime(2025, 12, 31, 9)
        self._call(early, self.channel_google, "journey-0")
        self.assertEqual(self._touches()[0], (early, self.channel_google))
        # a later call on Jan 9: the new last touch
        late = datetime(2026, 1, 9, 9)
        self._call(late, self.channel_seo, "journey-2")
        self.assertEqual(self._touches()[1], (late, self.channel_seo))

    def test_direct_only_journey(self):
        """A journey of direct touches only has them as first and last."""
        start = datetime(2026, 2, 1, 9)
        self._call(start, None, "journey-direct")
        self._call(start + timedelta(days=1), None, "journey-direct-2")
        self.assertEqual(
            self._touches(),
            (
                (start, self.env["call.tracking.channel"]),
                (start + timedelta(days=1), self.env["call.tracking.channel"]),
            ),
        )

    def test_timeline(self):
        self.lead.visitor_ids = self.visitor
        call = self._call(datetime(2026, 1, 4, 12), self.channel_billboard, "journey-t")
        steps = self.lead.journey_ids.sorted(lambda step: (step.date, step.kind))
        self.assertEqual(
            [(step.kind, step.date, step.channel_id) for step in steps],
            [
                ("visit", datetime(2026, 1, 1, 10), self.channel_facebook),
                ("visit", datetime(2026, 1, 3, 10), self.channel_google),
                ("page", datetime(2026, 1, 3, 10, 1), self.env["call.tracking.channel"]),
                ("call", datetime(2026, 1, 4, 12), self.channel_billboard),
                ("visit", datetime(2026, 1, 5, 10), self.env["call.tracking.channel"]),
            ],
        )
        self.assertEqual(steps.filtered(lambda s: s.kind == "call").call_id, call)
        self.assertEqual(steps.filtered(lambda s: s.kind == "page").url, "/shop/plumbing")

    def test_form_submission(self):
        """A lead of a website form (a visitor, no call that made it) starts
        its timeline with the form, carrying the lead's own UTMs."""
        source = self.env["utm.source"].create({"name": "Newsletter CT"})
        lead = self.env["crm.lead"].create(
            {
                "name": "From the form",
                "user_id": self.salesman.id,
                "visitor_ids": [(6, 0, self.visitor.ids)],
                "source_id": source.id,
            }
        )
        form = lead.journey_ids.filtered(lambda step: step.kind == "form")
        self.assertEqual(len(form), 1)
        self.assertEqual(form.source_id, source)
        self.assertEqual(lead.last_touch_source_id, source)
        self.assertEqual(lead.first_touch_channel_id, self.channel_facebook)

    def test_call_analysis_first_and_last_touch(self):
        """The same calls, grouped by the lead's first or last touch."""
        self.lead.visitor_ids = self.visitor
        self._call(datetime(2026, 1, 4, 12), self.channel_billboard, "journey-r1")
        self._call(datetime(2026, 1, 6, 12), self.channel_billboard, "journey-r2")
        report = self.env["call.tracking.call.report"].with_user(self.ct_admin)
        domain = [("lead_id", "=", self.lead.id)]
        by_call = dict(report._read_group(domain, ["channel_id"], ["call_count:sum"]))
        by_first = dict(report._read_group(domain, ["first_touch_channel_id"], ["call_count:sum"]))
        by_last = dict(report._read_group(domain, ["last_touch_channel_id"], ["call_count:sum"]))
        self.assertEqual(by_call, {self.channel_billboard: 2})
        self.assertEqual(by_first, {self.channel_facebook: 2})
        self.assertEqual(by_last, {self.channel_billboard: 2})

    def test_journey_access(self):
        self.lead.visitor_ids = self.visitor
        self._call(datetime(2026, 1, 4, 12), self.channel_billboard, "journey-a")
        Journey = self.env["call.tracking.journey"]
        self.assertTrue(Journey.with_user(self.salesman).search([("lead_id", "=", self.lead.id)]))
        # another salesperson's lead is not theirs to read
        self.assertFalse(Journey.with_user(self.salesman2).search([("lead_id", "=", self.lead.id)]))
        with self.assertRaises(AccessError):
            Journey.with_user(self.portal).search([])
