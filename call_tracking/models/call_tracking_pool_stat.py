from odoo import fields, models


class CallTrackingPoolStat(models.Model):
    """Hourly pool figures, upserted by the assignment: new arrivals, the
    arrivals that found the pool full, and the peak of live leases. Kept after
    sessions are purged, for pool sizing."""

    _name = "call.tracking.pool.stat"
    _description = "Call Tracking Pool Hourly Statistics"
    _order = "hour desc, pool_id"

    pool_id = fields.Many2one(
        "call.tracking.pool", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="pool_id.company_id", store=True, index=True)
    hour = fields.Datetime(required=True, readonly=True, help="Start of the hour (UTC).")
    arrivals = fields.Integer(readonly=True, help="New visitors that asked this pool for a number.")
    exhaustions = fields.Integer(readonly=True, help="Arrivals answered with the fallback number.")
    peak_leases = fields.Integer(readonly=True, help="Most live leases seen at once.")

    _sql_constraints = [
        ("pool_hour_uniq", "unique(pool_id, hour)", "One statistics row per pool and hour."),
    ]
