from odoo.tests import tagged

from ..exceptions import WebhookPayloadError
from .common import CallTrackingCommon


@tagged("post_install", "-at_install")
class TestCallAgent(CallTrackingCommon):
    """The generic event's optional ``agent`` (const.py): the Odoo user who
    answered, by login or email, becomes the call's salesperson and the new
    lead's; without it, or when it names nobody, the provider's salesperson
    keeps them."""

    def test_agent_by_email_owns_call_and_new_lead(self):
        self.salesman2.email = "Sam.Sales@Example.com"
        call = self._process(
            self._event("call_start", agent="sam.sales@example.com"),
            self._event("call_end", agent="sam.sales@example.com"),
        )
        self.assertEqual(call.user_id, self.salesman2)
        self.assertEqual(call.lead_id.user_id, self.salesman2)

    def test_agent_named_at_the_end_only(self):
        """A PBX that knows the agent at the end only: the call is theirs,
        the lead created at the start keeps the provider's salesperson."""
        call = self._process(
            self._event("call_start"), self._event("call_end", agent=self.salesman2.login)
        )
        self.assertEqual(call.user_id, self.salesman2)
        self.assertEqual(call.lead_id.user_id, self.salesman)

    def test_repeat_call_answered_by_another_agent(self):
        first = self._process(self._event(call_id="a-1", agent=self.salesman2.login))
        second = self._process(self._event(call_id="a-2", agent=self.manager.login))
        self.assertEqual(second.lead_id, first.lead_id, "the caller's open lead")
        self.assertEqual(second.user_id, self.manager, "the call is the manager's")
        self.assertEqual(first.lead_id.user_id, self.salesman2, "the lead stays Sam's")

    def test_unknown_or_outside_agent_is_ignored(self):
        portal = self.env["res.users"].create(
            {
                "name": "Portal Pete",
                "login": "pete@example.com",
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        for call_id, agent in (
            ("u-1", "nobody@example.com"),
            ("u-2", portal.login),  # not an internal user
            ("u-3", "ct_sales%"),  # no pattern matching
        ):
            call = self._process(self._event(call_id=call_id, agent=agent))
            self.assertEqual(call.user_id, self.salesman, agent)
            self.assertEqual(call.status, "answered", "the call is kept")

    def test_agent_must_be_a_string(self):
        with self.assertRaises(WebhookPayloadError):
            self._process(self._event(agent={"name": "Sam"}))
