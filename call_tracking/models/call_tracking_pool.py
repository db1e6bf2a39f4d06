from odoo import api, fields, models
from odoo.tools import SQL


class CallTrackingPool(models.Model):
    """Dynamic numbers leased one per website visitor for a hold time."""

    _name = "call.tracking.pool"
    _description = "Call Tracking Pool"
    _order = "name, id"

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

    _sql_constraints = [
        (
            "hold_minutes_positive",
            "CHECK(hold_minutes > 0)",
            "The hold time must be positive.",
        ),
    ]

    def _compute_lease_figures(self):
        """Numbers and live leases of all pools in one query."""
        figures = {}
        if self.ids:
            rows = self.env.execute_query(
                SQL(
                    """
                SELECT pool_id, count(*),
                       count(*) FILTER (
                           WHERE lease_expires_at > now() AT TIME ZONE 'UTC')
                  FROM call_tracking_number
                 WHERE pool_id IN %s AND active
              GROUP BY pool_id
                    """,
                    tuple(self.ids),
                )
            )
            figures = {pool_id: (total, live) for pool_id, total, live in rows}
        for pool in self:
            total, live = figures.get(pool.id, (0, 0))
            pool.number_count = total
            pool.live_lease_count = live
            pool.utilisation = 100.0 * live / total if total else 0.0

    @api.model_create_multi
    def create(self, vals_list):
        companies = self.env["res.company"].browse(
            [vals.get("company_id") or self.env.company.id for vals in vals_list]
        )
        for vals, company in zip(vals_list, companies, strict=True):
            if vals.get("default_number"):
                vals["default_number"] = self._normalise_fallback(vals["default_number"], company)
        pools = super().create(vals_list)
        self.env.registry.clear_cache()
        return pools

    def write(self, vals):
        if vals.get("default_number"):
            company = (
                self.env["res.company"].browse(vals["company_id"])
                if vals.get("company_id")
                else self.company_id[:1]
            )
            vals["default_number"] = self._normalise_fallback(vals["default_number"], company)
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    def _normalise_fallback(self, number, company):
        return self.env["call.tracking.number"]._normalise_number(
            number, company, label=self.env._("The fallback number")
        )

    def action_view_numbers(self):
        self.ensure_one()
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
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_session_action"
        )
        action["domain"] = [("pool_id", "=", self.id), ("mode", "=", "dynamic")]
        action["context"] = {"search_default_filter_live": 1}
        return action
