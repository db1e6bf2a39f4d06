from odoo import fields, models

from .res_company import ResCompany as CallTrackingCompany


class ResCompany(models.Model):
    _inherit = "res.company"
    _tracking_setup_fields = CallTrackingCompany._tracking_setup_fields | {
        "call_tracking_lease_cap_site"
    }

    call_tracking_lease_cap_site = fields.Integer(
        string="Live Leases per IPv6 Site",
        default=30,
        help="Most dynamic numbers one IPv6 site (/48, the usual allocation of one "
        "customer: many /64 networks) may hold at once. 0: no limit. New visits "
        "without a lease (static and default answers) are capped too, at thirty "
        "times the live-lease caps per half hour.",
    )

    _sql_constraints = [
        (
            "call_tracking_lease_cap_site_positive",
            "CHECK(call_tracking_lease_cap_site >= 0)",
            "The cap of live leases per IPv6 site cannot be negative (0: no limit).",
        ),
    ]


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    call_tracking_lease_cap_site = fields.Integer(
        related="company_id.call_tracking_lease_cap_site", readonly=False
    )
