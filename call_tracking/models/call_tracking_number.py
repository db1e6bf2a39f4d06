from odoo import fields, models


class CallTrackingNumber(models.Model):
    """One tracking phone number, stored in E.164."""

    _name = "call.tracking.number"
    _description = "Call Tracking Number"
    _order = "pool_id, sequence, id"
    _rec_name = "number"

    number = fields.Char(
        required=True,
        index=True,
        help="Stored in E.164 (+CCNNNN...). Written in any common format, it is "
        "normalised with the company's country as the default region.",
    )
    name = fields.Char(string="Label", help="Free label, e.g. 'Billboard A12'.")
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    provider_id = fields.Many2one(
        "call.tracking.provider", index="btree_not_null", ondelete="restrict"
    )
    pool_id = fields.Many2one(
        "call.tracking.pool", index="btree_not_null", ondelete="restrict"
    )
    channel_ids = fields.One2many(
        "call.tracking.channel", "number_id", string="Static Channels"
    )
    # Current lease, maintained by the pool's assignment under a row lock.
    lease_session_id = fields.Many2one(
        "call.tracking.session", string="Current Lease", readonly=True, copy=False
    )
    lease_expires_at = fields.Datetime(readonly=True, copy=False, index=True)
    last_released_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the last lease of this number ended: the free number idle the "
        "longest is leased first.",
    )

    _sql_constraints = [
        (
            "number_company_uniq",
            "unique(number, company_id)",
            "A tracking number can only be registered once per company.",
        ),
    ]
