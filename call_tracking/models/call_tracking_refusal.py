import random
import threading

from odoo import api, fields, models
from odoo.tools import SQL

_shard = threading.local()


def refusal_shard():
    """This thread's row of the refusal counters: a random number drawn once
    per thread. A worker thread serves one request at a time, so two
    concurrent transactions never update the same counter row (under
    repeatable read they would fail with a serialization error)."""
    if not hasattr(_shard, "value"):
        _shard.value = random.SystemRandom().getrandbits(30)
    return _shard.value


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

    @api.model
    def _count(self, company_id, pool_id, reason, clock):
        """One more refused request of ``pool_id`` this hour: one upsert of
        this thread's counter row (see :func:`refusal_shard`), summed into
        the pool statistics by their refresh."""
        self.env.cr.execute(
            SQL(
                """
            INSERT INTO call_tracking_refusal (company_id, pool_id, hour, reason, shard, count)
            VALUES (%(company)s, %(pool)s, date_trunc('hour', %(now)s), %(reason)s, %(shard)s, 1)
            ON CONFLICT (pool_id, hour, reason, shard)
            DO UPDATE SET count = call_tracking_refusal.count + 1
                """,
                company=company_id,
                pool=pool_id,
                now=clock,
                reason=reason,
                shard=refusal_shard(),
            ),
            log_exceptions=False,
        )
