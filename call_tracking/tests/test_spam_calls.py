"""The spam rules (blocklist, no caller id, repeated short calls) and the
managers' verdicts on spam calls."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from .common import CALLER, STATIC, CallTrackingCommon, later


@tagged("post_install", "-at_install")
class TestSpamCalls(CallTrackingCommon):
    def _short_call(self, call_id, minutes, caller=CALLER):
        return self._event(
            call_id=call_id,
            start=later(self.call_time, minutes=minutes).isoformat() + "Z",
            duration=3,
            talk_duration=0,
            status="missed",
            **{"from": caller},
        )

    def test_blocklist_and_not_spam(self):
        blocked = self.env["call.tracking.blocked.number"].create(
            {"number": "+380 50 111 22 33", "note": "robocaller"}
        )
        self.assertEqual(blocked.number, CALLER, "stored in E.164")
        call = self._process(self._event())
        self.assertTrue(call.is_spam)
        self.assertEqual(call.spam_reason, "blocklist")
        self.assertFalse(call.lead_id, "a spam call creates no lead")
        self.assertFalse(self.env["crm.lead"].search([("phone", "=", CALLER)]))

        # a manager's verdict: not spam, the lead is made then
        call.with_user(self.ct_admin).action_mark_not_spam()
        self.assertFalse(call.is_spam)
        self.assertTrue(call.spam_cleared)
        self.assertTrue(call.lead_id)
        self.assertEqual(call.lead_id.tracking_channel_id, call.channel_id)
        self.assertEqual(call.lead_id.phone, CALLER)
        # a later event of the call keeps its verdict and lead
        lead = call.lead_id
        self._process(self._event(talk_duration=120, duration=130))
        self.assertFalse(call.is_spam)
        self.assertEqual(call.lead_id, lead)

        # an archived entry no longer blocks
        blocked.active = False
        call = self._process(self._event(call_id="after-unblock"))
        self.assertFalse(call.is_spam)

    def test_block_caller(self):
        call = self._process(self._event())
        self.assertFalse(call.is_spam)
        lead = call.lead_id
        self.assertTrue(lead)
        # salespeople read the blocklist, they do not write it
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            call.with_user(self.salesman).action_block_caller()
        self.assertFalse(call.is_spam)

        call.with_user(self.ct_admin).action_block_caller()
        self.assertTrue(call.is_spam)
        self.assertEqual(call.spam_reason, "blocklist")
        self.assertEqual(call.lead_id, lead, "the lead already made stays, for sales to close")
        blocked = self.env["call.tracking.blocked.number"].search([("number", "=", CALLER)])
        self.assertEqual(blocked.company_id, call.company_id)
        # the caller's next call is spam: no lead
        self.assertFalse(self._process(self._event(call_id="next")).lead_id)
        # an archived entry comes back rather than a second one
        blocked.active = False
        call.with_user(self.ct_admin).action_mark_not_spam()
        call.with_user(self.ct_admin).action_block_caller()
        self.assertTrue(blocked.active)
        self.assertEqual(
            self.env["call.tracking.blocked.number"]
            .with_context(active_test=False)
            .search_count([("number", "=", CALLER)]),
            1,
        )
        # nothing to block without a caller number
        hidden = self._process(self._event(call_id="hidden", **{"from": "anonymous"}))
        with self.assertRaises(UserError):
            hidden.with_user(self.ct_admin).action_block_caller()

    def test_repeated_short_calls(self):
        self.company.write(
            {"call_tracking_spam_repeat_count": 3, "call_tracking_spam_repeat_minutes": 10}
        )
        first = self._process(self._short_call("r1", 0))
        second = self._process(self._short_call("r2", 2))
        third = self._process(self._short_call("r3", 4))
        self.assertFalse(first.is_spam)
        self.assertFalse(second.is_spam)
        self.assertTrue(third.is_spam)
        self.assertEqual(third.spam_reason, "repeat")
        self.assertFalse(third.lead_id)
        # outside the window, or after a real conversation: not spam
        later_call = self._process(self._short_call("r4", 30))
        self.assertFalse(later_call.is_spam)
        other = "+380501114455"
        self._process(self._event(call_id="t1", **{"from": other}))  # 80 s of talk
        self._process(self._short_call("t2", 1, caller=other))
        self.assertFalse(self._process(self._short_call("t3", 2, caller=other)).is_spam)
        # the rule off
        self.company.call_tracking_spam_repeat_count = 0
        self.assertFalse(self._process(self._short_call("r5", 31)).is_spam)

    def test_no_caller_id(self):
        call = self._process(self._event(call_id="anon-1", **{"from": "anonymous"}))
        self.assertFalse(call.is_spam, "off by default")
        self.company.call_tracking_spam_no_caller_id = True
        call = self._process(self._event(call_id="anon-2", **{"from": "anonymous"}))
        self.assertTrue(call.is_spam)
        self.assertEqual(call.spam_reason, "no_caller_id")
        self.assertFalse(call.lead_id)

    def test_spam_batched_decision(self):
        self.env["call.tracking.blocked.number"].create({"number": CALLER})
        reasons = self.env["call.tracking.call"]._get_spam_reasons(
            [
                (0, self.company.id, CALLER, self.call_time),
                (0, self.company_2.id, CALLER, self.call_time),  # another company's list
            ]
        )
        self.assertEqual(reasons, {0: "blocklist"})

    @users("ct_admin")
    def test_reports_leave_spam_out(self):
        self.env["call.tracking.blocked.number"].create({"number": CALLER})
        spam = self._process(self._event(call_id="spam", to=STATIC))
        fine = self._process(self._event(call_id="fine", to=STATIC, **{"from": "+380501119999"}))
        self.assertTrue(spam.is_spam)
        self.assertFalse(fine.is_spam)
        self.env.flush_all()
        Report = self.env["call.tracking.call.report"]
        ours = [("call_id", "in", (spam | fine).ids)]
        self.assertEqual(Report.search(ours).call_id, fine)
        [[count]] = Report._read_group(ours, aggregates=["call_count:sum"])
        self.assertEqual(count, 1)
        self.assertEqual(Report.search([*ours, ("is_spam", "=", True)]).call_id, spam)
        # the calls menu hides them, the Spam filter shows them; code sees all
        Call = self.env["call.tracking.call"]
        hidden = Call.with_context(call_tracking_hide_spam=True)
        ours = [("provider_call_id", "in", ("spam", "fine"))]
        self.assertEqual(hidden.search(ours), fine)
        self.assertEqual(hidden.search([*ours, ("is_spam", "=", True)]), spam)
        self.assertEqual(Call.search(ours), spam | fine)
        # records asked for by id are read (a form, a link)
        self.assertEqual(hidden.search([("id", "in", (spam | fine).ids)]), spam | fine)
        # cost per channel: the spam call is not a call of the channel
        cost = self.env["call.tracking.cost.report"].search(
            [("channel_id", "=", self.channel_static.id)]
        )
        self.assertEqual(sum(cost.mapped("call_count")), 1)
