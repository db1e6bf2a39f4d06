from odoo.tests import tagged, users

from .common import CALLER, CallTrackingCommon


@tagged("post_install", "-at_install")
class TestLeadMerge(CallTrackingCommon):
    @users("ct_salesman")
    def test_merge_keeps_the_calls(self):
        """Merging call-leads (CRM's merge wizard), as their salesperson,
        moves every call to the kept lead instead of leaving them without a
        lead."""
        first = self._process(self._event(call_id="merge-1"))
        # another caller: a lead of its own
        second = self._process(self._event(call_id="merge-2", **{"from": "+380502223344"}))
        self.assertTrue(first.lead_id)
        self.assertTrue(second.lead_id)
        self.assertNotEqual(first.lead_id, second.lead_id)
        self.assertEqual(first.caller_number, CALLER)
        leads = (first.lead_id | second.lead_id).with_env(self.env)
        wizard = (
            self.env["crm.merge.opportunity"]
            .with_context(active_model="crm.lead", active_ids=leads.ids)
            .create({"opportunity_ids": [(6, 0, leads.ids)]})
        )
        kept = wizard.action_merge()
        kept_lead = self.env["crm.lead"].browse(kept["res_id"])
        self.assertEqual(len((first.lead_id | second.lead_id).exists()), 1)
        self.assertEqual(kept_lead.call_ids, first | second)
        self.assertEqual((first | second).lead_id, kept_lead)
        self.assertEqual(kept_lead.call_count, 2)
