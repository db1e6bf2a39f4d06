from odoo import fields, models


class CallTrackingSession(models.Model):
    """One visitor's stay on a channel: the lease of a dynamic number (or the
    static number shown), with the visit's marketing context."""

    _name = "call.tracking.session"
    _description = "Call Tracking Session"
    _order = "assigned_at desc, id desc"
    _rec_name = "visitor_key"

    visitor_key = fields.Char(required=True, index=True, readonly=True, copy=False)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    website_id = fields.Many2one("website", index="btree_not_null", readonly=True)
    visitor_id = fields.Many2one(
        "website.visitor", string="Website Visitor", index="btree_not_null",
        ondelete="set null", readonly=True,
    )
    channel_id = fields.Many2one(
        "call.tracking.channel", index="btree_not_null", readonly=True, ondelete="set null"
    )
    mode = fields.Selection(
        [("dynamic", "Dynamic"), ("static", "Static"), ("default", "Default")],
        required=True, readonly=True,
    )
    number_id = fields.Many2one(
        "call.tracking.number", index="btree_not_null", readonly=True, ondelete="set null"
    )
    pool_id = fields.Many2one(
        "call.tracking.pool", index="btree_not_null", readonly=True, ondelete="set null"
    )
    assigned_at = fields.Datetime(required=True, readonly=True, index=True)
    last_seen_at = fields.Datetime(readonly=True)
    expires_at = fields.Datetime(readonly=True, index=True)
    # marketing context of the visit
    utm_source = fields.Char(readonly=True)
    utm_medium = fields.Char(readonly=True)
    utm_campaign = fields.Char(readonly=True)
    utm_term = fields.Char(string="Keyword (utm_term)", readonly=True)
    utm_content = fields.Char(readonly=True)
    gclid = fields.Char(readonly=True)
    fbclid = fields.Char(readonly=True)
    yclid = fields.Char(readonly=True)
    ga_client_id = fields.Char(string="GA Client ID", readonly=True)
    referrer = fields.Char(readonly=True)
    landing_url = fields.Char(string="Landing Page", readonly=True)
    user_agent = fields.Char(readonly=True)
