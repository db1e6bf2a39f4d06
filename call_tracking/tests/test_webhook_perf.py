from datetime import timedelta

from odoo import fields
from odoo.tests import tagged, users, warmup
from odoo.tools import SQL

from ..models.res_partner import PHONE_FIELDS, SANITIZED_INDEX, phone_tail_expression
from .common import (
    CALLER,
    STATIC,
    CallTrackingCommon,
    later,
    receive_webhook,
    signed_generic_request,
)


@tagged("post_install", "-at_install")
class TestWebhookPerformance(CallTrackingCommon):
    """The webhook hot path: a bounded number of queries per request (run as
    the controller runs it: public user, provider in sudo), notification
    emails queued instead of sent inside the request, and the caller's
    contact found through an index."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # an ordinary user who is notified by email, as most salespeople are
        cls.salesman.notification_type = "email"
        cls.mail_cron = cls.env.ref("mail.ir_cron_mail_scheduler_action")

    def _receive(self, payload):
        """What the controller does with a signed generic request."""
        provider_sudo = (
            self.env["call.tracking.provider"]
            .sudo()
            ._get_by_webhook_token(self.provider.webhook_token)
        )
        status, _content_type, answer = receive_webhook(
            provider_sudo, signed_generic_request(payload)
        )
        self.assertEqual(status, 200, answer)

    def _call(self, call_id):
        return self.env["call.tracking.call"].sudo().search([("provider_call_id", "=", call_id)])

    # ------------------------------------------------------------------
    # Query counts (the figures of a warm worker; see tests/bench_webhook.py)
    # ------------------------------------------------------------------

    @users("public")
    @warmup
    def test_query_count_new_caller(self):
        """call_start of a first-time caller (inbox, attribution, partner
        look-up, lead with its followers and creation message), then its
        call_end (the chatter log note)."""
        self._create_session(later(self.call_time, minutes=-5), later(self.call_time, minutes=25))
        # 60 measured (call and inbox entry through create(), the note
        # through _message_log), the spam rules and the learned call delays
        # included; the bound leaves the ORM room (an N+1 over the lead's
        # followers or the caller's history would exceed it)
        with self.assertQueryCount(public=70):
            self._receive(self._event("call_start", call_id="qc-1"))
        # 9 measured: the call locked, merged, and the note logged
        with self.assertQueryCount(public=12):
            self._receive(self._event("call_end", call_id="qc-1"))
        call = self._call("qc-1")
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.attribution_method, "session")
        self.assertTrue(call.lead_id)

    @users("public")
    @warmup
    def test_query_count_repeat_caller(self):
        """A repeat caller's call: the open lead is reused, nothing created."""
        self._receive(self._event("call_end", call_id="qc-first", to=STATIC))
        start = later(self.call_time, hours=2).strftime("%Y-%m-%dT%H:%M:%SZ")
        # 18 measured, the spam rules included; nothing is created but the
        # call and its inbox entry
        with self.assertQueryCount(public=24):
            self._receive(self._event("call_end", call_id="qc-again", to=STATIC, start=start))
        first, again = self._call("qc-first"), self._call("qc-again")
        self.assertTrue(again.is_repeat)
        self.assertEqual(again.lead_id, first.lead_id)

    @users("public")
    @warmup
    def test_query_count_missed_call(self):
        """A missed call delivered as one call_end: lead and call-back activity."""
        # 80 measured, the spam rules included; no visitor held the pool
        # number, so the call is credited to the pool's first channel (read
        # here)
        with self.assertQueryCount(public=95):
            self._receive(
                self._event("call_end", call_id="qc-missed", status="missed", talk_duration=0)
            )
        self.assertEqual(len(self._call("qc-missed").lead_id.activity_ids), 1)

    # ------------------------------------------------------------------
    # Behaviour kept by the faster path
    # ------------------------------------------------------------------

    def test_notifications_queued_not_sent(self):
        """The salesperson follows the new lead and is notified of the
        call-back activity of a missed call, by an email that waits in the
        mail queue (asked to run within a minute): no SMTP session inside the
        provider's request. As with CRM's automatic assignment, no "you have
        been assigned" message per call."""
        before = fields.Datetime.now()
        self._receive(self._event("call_end", status="missed", talk_duration=0))
        lead = self._call("call-1").lead_id
        partner = self.salesman.partner_id
        self.assertIn(partner, lead.message_partner_ids)
        self.assertTrue(
            lead.message_ids.filtered(lambda m: m.subtype_id == self.env.ref("crm.mt_lead_create"))
        )
        notified = self.env["mail.message"].search(
            [
                ("model", "=", "crm.lead"),
                ("res_id", "=", lead.id),
                ("partner_ids", "in", partner.ids),
            ]
        )
        self.assertEqual(len(notified), 1)
        self.assertIn("Call back", notified.subject or notified.body)
        mails = self.env["mail.mail"].sudo().search([("mail_message_id", "in", notified.ids)])
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.state, "outgoing")
        triggers = (
            self.env["ir.cron.trigger"]
            .sudo()
            .search([("cron_id", "=", self.mail_cron.id), ("call_at", ">=", before)])
        )
        self.assertTrue(triggers)
        self.assertLessEqual(max(triggers.mapped("call_at")), before + timedelta(minutes=1))

    def test_call_log_note(self):
        """The call ends in one internal log note by OdooBot on the lead."""
        self._receive(self._event("call_start"))
        self._receive(self._event("call_end", recording_url="https://rec.example/9.mp3"))
        notes = self._call("call-1").lead_id.message_ids.filtered(
            lambda message: "Phone call from" in message.body
        )
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(notes.message_type, "notification")
        self.assertTrue(notes.is_internal)
        self.assertEqual(notes.author_id, self.env.ref("base.partner_root"))
        self.assertEqual(notes.email_from, notes.author_id.email_formatted)
        self.assertIn("1:35", notes.body)

    def test_call_log_note_author_address_follows_odoobot(self):
        """The note's sender is OdooBot's address of the moment."""
        odoobot = self.env.ref("base.partner_root")
        self._receive(self._event("call_end", call_id="n1"))
        odoobot.write({"name": "CallBot", "email": "callbot@example.com"})
        self._receive(self._event("call_end", call_id="n2", **{"from": "+380502223344"}))
        note = self._call("n2").lead_id.message_ids.filtered(
            lambda message: message.author_id == odoobot and "Phone call from" in message.body
        )
        self.assertEqual(note.email_from, '"CallBot" <callbot@example.com>')

    def test_archived_lead_not_reused(self):
        self._receive(self._event("call_end", call_id="a1"))
        first = self._call("a1")
        first.lead_id.action_archive()
        start = later(self.call_time, hours=1).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._receive(self._event("call_end", call_id="a2", start=start))
        second = self._call("a2")
        self.assertTrue(second.is_repeat)
        self.assertFalse(second.is_first_call)
        self.assertNotEqual(second.lead_id, first.lead_id)

    def test_partner_matched_in_any_format(self):
        self.company.country_id = self.env.ref("base.ua")
        self.company.call_tracking_repeat_days = 0  # a new lead for every call
        Partner = self.env["res.partner"]
        other_company = self.env["res.company"].create({"name": "Other CT Partner Co"})
        # the caller's number, but not eligible: archived, or another company's
        Partner.create({"name": "Archived", "phone": CALLER, "active": False})
        Partner.create({"name": "Elsewhere", "phone": CALLER, "company_id": other_company.id})
        # the same last 8 digits, another number
        Partner.create({"name": "Lookalike", "phone": "+1 650 111 2233"})
        # the caller's number typed in national format as the landline; the
        # mobile (another number) is the one phone_validation sanitizes
        anna = Partner.create({"name": "Anna", "phone": "050 111-22-33", "mobile": "+380671234567"})
        self._receive(self._event("call_end", call_id="p1"))
        self.assertEqual(self._call("p1").lead_id.partner_id, anna)
        # matched on the mobile too
        self._receive(self._event("call_end", call_id="p2", **{"from": "+380 67 123 45 67"}))
        self.assertEqual(self._call("p2").lead_id.partner_id, anna)
        # a contact whose sanitized number is the caller's comes first
        zenon = Partner.create({"name": "Zenon", "phone": "+380 50 111 22 33"})
        self._receive(self._event("call_end", call_id="p3"))
        expected = zenon if "phone_sanitized" in Partner._fields else anna
        self.assertEqual(self._call("p3").lead_id.partner_id, expected)
        if "phone_sanitized" in Partner._fields:
            # typed with an extension: only its sanitized number is the caller's
            office = Partner.create({"name": "Office", "phone": "+380 44 555 66 77 ext. 12"})
            self._receive(self._event("call_end", call_id="p4", **{"from": "+380445556677"}))
            self.assertEqual(self._call("p4").lead_id.partner_id, office)

    def test_partner_lookup_uses_index(self):
        """The candidates query filters on exactly the expressions that the
        partial indexes of ``res.partner.init()`` index, under their
        predicates, so PostgreSQL can answer it from them whatever a table's
        statistics. Checked on the catalog and on the query, not on a plan:
        the expression of each index in the database is compared with the
        one the query uses, both deparsed by PostgreSQL."""
        Partner = self.env["res.partner"]
        query = Partner._call_tracking_phone_query("380501112233", self.company, 20)
        indexes = {
            name: (valid, expression, predicate)
            for name, valid, expression, predicate in self.env.execute_query(
                SQL(
                    """
                    SELECT c.relname, i.indisvalid,
                           pg_get_expr(i.indexprs, i.indrelid),
                           pg_get_expr(i.indpred, i.indrelid)
                      FROM pg_index i
                      JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE i.indrelid = 'res_partner'::regclass
                    """
                )
            )
        }
        # what PostgreSQL makes of the query's expression, on a scratch table
        # with the same column types
        self.env.cr.execute(
            SQL(
                "CREATE TEMPORARY TABLE ct_partner_scratch (phone varchar, mobile varchar)"
                " ON COMMIT DROP"
            )
        )
        for fname in PHONE_FIELDS:
            with self.subTest(fname=fname):
                tail = SQL(phone_tail_expression(fname))
                self.env.cr.execute(SQL("CREATE INDEX ON ct_partner_scratch ((%s))", tail))
                [expected] = self.env.execute_query(
                    SQL(
                        """
                        SELECT pg_get_expr(i.indexprs, i.indrelid)
                          FROM pg_index i
                         WHERE i.indrelid = 'ct_partner_scratch'::regclass
                      ORDER BY i.indexrelid DESC LIMIT 1
                        """
                    )
                )
                valid, expression, predicate = indexes[
                    f"res_partner_{fname}_tail_call_tracking_index"
                ]
                self.assertTrue(valid)
                self.assertEqual(expression, expected[0])
                self.assertEqual(predicate, f"({fname} IS NOT NULL)")
                # the query compares that expression, under that predicate
                self.assertIn(
                    SQL(
                        "(%s IS NOT NULL AND %s = %s)", SQL.identifier(fname), tail, "01112233"
                    ).code,
                    query.code,
                )
        if "phone_sanitized" in Partner._fields:
            self.assertTrue(indexes[SANITIZED_INDEX][0])
            self.assertIn("phone_sanitized = %s", query.code)
        # a short number (no 8 digits to compare) is the only unindexed form
        self.assertNotIn(
            phone_tail_expression("phone"),
            Partner._call_tracking_phone_query("1234567", self.company, 20).code,
        )
        with self.assertQueryCount(1):
            Partner._call_tracking_phone_candidates("380501112233", self.company)
