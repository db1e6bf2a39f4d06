from odoo import api, fields, models


class CallTrackingCost(models.Model):
    """Advertising spend of a channel over a period, entered by hand or
    imported from a CSV file. A period spanning several months is spread over
    them in proportion to its days by the cost report."""

    _name = "call.tracking.cost"
    _description = "Call Tracking Channel Cost"
    _order = "date_from desc, channel_id, id"
    _check_company_auto = True

    name = fields.Char(string="Description")
    channel_id = fields.Many2one(
        "call.tracking.channel",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    date_from = fields.Date(
        string="From", required=True, default=lambda self: fields.Date.today().replace(day=1)
    )
    date_to = fields.Date(
        string="To",
        required=True,
        default=lambda self: fields.Date.end_of(fields.Date.today(), "month"),
    )
    amount = fields.Monetary(required=True, currency_field="currency_id")
    currency_id = fields.Many2one(
        related="company_id.currency_id",
        store=True,
        help="Costs are entered in the company's currency, like the leads' revenue.",
    )

    _sql_constraints = [
        ("date_order", "CHECK(date_from <= date_to)", "The period must end on or after its start."),
        ("amount_positive", "CHECK(amount >= 0)", "A cost cannot be negative."),
    ]

    @api.onchange("date_from")
    def _onchange_date_from(self):
        for cost in self:
            if cost.date_from and not cost.date_to:
                cost.date_to = fields.Date.end_of(cost.date_from, "month")
