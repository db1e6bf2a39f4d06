from dataclasses import replace
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.attribution import (
    arrival_levels,
    attribution_shares,
    recommended_attribution_size,
)
from ..tools.pool_sizing import MAX_POOL_SIZE, offered_load, recommended_pool_size


class CallTrackingPool(models.Model):
    """Dynamic numbers leased one per website visitor for a hold time."""

    _name = "call.tracking.pool"
    _inherit = ["call.tracking.setup.mixin"]
    _description = "Call Tracking Pool"
    _order = "name, id"
    _tracking_setup_fields = frozenset(("active", "company_id", "hold_minutes", "default_number"))

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    number_ids = fields.One2many("call.tracking.number", "pool_id", string="Numbers")
    channel_ids = fields.One2many("call.tracking.channel", "pool_id", string="Channels")
    hold_minutes = fields.Integer(
        string="Hold Time (minutes)",
        default=30,
        required=True,
        help="A number stays bound to its visitor this long after their last activity.",
    )
    default_number = fields.Char(
        string="Fallback Number",
        help="Shown when every number of the pool is leased (E.164). Empty: the "
        "company's default tracking number.",
    )
    number_count = fields.Integer(string="Pool Size", compute="_compute_lease_figures")
    live_lease_count = fields.Integer(string="Live Leases", compute="_compute_lease_figures")
    utilisation = fields.Float(
        string="Utilisation (%)",
        compute="_compute_lease_figures",
        digits=(16, 1),
        help="Share of the pool's active numbers leased right now.",
    )
    # pool health
    health_since = fields.Datetime(
        compute="_compute_health",
        groups="call_tracking.call_tracking_group_manager",
        help="Start of the period of the health figures (company setting).",
    )
    health_arrivals = fields.Integer(
        string="Visitor Arrivals",
        compute="_compute_health",
        groups="call_tracking.call_tracking_group_manager",
    )
    health_peak_arrivals = fields.Integer(
        string="Arrivals at the Peak Hour",
        compute="_compute_health",
        groups="call_tracking.call_tracking_group_manager",
        help="Most new visitors seen in one hour of the period.",
    )
    health_peak_leases = fields.Integer(
        string="Peak Concurrent Sessions",
        compute="_compute_health",
        groups="call_tracking.call_tracking_group_manager",
    )
    health_refused_crawlers = fields.Integer(
        string="Refused: Automated",
        compute="_compute_health_refused",
        groups="call_tracking.call_tracking_group_manager",
        help="Requests of crawlers and automated clients over the period, given no lease.",
    )
    health_refused_over_cap = fields.Integer(
        string="Refused: Over Cap",
        compute="_compute_health_refused",
        groups="call_tracking.call_tracking_group_manager",
        help="New visitors over their address's or network's cap of live leases over the "
        "period, given no lease.",
    )
    health_exhaustions = fields.Integer(
        string="Exhaustions",
        compute="_compute_health",
        groups="call_tracking.call_tracking_group_manager",
        help="Arrivals that found every number leased and saw the fallback number.",
    )
    health_exhaustion_rate = fields.Float(
        string="Exhaustion Share (%)",
        compute="_compute_health",
        digits=(16, 2),
        groups="call_tracking.call_tracking_group_manager",
    )
    health_call_count = fields.Integer(
        string="Calls",
        compute="_compute_health",
        groups="call_tracking.call_tracking_group_manager",
        help="Calls to the pool's numbers or to its fallback number.",
    )
    health_unattributed_rate = fields.Float(
        string="Unattributed Calls (%)",
        compute="_compute_health",
        digits=(16, 1),
        groups="call_tracking.call_tracking_group_manager",
        help="Calls matched to no visitor session.",
    )
    health_visit_minutes = fields.Float(
        string="Average Visit (minutes)",
        compute="_compute_health",
        digits=(16, 1),
        groups="call_tracking.call_tracking_group_manager",
        help="From a visitor's first to last activity, over the period's sessions.",
    )
    health_offered_load = fields.Float(
        string="Offered Load (Erlangs)",
        compute="_compute_health",
        digits=(16, 2),
        groups="call_tracking.call_tracking_group_manager",
        help="Arrivals per minute at the peak hour x (hold time + average visit): the "
        "average number of numbers the peak hour keeps busy.",
    )
    health_exhaustion_target = fields.Float(
        related="company_id.call_tracking_exhaustion_target",
        string="Acceptable Exhaustion (%)",
    )
    recommended_size = fields.Integer(
        string="Recommended Pool Size",
        compute="_compute_health",
        groups="call_tracking.call_tracking_group_manager",
        help="Smallest pool whose chance of exhaustion at the peak hour stays under the "
        "acceptable exhaustion (Erlang B, see README).",
    )

    # attribution sizing
    attribution_target = fields.Float(
        related="company_id.call_tracking_attribution_target",
        string="Attributable Calls Target (%)",
    )
    attribution_size = fields.Integer(
        string="Recommended for Attribution",
        compute="_compute_health",
        groups="call_tracking.call_tracking_group_manager",
        help="Smallest pool whose calls are expected to be attributed to the right visitor "
        "at the company's target share, from the period's hourly arrivals, the hold time, "
        "the visit length and the delays of the company's callers, under every delay model "
        "their calls do not rule out (see README). 0: no arrivals yet; equal to the largest "
        "size tried when none reaches the target.",
    )
    attribution_right_current = fields.Float(
        string="Right Calls at Current Size (%)",
        compute="_compute_health",
        digits=(16, 1),
        groups="call_tracking.call_tracking_group_manager",
    )
    attribution_lost_current = fields.Float(
        string="Lost Calls at Current Size (%)",
        compute="_compute_health",
        digits=(16, 1),
        groups="call_tracking.call_tracking_group_manager",
        help="Calls of visitors who saw the fallback number, or made after the late-call window.",
    )
    attribution_right_recommended = fields.Float(
        string="Right Calls at Recommended Size (%)",
        compute="_compute_health",
        digits=(16, 1),
        groups="call_tracking.call_tracking_group_manager",
    )
    attribution_lost_recommended = fields.Float(
        string="Lost Calls at Recommended Size (%)",
        compute="_compute_health",
        digits=(16, 1),
        groups="call_tracking.call_tracking_group_manager",
    )
    attribution_delay_median = fields.Float(
        string="Median Call Delay (min)",
        compute="_compute_health",
        digits=(16, 1),
        groups="call_tracking.call_tracking_group_manager",
        help="Median delay between leaving the site and calling, learned from the company's "
        "calls on live leases (a prior of 20 minutes until there are enough).",
    )

    _sql_constraints = [
        (
            "hold_minutes_positive",
            "CHECK(hold_minutes > 0)",
            "The hold time must be positive.",
        ),
    ]

    def _compute_lease_figures(self):
        """Numbers and live leases of all pools: two grouped reads (the
        lease columns are flushed by the ORM's read, whatever the number
        assignment's SQL left)."""
        totals, lives = {}, {}
        if self.ids:
            # the numbers of every company: the figures describe the pool
            numbers_sudo = self.env["call.tracking.number"].sudo()
            domain = [("pool_id", "in", self.ids)]
            totals = {
                pool.id: count
                for pool, count in numbers_sudo._read_group(domain, ["pool_id"], ["__count"])
            }
            live_domain = [*domain, ("lease_expires_at", ">", fields.Datetime.now())]
            lives = {
                pool.id: count
                for pool, count in numbers_sudo._read_group(live_domain, ["pool_id"], ["__count"])
            }
        for pool in self:
            total, live = totals.get(pool.id, 0), lives.get(pool.id, 0)
            pool.number_count = total
            pool.live_lease_count = live
            pool.utilisation = 100.0 * live / total if total else 0.0

    def _compute_health_refused(self):
        """Refused requests of the health period, from the hourly statistics
        (one grouped read per period length)."""
        now = fields.Datetime.now()
        totals = {}
        by_days = {}
        for pool in self:
            by_days.setdefault(pool.company_id.call_tracking_health_days or 30, []).append(pool.id)
        for days, pool_ids in by_days.items():
            if not any(pool_ids):
                continue
            groups = self.env["call.tracking.pool.stat"]._read_group(
                [("pool_id", "in", [pid for pid in pool_ids if pid]),
                 ("hour", ">=", now - timedelta(days=days))],
                ["pool_id"],
                ["refused_crawlers:sum", "refused_over_cap:sum"],
            )  # fmt: skip
            for pool, crawlers, over_cap in groups:
                totals[pool.id] = (crawlers or 0, over_cap or 0)
        for pool in self:
            pool.health_refused_crawlers, pool.health_refused_over_cap = totals.get(pool.id, (0, 0))

    def _compute_health(self):
        """Figures of the last days (company setting) for all pools at once:
        one grouped read of the pool health report and one session query."""
        now = fields.Datetime.now()
        since_by_pool = {
            pool.id: now - timedelta(days=pool.company_id.call_tracking_health_days or 30)
            for pool in self
        }
        figures, visits, hours = {}, {}, {}
        if self.ids:
            for since in set(since_by_pool.values()):
                pool_ids = [pid for pid, start in since_by_pool.items() if start == since]
                groups = self.env["call.tracking.pool.report"]._read_group(
                    [("pool_id", "in", pool_ids), ("date", ">=", since)],
                    ["pool_id", "date:hour"],
                    [
                        "arrivals:sum",
                        "exhaustions:sum",
                        "peak_leases:max",
                        "call_count:sum",
                        "unattributed_count:sum",
                    ],
                )
                for pool, _hour, arrivals, exhaustions, peak, calls, unattributed in groups:
                    hours.setdefault(pool.id, []).append(arrivals)
                    total = figures.setdefault(pool.id, [0, 0, 0, 0, 0, 0])
                    total[0] += arrivals
                    total[1] = max(total[1], arrivals)
                    total[2] = max(total[2], peak or 0)
                    total[3] += exhaustions
                    total[4] += calls
                    total[5] += unattributed
            self.env["call.tracking.session"].flush_model(
                ["pool_id", "mode", "assigned_at", "last_seen_at"]
            )
            visits = dict(
                self.env.execute_query(
                    SQL(
                        """
                        SELECT pool_id,
                               avg(extract(epoch FROM last_seen_at - assigned_at)) / 60.0
                          FROM call_tracking_session
                         WHERE pool_id IN %s AND mode = 'dynamic'
                           AND assigned_at >= %s AND last_seen_at IS NOT NULL
                      GROUP BY pool_id
                        """,
                        tuple(self.ids),
                        min(since_by_pool.values()),
                    )
                )
            )
        models_by_company = {
            company: self.env["call.tracking.call"]._get_delay_model(company)
            for company in self.company_id
        }
        for pool in self:
            arrivals, peak_arrivals, peak, exhaustions, calls, unattributed = figures.get(
                pool.id, [0] * 6
            )
            visit = float(visits.get(pool.id) or 0.0)
            load = offered_load(peak_arrivals, pool.hold_minutes, visit)
            target = (pool.company_id.call_tracking_exhaustion_target or 1.0) / 100.0
            pool.health_since = since_by_pool[pool.id]
            pool.health_arrivals = arrivals
            pool.health_peak_arrivals = peak_arrivals
            pool.health_peak_leases = peak
            pool.health_exhaustions = exhaustions
            pool.health_exhaustion_rate = 100.0 * exhaustions / arrivals if arrivals else 0.0
            pool.health_call_count = calls
            pool.health_unattributed_rate = 100.0 * unattributed / calls if calls else 0.0
            pool.health_visit_minutes = visit
            pool.health_offered_load = load
            pool.recommended_size = recommended_pool_size(load, target) or MAX_POOL_SIZE
            pool._set_attribution_sizing(
                hours.get(pool.id, []), visit, models_by_company[pool.company_id]
            )

    def _set_attribution_sizing(self, hourly_arrivals, visit_minutes, delay_model):
        """The attribution figures of the pool form from the period's hourly
        arrivals (``tools/attribution.py``)."""
        self.ensure_one()
        company = self.company_id
        # the pool's own visit length; the plausible models stay (the
        # recommendation holds for each of them)
        model = replace(delay_model, visit_minutes=visit_minutes or delay_model.visit_minutes)
        levels = arrival_levels(hourly_arrivals)
        window = company.call_tracking_late_call_hours or 24
        target = (company.call_tracking_attribution_target or 97.0) / 100.0
        size = recommended_attribution_size(
            levels, self.hold_minutes, model, target, window, max_size=MAX_POOL_SIZE
        )
        size = MAX_POOL_SIZE if size is None else size
        current = attribution_shares(self.number_count, levels, self.hold_minutes, model, window)
        recommended = attribution_shares(size, levels, self.hold_minutes, model, window)
        self.attribution_size = size
        self.attribution_right_current = 100.0 * current[0]
        self.attribution_lost_current = 100.0 * current[2]
        self.attribution_right_recommended = 100.0 * recommended[0]
        self.attribution_lost_recommended = 100.0 * recommended[2]
        self.attribution_delay_median = model.median

    @api.model_create_multi
    def create(self, vals_list):
        self._normalise_fallback(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("default_number") and not vals.get("company_id") and len(self.company_id) > 1:
            # each pool reads the number with its own company's country
            for pools in self.grouped("company_id").values():
                pools.write(dict(vals))
            return True
        self._normalise_fallback([vals], records=self)
        return super().write(vals)

    def action_view_numbers(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_number_action"
        )
        action["domain"] = [("pool_id", "=", self.id)]
        action["context"] = {
            "default_pool_id": self.id,
            "default_company_id": self.company_id.id,
        }
        return action

    def action_view_live_sessions(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_session_action"
        )
        action["domain"] = [("pool_id", "=", self.id), ("mode", "=", "dynamic")]
        action["context"] = {"search_default_filter_live": 1}
        return action

    def action_view_health(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_pool_report_action"
        )
        action["domain"] = [("pool_id", "=", self.id)]
        return action

    @api.model
    def _normalise_fallback(self, vals_list, records=None):
        self.env["call.tracking.number"]._normalise_vals(
            "default_number", vals_list, records=records, label=self.env._("The fallback number")
        )
