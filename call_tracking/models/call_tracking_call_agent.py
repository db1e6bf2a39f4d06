from odoo import models
from odoo.tools import escape_psql


class CallTrackingCall(models.Model):
    """The agent of a call: the Odoo user a provider's event names (its
    ``agent``, see ``const.py``) becomes the call's salesperson, so that the
    reports and the staffing advice count who answered."""

    _inherit = "call.tracking.call"

    def _get_event_values(self, event, is_end):
        vals = super()._get_event_values(event, is_end)
        if event.get("agent"):
            agent = self._find_agent(event["agent"])
            if agent and agent != self.user_id:
                vals["user_id"] = agent.id
        return vals

    def _find_agent(self, agent):
        """The internal user of the call's company whose login or email is
        ``agent`` (case-insensitive), or an empty recordset."""
        self.ensure_one()
        agent = (agent or "").strip()
        users_sudo = self.env["res.users"].sudo()
        if not agent:
            return users_sudo
        pattern = escape_psql(agent)
        return users_sudo.search(
            [
                ("share", "=", False),
                ("company_ids", "in", self.company_id.id),
                "|",
                ("login", "=ilike", pattern),
                ("email", "=ilike", pattern),
            ],
            order="id",
            limit=1,
        )
