from odoo import fields, models, tools
from odoo.tools import SQL

JOURNEY_KINDS = [
    ("call", "Call"),
    ("visit", "Visit"),
    ("page", "Page View"),
    ("form", "Form Submission"),
]


class CallTrackingJourney(models.Model):
    """One line per step of a lead's journey, for the lead's timeline: its
    calls, the visits of its website visitors (the call tracking sessions,
    with the channel they came from), their page views, and the website
    form that created the lead. A read-only SQL view; ids are kept apart
    per kind (``4 x id + kind``)."""

    _name = "call.tracking.journey"
    _description = "Call Tracking Journey Step"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "name"
    _depends = {
        "call.tracking.call": [
            "lead_id", "start_at", "channel_id", "source_id", "medium_id", "campaign_id",
            "landing_url", "status", "company_id", "is_test", "caller_number", "talk_duration",
        ],
        "call.tracking.session": ["visitor_id", "assigned_at", "channel_id", "landing_url"],
        "call.tracking.channel": ["source_id", "medium_id", "campaign_id"],
        "website.track": ["visitor_id", "visit_datetime", "url"],
        "crm.lead": [
            "visitor_ids", "create_date", "source_id", "medium_id", "campaign_id", "company_id",
        ],
    }  # fmt: skip

    lead_id = fields.Many2one("crm.lead", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Datetime(readonly=True)
    kind = fields.Selection(JOURNEY_KINDS, readonly=True)
    name = fields.Char(string="Step", readonly=True)
    channel_id = fields.Many2one("call.tracking.channel", readonly=True)
    source_id = fields.Many2one("utm.source", readonly=True)
    medium_id = fields.Many2one("utm.medium", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    url = fields.Char(string="Page", readonly=True)
    call_id = fields.Many2one("call.tracking.call", readonly=True)
    status = fields.Char(readonly=True)
    talk_duration = fields.Integer(string="Talk Time (s)", readonly=True)

    def _query(self):
        visitors = self.env["crm.lead"]._fields["visitor_ids"]
        rel = SQL.identifier(visitors.relation)
        rel_lead = SQL.identifier(visitors.column1)
        rel_visitor = SQL.identifier(visitors.column2)
        return SQL(
            """
            SELECT 4 * c.id AS id, c.lead_id, c.company_id, c.start_at AS date,
                   'call' AS kind, c.caller_number AS name, c.channel_id, c.source_id,
                   c.medium_id, c.campaign_id, c.landing_url AS url, c.id AS call_id,
                   c.status::varchar AS status, c.talk_duration
              FROM call_tracking_call c
             WHERE c.lead_id IS NOT NULL AND c.is_test IS NOT TRUE
         UNION ALL
            SELECT 4 * s.id + 1, rel.%(rel_lead)s, lead.company_id, s.assigned_at,
                   'visit', NULL, s.channel_id, ch.source_id, ch.medium_id, ch.campaign_id,
                   s.landing_url, NULL, NULL, NULL
              FROM %(rel)s rel
              JOIN crm_lead lead ON lead.id = rel.%(rel_lead)s
              JOIN call_tracking_session s ON s.visitor_id = rel.%(rel_visitor)s
         LEFT JOIN call_tracking_channel ch ON ch.id = s.channel_id
         UNION ALL
            SELECT 4 * t.id + 2, rel.%(rel_lead)s, lead.company_id, t.visit_datetime,
                   'page', NULL, NULL, NULL, NULL, NULL, t.url, NULL, NULL, NULL
              FROM %(rel)s rel
              JOIN crm_lead lead ON lead.id = rel.%(rel_lead)s
              JOIN website_track t ON t.visitor_id = rel.%(rel_visitor)s
         UNION ALL
            SELECT 4 * lead.id + 3, lead.id, lead.company_id, lead.create_date,
                   'form', lead.name, NULL, lead.source_id, lead.medium_id, lead.campaign_id,
                   NULL, NULL, NULL, NULL
              FROM crm_lead lead
             WHERE EXISTS (SELECT 1 FROM %(rel)s rel WHERE rel.%(rel_lead)s = lead.id)
               -- a lead made by one of its calls is no form submission
               AND NOT EXISTS (
                       SELECT 1 FROM call_tracking_call c
                        WHERE c.lead_id = lead.id AND c.create_date <= lead.create_date
                   )
            """,
            rel=rel,
            rel_lead=rel_lead,
            rel_visitor=rel_visitor,
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
