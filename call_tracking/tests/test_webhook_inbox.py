from datetime import timedelta
from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo import fields
from odoo.tests import mute_logger, tagged
from odoo.tools import SQL

from .common import SECRET, CallTrackingCommon

MODULE = "odoo.addons.call_tracking"


@tagged("post_install", "-at_install")
class TestWebhookInbox(CallTrackingCommon):
    """Inbox retention, and who calls back a missed call."""

    def _receive(self, payload, secret=SECRET):
        return self._receive_signed(payload, secret=secret)

    def test_purge_by_company_retention(self):
        Event = self.env["call.tracking.webhook.event"]
        self.assertEqual(self._receive(self._event(call_id="old"))[0], 200)
        self.assertEqual(self._receive(self._event(call_id="forged"), secret="nope")[0], 403)
        self.assertEqual(self._receive(self._event(call_id="recent"))[0], 200)
        events = Event.search([("provider_id", "=", self.provider.id)], order="id")
        self.assertEqual(events.mapped("state"), ["processed", "rejected", "processed"])
        now = fields.Datetime.now()
        events[0].received_at = now - timedelta(days=31)
        events[1].received_at = now - timedelta(days=40)
        events[2].received_at = now - timedelta(days=29)
        self.company.call_tracking_webhook_retention_days = 30
        self.assertEqual(Event._cron_purge(batch_size=1), 1, "one batch per run")
        self.assertEqual(Event._cron_purge(), 1)
        self.assertEqual(Event._cron_purge(), 0)
        self.assertEqual(events.exists(), events[2])
        # the calls stay: only the raw requests are purged
        self.assertEqual(len(self._calls_by_id("old") | self._calls_by_id("recent")), 2)
        self.company.call_tracking_webhook_retention_days = 20
        self.assertEqual(Event._cron_purge(), 1)
        self.assertFalse(events.exists())

    def test_other_unique_violation_is_a_failure_not_a_refusal(self):
        """A unique violation other than the Zadarma signed-values one (two
        concurrent requests creating the same UTM source: the stress
        harness's webhooks at volume hit it) is a processing failure (500,
        entry in error, reprocessable), never a refused signature (403)."""
        Call = type(self.env["call.tracking.call"])
        original = Call._process_webhook_events

        def clashing(records, provider, events):
            records.env.cr.execute(
                SQL("INSERT INTO utm_source (name) VALUES ('ct clash'), ('ct clash')")
            )
            return original(records, provider, events)

        with (
            patch.object(Call, "_process_webhook_events", clashing),
            mute_logger("odoo.sql_db", f"{MODULE}.models.call_tracking_webhook_event"),
        ):
            status, _content_type, _body = self._receive(self._event(call_id="clash"))
        self.assertEqual(status, 500)
        event = self.env["call.tracking.webhook.event"].search(
            [("provider_id", "=", self.provider.id)], order="id desc", limit=1
        )
        self.assertEqual(event.state, "error")
        self.assertFalse(self._calls_by_id("clash"))
        # retried (here: reprocessed), it goes through
        event.action_reprocess()
        self.assertEqual(event.state, "processed")
        self.assertEqual(len(self._calls_by_id("clash")), 1)

    def _calls_by_id(self, call_id):
        return self.env["call.tracking.call"].search([("provider_call_id", "=", call_id)])

    def _missed(self, call_id, **values):
        status, _content_type, answer = self._receive(
            self._event(call_id=call_id, status="missed", talk_duration=0, **values)
        )
        self.assertEqual(status, 200, answer)
        activity = self._calls_by_id(call_id).lead_id.activity_ids
        self.assertEqual(len(activity), 1)
        return activity.user_id

    def test_missed_call_always_has_someone_to_call_back(self):
        """The lead's salesperson, else the team leader, else a Call Tracking
        administrator of the company: a missed call never falls through."""
        self.company.call_tracking_repeat_days = 0  # a new lead per call
        self.assertEqual(self._missed("m1"), self.salesman, "the lead's salesperson")
        # no salesperson on the provider: the team leader
        self.provider.user_id = False
        self.team.user_id = self.salesman2
        self.assertEqual(self._missed("m2", **{"from": "+380502220002"}), self.salesman2)
        # nobody on the provider nor the team: a Call Tracking administrator
        # of the company (not the one of the second company)
        self.team.user_id = False
        self.assertTrue(self.manager_2.has_group("call_tracking.call_tracking_group_manager"))
        user = self._missed("m3", **{"from": "+380502220003"})
        self.assertTrue(user.has_group("call_tracking.call_tracking_group_manager"))
        self.assertIn(self.company, user.company_ids)
        self.assertFalse(user.share)
        self.assertNotEqual(user, self.env.ref("base.user_root"))

    def test_utm_value_created_concurrently_is_retried(self):
        """Two first calls of one new campaign at once: the second creates
        the UTM source the first committed after its transaction began. It
        is invisible to it, so the request ends in PostgreSQL's
        serialization failure, which Odoo retries in a new transaction
        (found by the stress harness: it was a 500)."""
        now = fields.Datetime.now()
        session = self._create_session(
            now - timedelta(minutes=5), now + timedelta(minutes=25), utm_source="ct-race-src"
        )
        # committed by another transaction after this one's snapshot
        with self.registry.cursor() as other:
            other.execute(SQL("INSERT INTO utm_source (name) VALUES ('ct-race-src')"))
        try:
            with (
                self.assertRaises(SerializationFailure) as caught,
                mute_logger("odoo.sql_db"),
            ):
                self.env["call.tracking.call"]._get_utm_values(session, self.channel_ads)
            self.assertEqual(caught.exception.pgcode, "40001", "retried by Odoo")
        finally:
            with self.registry.cursor() as other:
                other.execute(SQL("DELETE FROM utm_source WHERE name = 'ct-race-src'"))
