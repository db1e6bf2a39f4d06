from odoo import models
from odoo.tools import SQL

# writes that move a call to another roll-up day (or shift the first call of
# a lead) where the call's new write date alone shows only the new day
ROLLUP_MOVES = {"start_at", "company_id", "lead_id"}


class CallTrackingCall(models.Model):
    """Queue the Call Analysis roll-up days that a deletion or a move of
    calls changes (see ``call.tracking.call.report``'s roll-up)."""

    _inherit = "call.tracking.call"

    def write(self, vals):
        # the old day, company or lead (a call given its first lead has
        # none: the queue after the write covers it)
        if (
            self
            and ROLLUP_MOVES.intersection(vals)
            and ({"start_at", "company_id"}.intersection(vals) or self.lead_id)
        ):
            self._rollup_queue()
        result = super().write(vals)
        if self and "lead_id" in vals and vals["lead_id"]:
            # the new lead's earlier calls: its first call may change
            self.flush_recordset(["lead_id"])
            self._rollup_queue()
        return result

    def unlink(self):
        self._rollup_queue()
        return super().unlink()

    def _rollup_queue(self):
        if self.ids:
            self.flush_recordset()
            self.env["call.tracking.call.report"]._rollup_queue_calls(
                SQL("c.id IN %s", tuple(self.ids))
            )


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def unlink(self):
        # the calls' lead is set to NULL by the database: no write date moves
        if self.ids:
            self.env["call.tracking.call"].flush_model(["lead_id"])
            self.env["call.tracking.call.report"]._rollup_queue_calls(
                SQL("c.lead_id IN %s", tuple(self.ids))
            )
        return super().unlink()
