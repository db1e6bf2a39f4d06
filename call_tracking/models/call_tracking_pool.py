from odoo import fields, models


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
        help="A number stays bound to its visitor this long after their last "
        "activity.",
    )
    default_number = fields.Char(
        string="Fallback Number",
        help="Shown when every number of the pool is leased (E.164). Empty: the "
        "company's default tracking number.",
    )

    _sql_constraints = [
        ("hold_minutes_positive", "CHECK(hold_minutes > 0)", "The hold time must be positive."),
    ]
