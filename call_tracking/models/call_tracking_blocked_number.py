from odoo import api, fields, models


class CallTrackingBlockedNumber(models.Model):
    """A caller number whose calls are spam: they are logged, create no
    lead and stay out of the reports."""

    _name = "call.tracking.blocked.number"
    _description = "Blocked Caller Number"
    _order = "number, id"
    _rec_name = "number"

    number = fields.Char(
        string="Caller Number",
        required=True,
        index=True,
        help="Stored in E.164, read with the company's country.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    note = fields.Char(help="Why the number is blocked.")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "company_number_uniq",
            "unique(company_id, number)",
            "This caller number is already blocked.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        self._normalise(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("number") and not vals.get("company_id") and len(self.company_id) > 1:
            # each number is read with its own company's country
            for records in self.grouped("company_id").values():
                records.write(dict(vals))
            return True
        self._normalise([vals], records=self)
        return super().write(vals)

    @api.model
    def _normalise(self, vals_list, records=None):
        self.env["call.tracking.number"]._normalise_vals(
            "number", vals_list, records=records, label=self.env._("The blocked number")
        )

    @api.model
    def _get_blocked_callers(self, pairs):
        """The ``(company id, caller number)`` of ``pairs`` that are on their
        company's blocklist (active entries): one query."""
        if not pairs:
            return set()
        blocked_sudo = self.sudo().search_fetch(
            [
                ("company_id", "in", list({company_id for company_id, _number in pairs})),
                ("number", "in", list({number for _company_id, number in pairs})),
            ],
            ["company_id", "number"],
        )
        return {(entry.company_id.id, entry.number) for entry in blocked_sudo} & set(pairs)
