from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .call_tracking_session import now_sql


class CallTrackingPoolStat(models.Model):
    """Hourly pool figures: new arrivals, the arrivals that found the pool
    full, the requests refused a lease (automated clients, clients over their
    cap; counted in ``call.tracking.refusal``), and the peak of live leases.
    Kept after sessions are purged, for pool sizing.

    The figures are derived from the sessions (each arrival in a pool opens a
    session; an exhausted arrival opens a ``default`` session of the pool) and
    upserted idempotently by :meth:`_refresh`, from the cron and on demand.
    The number assignment itself never writes here: an hourly counter row is
    the hottest row there is, and under PostgreSQL's repeatable read every
    concurrent arrival would otherwise fail with a serialization error and be
    retried.
    """

    _name = "call.tracking.pool.stat"
    _description = "Call Tracking Pool Hourly Statistics"
    _order = "hour desc, pool_id"

    pool_id = fields.Many2one(
        "call.tracking.pool",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    company_id = fields.Many2one(related="pool_id.company_id", store=True, index=True)
    hour = fields.Datetime(
        required=True, readonly=True, index=True, help="Start of the hour (UTC)."
    )
    arrivals = fields.Integer(
        readonly=True,
        aggregator="sum",
        help="New visitors that asked this pool for a number.",
    )
    exhaustions = fields.Integer(
        readonly=True,
        aggregator="sum",
        help="Arrivals answered with the fallback number.",
    )
    refused_crawlers = fields.Integer(
        string="Refused: Automated",
        readonly=True,
        aggregator="sum",
        help="Requests of crawlers, ad bots, headless browsers and HTTP libraries, "
        "answered without a lease and not counted as arrivals.",
    )
    refused_over_cap = fields.Integer(
        string="Refused: Over Cap",
        readonly=True,
        aggregator="sum",
        help="New visitors refused a lease because their address or network already "
        "held the most live leases allowed (or their address could not be read); not "
        "counted as arrivals.",
    )
    peak_leases = fields.Integer(
        readonly=True, aggregator="max", help="Most live leases seen at once."
    )
    number_count = fields.Integer(
        string="Numbers",
        readonly=True,
        aggregator="max",
        help="Active numbers in the pool when the hour was last refreshed.",
    )
    exhaustion_rate = fields.Float(
        string="Exhaustion Rate (%)",
        compute="_compute_exhaustion_rate",
        digits=(16, 1),
    )

    _sql_constraints = [
        (
            "pool_hour_uniq",
            "unique(pool_id, hour)",
            "One statistics row per pool and hour.",
        ),
    ]

    @api.depends("arrivals", "exhaustions")
    def _compute_exhaustion_rate(self):
        for stat in self:
            stat.exhaustion_rate = (
                100.0 * stat.exhaustions / stat.arrivals if stat.arrivals else 0.0
            )

    @api.model
    def _refresh(self, pools=None, since=None, now=None):
        """Recompute and upsert the hourly rows of ``pools`` (default: all)
        from ``since`` (default: the last hour already computed, minus one) to
        ``now`` (a naive UTC datetime; default: the database's ``now()``), in
        one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE``. Idempotent:
        running it twice gives the same rows."""
        pools = pools if pools is not None else self.env["call.tracking.pool"].search([])
        pools = pools.with_context(active_test=False)
        if not pools:
            return
        self.env["call.tracking.session"].flush_model()
        self.env["call.tracking.refusal"].flush_model()
        if since is None:
            rows = self.env.execute_query(
                SQL(
                    """
                SELECT COALESCE(
                    (SELECT max(hour) FROM call_tracking_pool_stat WHERE pool_id IN %(pools)s),
                    LEAST(
                        (SELECT min(assigned_at) FROM call_tracking_session
                          WHERE pool_id IN %(pools)s),
                        (SELECT min(hour) FROM call_tracking_refusal
                          WHERE pool_id IN %(pools)s)))
                    """,
                    pools=tuple(pools.ids),
                )
            )
            since = rows[0][0]
            if since is None:
                return
            since -= timedelta(hours=1)
        self.env.execute_query(
            SQL(
                """
            WITH hours AS (
                SELECT p.id AS pool_id, p.company_id, h.hour
                  FROM call_tracking_pool p,
                       generate_series(date_trunc('hour', %(since)s::timestamp),
                                       date_trunc('hour', %(now)s),
                                       interval '1 hour') AS h(hour)
                 WHERE p.id IN %(pools)s
            ), arrivals AS (
                SELECT pool_id, date_trunc('hour', assigned_at) AS hour,
                       count(*) AS arrivals,
                       count(*) FILTER (WHERE mode = 'default') AS exhaustions
                  FROM call_tracking_session
                 WHERE pool_id IN %(pools)s
                   AND assigned_at >= date_trunc('hour', %(since)s::timestamp)
              GROUP BY 1, 2
            ), leases AS (
                SELECT pool_id, assigned_at, expires_at
                  FROM call_tracking_session
                 WHERE pool_id IN %(pools)s AND mode = 'dynamic'
                   AND expires_at > date_trunc('hour', %(since)s::timestamp)
            ), events AS (
                -- lease starts (+1) and ends (-1), and each hour's start (0),
                -- sorted ends first: the level at an hour's start counts the
                -- leases assigned before it that end after it
                SELECT pool_id, assigned_at AS at, 1 AS delta FROM leases
                 UNION ALL
                SELECT pool_id, expires_at, -1 FROM leases
                 UNION ALL
                SELECT pool_id, hour, 0 FROM hours
            ), levels AS (
                SELECT pool_id, at, delta,
                       sum(delta) OVER (PARTITION BY pool_id ORDER BY at, delta
                                        ROWS UNBOUNDED PRECEDING) AS live
                  FROM events
            ), peaks AS (
                -- the most live leases of each hour: at its start or just
                -- after one of its new leases (one pass, no per-hour scan)
                SELECT pool_id, date_trunc('hour', at) AS hour, max(live) AS peak
                  FROM levels
                 WHERE delta >= 0
              GROUP BY 1, 2
            ), refusals AS (
                SELECT pool_id, hour,
                       COALESCE(sum(count) FILTER (WHERE reason = 'crawler'), 0) AS crawlers,
                       COALESCE(sum(count) FILTER (WHERE reason = 'over_cap'), 0) AS over_cap
                  FROM call_tracking_refusal
                 WHERE pool_id IN %(pools)s
                   AND hour >= date_trunc('hour', %(since)s::timestamp)
              GROUP BY 1, 2
            ), sizes AS (
                SELECT pool_id, count(*) AS numbers
                  FROM call_tracking_number
                 WHERE pool_id IN %(pools)s AND active
              GROUP BY pool_id
            )
            INSERT INTO call_tracking_pool_stat (
                pool_id, company_id, hour, arrivals, exhaustions, peak_leases,
                number_count, refused_crawlers, refused_over_cap,
                create_uid, create_date, write_uid, write_date)
            SELECT h.pool_id, h.company_id, h.hour,
                   COALESCE(a.arrivals, 0), COALESCE(a.exhaustions, 0),
                   COALESCE(k.peak, 0), COALESCE(z.numbers, 0),
                   COALESCE(r.crawlers, 0), COALESCE(r.over_cap, 0),
                   %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
              FROM hours h
         LEFT JOIN arrivals a ON a.pool_id = h.pool_id AND a.hour = h.hour
         LEFT JOIN peaks k ON k.pool_id = h.pool_id AND k.hour = h.hour
         LEFT JOIN sizes z ON z.pool_id = h.pool_id
         LEFT JOIN refusals r ON r.pool_id = h.pool_id AND r.hour = h.hour
             WHERE COALESCE(a.arrivals, 0) > 0 OR COALESCE(k.peak, 0) > 0
                OR COALESCE(r.crawlers, 0) + COALESCE(r.over_cap, 0) > 0
            ON CONFLICT (pool_id, hour) DO UPDATE
               SET arrivals = EXCLUDED.arrivals,
                   exhaustions = EXCLUDED.exhaustions,
                   peak_leases = EXCLUDED.peak_leases,
                   number_count = EXCLUDED.number_count,
                   refused_crawlers = EXCLUDED.refused_crawlers,
                   refused_over_cap = EXCLUDED.refused_over_cap,
                   write_uid = EXCLUDED.write_uid,
                   write_date = EXCLUDED.write_date
                """,
                since=since,
                now=now_sql(now),
                pools=tuple(pools.ids),
                uid=self.env.uid,
            )
        )
        self.invalidate_model()

    @api.model
    def _cron_refresh(self):
        self._refresh()
        # the refusal counters are kept as long as the visitor sessions
        self.env["res.company"].flush_model(["call_tracking_session_retention_days"])
        self.env.execute_query(
            SQL(
                """
            DELETE FROM call_tracking_refusal r
             USING res_company c
             WHERE c.id = r.company_id
               AND r.hour < now() AT TIME ZONE 'UTC'
                          - c.call_tracking_session_retention_days * interval '1 day'
                """
            )
        )
        # the client lock rows are only needed while their leases may be live
        self.env.execute_query(
            SQL(
                """
            DELETE FROM call_tracking_client
             WHERE last_lease_at < now() AT TIME ZONE 'UTC' - interval '2 days'
                """
            )
        )
