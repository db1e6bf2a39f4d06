from odoo import api, models
from odoo.tools import SQL


class CallTrackingSession(models.Model):
    """History: who held a number at a given time, for the attribution of
    its calls."""

    _inherit = "call.tracking.session"

    @api.model
    def _get_number_holders(self, number, at, limit):
        """``[(session id, last activity, expiry)]`` of the latest
        ``limit`` sessions that held ``number`` by ``at`` (a naive UTC
        datetime), the latest first: one walk of
        ``call_tracking_session_number_assigned_idx``."""
        self.flush_model(["number_id", "assigned_at", "last_seen_at", "expires_at"])
        return self.env.execute_query(
            SQL(
                """
            SELECT id, COALESCE(last_seen_at, assigned_at), expires_at
              FROM call_tracking_session
             WHERE number_id = %s AND assigned_at <= %s
          ORDER BY assigned_at DESC, id DESC
             LIMIT %s
                """,
                number.id,
                at,
                limit,
            )
        )
