from odoo import fields, models


class CallTrackingChannel(models.Model):
    """An advertising source: how its visitors are recognised and which
    number (static) or pool (dynamic) they are shown."""

    _name = "call.tracking.channel"
    _description = "Call Tracking Channel"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(
        default=10, help="Priority: channels are tried in this order, lowest first."
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    tracking_type = fields.Selection(
        [("static", "Static number"), ("dynamic", "Dynamic pool")],
        required=True,
        default="static",
        help="Static: one number for the channel (also printed offline). "
        "Dynamic: each visitor leases a number from a pool.",
    )
    number_id = fields.Many2one(
        "call.tracking.number",
        string="Static Number",
        index="btree_not_null",
        domain="[('company_id', '=', company_id), ('pool_id', '=', False)]",
    )
    pool_id = fields.Many2one(
        "call.tracking.pool",
        string="Pool",
        index="btree_not_null",
        domain="[('company_id', '=', company_id)]",
    )
    is_default = fields.Boolean(
        string="Direct Traffic",
        help="Used for visitors that no rule recognises (direct traffic).",
    )
    is_offline = fields.Boolean(
        string="Offline",
        help="Billboard, radio, print: the number is never shown on the website.",
    )
    rule_ids = fields.One2many(
        "call.tracking.channel.rule", "channel_id", string="Recognition Rules"
    )
    # UTM values written on the sessions and leads of this channel
    source_id = fields.Many2one("utm.source", string="Source", index="btree_not_null")
    medium_id = fields.Many2one("utm.medium", string="Medium", index="btree_not_null")
    campaign_id = fields.Many2one(
        "utm.campaign", string="Campaign", index="btree_not_null"
    )
    color = fields.Integer()


class CallTrackingChannelRule(models.Model):
    """One way to recognise a channel's visitors. All filled conditions of a
    rule must hold; any rule of a channel is enough."""

    _name = "call.tracking.channel.rule"
    _description = "Call Tracking Channel Rule"
    _order = "channel_id, sequence, id"

    channel_id = fields.Many2one(
        "call.tracking.channel", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    utm_source = fields.Char(
        string="utm_source", help="Comma-separated values, case-insensitive."
    )
    utm_medium = fields.Char(string="utm_medium")
    utm_campaign = fields.Char(string="utm_campaign")
    referrer_domains = fields.Char(
        help="Comma-separated domains; subdomains match too (google.com matches "
        "www.google.com)."
    )
    landing_param = fields.Char(
        string="Landing Parameter",
        help="A URL parameter whose presence recognises the channel, e.g. gclid.",
    )
