from odoo import fields, models


class CallTrackingRefusal(models.Model):
    """Hourly counters of the page views of a dynamic channel refused a
    lease: automated clients (``crawler``) and clients over their cap of live
    leases or with an unreadable address (``over_cap``). Such requests create
    no session, so they are counted here, by one upsert per request on a row
    of the serving thread (``shard``): concurrent requests never update the
    same row. The pool statistics sum the shards of each hour."""

    _name = "call.tracking.refusal"
    _description = "Call Tracking Refused Requests"
    _log_access = False
    _order = "hour desc, pool_id"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    pool_id = fields.Many2one(
        "call.tracking.pool", required=True, ondelete="cascade", readonly=True
    )
    hour = fields.Datetime(required=True, readonly=True, help="Start of the hour (UTC).")
    reason = fields.Selection(
        [("crawler", "Automated Client"), ("over_cap", "Over Cap")],
        required=True,
        readonly=True,
    )
    shard = fields.Integer(required=True, readonly=True)
    count = fields.Integer(readonly=True, aggregator="sum")

    _sql_constraints = [
        (
            "pool_hour_reason_shard_uniq",
            "unique(pool_id, hour, reason, shard)",
            "One counter per pool, hour, reason and worker thread.",
        ),
    ]
