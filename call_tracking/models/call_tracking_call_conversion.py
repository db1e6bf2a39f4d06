from odoo import fields, models

from .call_tracking_call import FINAL_STATUSES
from .call_tracking_destination import CALL_TRIGGERS


class CallTrackingCall(models.Model):
    """A finished call fires the destinations' call triggers (any attributed
    call, first-time caller, answered for N seconds)."""

    _inherit = "call.tracking.call"

    conversion_ids = fields.One2many(
        "call.tracking.conversion",
        "call_id",
        string="Conversions",
        groups="call_tracking.call_tracking_group_manager",
    )

    def _apply_webhook_event(self, event):
        was_final = self.status in FINAL_STATUSES
        res = super()._apply_webhook_event(event)
        if not was_final and self.status in FINAL_STATUSES:
            self.env["call.tracking.conversion"]._enqueue(self, CALL_TRIGGERS)
        return res


class CrmLead(models.Model):
    """A call-lead marked targeted, or won, fires those triggers for the
    call that brought it (its first attributed call); won: the expected
    revenue is the value."""

    _inherit = "crm.lead"

    conversion_ids = fields.One2many(
        "call.tracking.conversion",
        "lead_id",
        string="Conversions",
        groups="call_tracking.call_tracking_group_manager",
    )

    def write(self, vals):
        res = super().write(vals)
        if vals.get("call_quality") == "targeted":
            self._enqueue_call_conversions("targeted")
        if "stage_id" in vals or "probability" in vals:
            won = self.filtered(lambda lead: lead.stage_id.is_won and lead.active)
            won._enqueue_call_conversions("won")
        return res

    def _enqueue_call_conversions(self, trigger):
        calls_sudo = (
            self.env["call.tracking.call"]
            .sudo()
            .search(
                [
                    ("lead_id", "in", self.ids),
                    ("attribution_method", "in", ("session", "session_expired", "static")),
                ],
                order="start_at, id",
            )
        )
        if not calls_sudo:
            return
        first = {}
        for call in calls_sudo:
            first.setdefault(call.lead_id, call)
        calls = calls_sudo.browse([call.id for call in first.values()])
        values = None
        if trigger == "won":
            values = {call.id: call.lead_id.expected_revenue or None for call in calls}
        self.env["call.tracking.conversion"]._enqueue(calls, (trigger,), values)
