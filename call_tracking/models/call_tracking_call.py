from odoo import fields, models

CALL_STATUS = [
    ("in_progress", "In Progress"),
    ("answered", "Answered"),
    ("missed", "Missed"),
    ("busy", "Busy"),
    ("failed", "Failed"),
    ("voicemail", "Voicemail"),
]
ATTRIBUTION_METHODS = [
    ("session", "Dynamic: live session"),
    ("session_expired", "Dynamic: last session (lease lapsed)"),
    ("static", "Static channel"),
    ("default", "Default number"),
    ("unknown", "Unknown number"),
]


class CallTrackingCall(models.Model):
    """One phone call reported by a provider."""

    _name = "call.tracking.call"
    _description = "Tracked Call"
    _order = "start_at desc, id desc"
    _rec_name = "caller_number"

    provider_id = fields.Many2one(
        "call.tracking.provider", required=True, index=True, ondelete="restrict", readonly=True
    )
    provider_call_id = fields.Char(string="Provider Call ID", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    caller_number = fields.Char(string="Caller", index=True, readonly=True, help="E.164")
    called_number = fields.Char(string="Called Number", readonly=True, help="E.164")
    number_id = fields.Many2one(
        "call.tracking.number", string="Tracking Number", index="btree_not_null", readonly=True
    )
    start_at = fields.Datetime(string="Start", index=True, readonly=True)
    answer_at = fields.Datetime(string="Answered At", readonly=True)
    end_at = fields.Datetime(string="End", readonly=True)
    duration = fields.Integer(string="Duration (s)", readonly=True, aggregator="sum")
    talk_duration = fields.Integer(string="Talk Time (s)", readonly=True, aggregator="sum")
    status = fields.Selection(CALL_STATUS, default="in_progress", index=True, readonly=True)
    recording_url = fields.Char(readonly=True)
    # attribution
    session_id = fields.Many2one(
        "call.tracking.session", index="btree_not_null", readonly=True, ondelete="set null"
    )
    channel_id = fields.Many2one(
        "call.tracking.channel", index="btree_not_null", readonly=True, ondelete="set null"
    )
    attribution_method = fields.Selection(ATTRIBUTION_METHODS, index=True, readonly=True)
    attribution_confidence = fields.Selection(
        [("high", "High"), ("low", "Low"), ("none", "None")], readonly=True
    )
    source_id = fields.Many2one("utm.source", index="btree_not_null", readonly=True)
    medium_id = fields.Many2one("utm.medium", index="btree_not_null", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", index="btree_not_null", readonly=True)
    utm_term = fields.Char(string="Keyword", readonly=True)
    landing_url = fields.Char(string="Landing Page", readonly=True)
    is_repeat = fields.Boolean(
        string="Repeat Call", readonly=True, help="The caller had called within the repeat window."
    )
    is_first_call = fields.Boolean(string="Unique Call", readonly=True)
    # CRM
    lead_id = fields.Many2one("crm.lead", index="btree_not_null", ondelete="set null")
    user_id = fields.Many2one("res.users", string="Salesperson", index="btree_not_null")
    team_id = fields.Many2one("crm.team", string="Sales Team", index="btree_not_null")
    quality = fields.Selection(
        related="lead_id.call_quality", store=True, string="Quality", readonly=True
    )

    _sql_constraints = [
        (
            "provider_call_uniq",
            "unique(provider_id, provider_call_id)",
            "A provider call is recorded only once.",
        ),
    ]
