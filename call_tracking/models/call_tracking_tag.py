from odoo import fields, models


class CallTrackingTag(models.Model):
    """A keyword tag of calls (price, delivery, complaint, a competitor...),
    set on each call whose transcript says one of its phrases."""

    _name = "call.tracking.tag"
    _description = "Call Keyword Tag"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    phrase_ids = fields.One2many("call.tracking.phrase", "tag_id", string="Phrases")
    call_count = fields.Integer(compute="_compute_call_count", string="Calls")

    _sql_constraints = [
        ("name_company_uniq", "UNIQUE(name, company_id)", "A tag name is unique per company."),
    ]

    def _compute_call_count(self):
        counts = dict(
            self.env["call.tracking.call"]._read_group(
                [("tag_ids", "in", self.ids)], ["tag_ids"], ["__count"]
            )
        )
        for tag in self:
            tag.call_count = counts.get(tag, 0)

    def action_open_calls(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_call_action"
        )
        action["domain"] = [("tag_ids", "in", self.ids)]
        action["context"] = {}
        return action
