from odoo import api, models
from odoo.tools import SQL

from ..tools.retention import purge_batch
from .call_tracking_session import now_sql

PURGE_BATCH = 5000


class CallTrackingSession(models.Model):
    """Retention: sessions older than their company's retention are
    deleted by the purge cron."""

    _inherit = "call.tracking.session"

    @api.model
    def _cron_purge(self, batch_size=PURGE_BATCH, now=None):
        """Delete the sessions older than their company's retention, one
        batch per run; the cron is re-triggered while some remain. Sessions
        still holding a lease are never deleted."""
        self.env["res.company"].flush_model(["call_tracking_session_retention_days"])
        done = purge_batch(
            self,
            SQL(
                """
                SELECT s.id
                  FROM call_tracking_session s
                  JOIN res_company c ON c.id = s.company_id
                 WHERE s.assigned_at < %(now)s
                           - c.call_tracking_session_retention_days * interval '1 day'
                   AND (s.expires_at IS NULL OR s.expires_at < %(now)s)
                """,
                now=now_sql(now),
            ),
            batch_size,
            "old visitor sessions",
        )
        self.env["call.tracking.number"].invalidate_model(["lease_session_id"])
        return done
