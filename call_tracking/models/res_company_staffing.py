from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """The company's targets for the staffing advice (Erlang C)."""

    _inherit = "res.company"

    call_tracking_staffing_weeks = fields.Integer(
        string="Staffing: Weeks of Calls",
        default=4,
        help="The staffing advice measures the demand of each weekday and hour over this "
        "many past weeks.",
    )
    call_tracking_staffing_wrapup = fields.Integer(
        string="Staffing: Wrap-up Time (s)",
        default=30,
        help="Seconds of work after each answered call (notes, the lead), added to the talk "
        "time to make the average handling time.",
    )
    call_tracking_staffing_service_level = fields.Float(
        string="Staffing: Service Level (%)",
        default=80.0,
        help="The share of calls to answer within the answer time, e.g. 80% within 20 s.",
    )
    call_tracking_staffing_answer_seconds = fields.Integer(
        string="Staffing: Answer Time (s)",
        default=20,
        help="The service level's answer time in seconds.",
    )
    call_tracking_staffing_max_occupancy = fields.Float(
        string="Staffing: Maximum Occupancy (%)",
        default=85.0,
        help="The busiest share of their time people may spend on calls; more agents are "
        "advised when the service level alone would load them above it.",
    )

    @api.constrains(
        "call_tracking_staffing_weeks",
        "call_tracking_staffing_wrapup",
        "call_tracking_staffing_service_level",
        "call_tracking_staffing_answer_seconds",
        "call_tracking_staffing_max_occupancy",
    )
    def _check_call_tracking_staffing(self):
        for company in self:
            if not 1 <= company.call_tracking_staffing_weeks <= 52:
                raise ValidationError(
                    self.env._("Staffing: the weeks of calls must be between 1 and 52.")
                )
            if company.call_tracking_staffing_wrapup < 0:
                raise ValidationError(self.env._("Staffing: the wrap-up time cannot be negative."))
            if company.call_tracking_staffing_answer_seconds < 0:
                raise ValidationError(self.env._("Staffing: the answer time cannot be negative."))
            if not 0 < company.call_tracking_staffing_service_level < 100:
                raise ValidationError(
                    self.env._("Staffing: the service level must be above 0% and below 100%.")
                )
            if not 0 < company.call_tracking_staffing_max_occupancy <= 100:
                raise ValidationError(
                    self.env._("Staffing: the maximum occupancy must be above 0% and at most 100%.")
                )
