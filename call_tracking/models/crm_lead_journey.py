from odoo import api, fields, models

# what a touch says of where the caller came from
TOUCH_FIELDS = ("channel_id", "source_id", "medium_id", "campaign_id")


class CrmLead(models.Model):
    """The caller's journey: the first and the last touch of the lead.

    A touch is a call of the lead, a visit of one of its website visitors
    (a call tracking session: the channel the visitor arrived from) or the
    submission of a website form that created the lead. The first touch is
    the earliest touch that came from somewhere (a channel, a source, a
    medium or a campaign), the last touch the latest such one, as the
    number endpoint keeps the last non-direct touch; a journey of direct
    touches only has them as first and last. Both are recomputed as calls
    and visitors arrive, in any order: by the touches' own times.
    """

    _inherit = "crm.lead"

    first_touch_at = fields.Datetime(
        compute="_compute_touches", store=True, string="First Touch", readonly=True
    )
    first_touch_channel_id = fields.Many2one(
        "call.tracking.channel",
        compute="_compute_touches",
        store=True,
        index="btree_not_null",
    )
    first_touch_source_id = fields.Many2one(
        "utm.source",
        compute="_compute_touches",
        store=True,
    )
    first_touch_medium_id = fields.Many2one(
        "utm.medium",
        compute="_compute_touches",
        store=True,
    )
    first_touch_campaign_id = fields.Many2one(
        "utm.campaign",
        compute="_compute_touches",
        store=True,
    )
    last_touch_at = fields.Datetime(
        compute="_compute_touches", store=True, string="Last Touch", readonly=True
    )
    last_touch_channel_id = fields.Many2one(
        "call.tracking.channel",
        compute="_compute_touches",
        store=True,
        index="btree_not_null",
    )
    last_touch_source_id = fields.Many2one(
        "utm.source",
        compute="_compute_touches",
        store=True,
    )
    last_touch_medium_id = fields.Many2one(
        "utm.medium",
        compute="_compute_touches",
        store=True,
    )
    last_touch_campaign_id = fields.Many2one(
        "utm.campaign",
        compute="_compute_touches",
        store=True,
    )
    journey_ids = fields.One2many(
        "call.tracking.journey",
        "lead_id",
    )

    @api.depends(
        "call_ids.start_at",
        "call_ids.channel_id",
        "call_ids.source_id",
        "call_ids.medium_id",
        "call_ids.campaign_id",
        "call_ids.is_test",
        "call_ids.is_spam",
        "visitor_ids",
        "source_id",
        "medium_id",
        "campaign_id",
    )
    def _compute_touches(self):
        touches = self._get_journey_touches()
        for lead in self:
            lead_touches = sorted(touches.get(lead.id, []), key=lambda touch: touch[0])
            from_somewhere = [touch for touch in lead_touches if any(touch[1:])]
            chosen = from_somewhere or lead_touches
            first, last = (chosen[0], chosen[-1]) if chosen else ((False,) * 5,) * 2
            lead.first_touch_at, last_at = first[0], last[0]
            lead.last_touch_at = last_at
            for fname, value in zip(TOUCH_FIELDS, first[1:], strict=True):
                lead[f"first_touch_{fname}"] = value
            for fname, value in zip(TOUCH_FIELDS, last[1:], strict=True):
                lead[f"last_touch_{fname}"] = value

    def _get_journey_touches(self):
        """``{lead id: [(time, channel, source, medium, campaign)]}`` of the
        leads' calls, visits and form submissions, read in one query each."""
        touches = {}
        leads = self.filtered("id")
        for lead in leads:
            calls = lead.call_ids.filtered(lambda call: not call.is_test and not call.is_spam)
            touches[lead.id] = [
                (call.start_at, call.channel_id, call.source_id, call.medium_id, call.campaign_id)
                for call in calls
                if call.start_at
            ]
            # a lead of a website form (not made by one of its calls)
            made_by_call = any(
                call.create_date and lead.create_date and call.create_date <= lead.create_date
                for call in lead.call_ids
            )
            if lead.visitor_ids and lead.create_date and not made_by_call:
                touches[lead.id].append(
                    (
                        lead.create_date,
                        lead.env["call.tracking.channel"],
                        lead.source_id,
                        lead.medium_id,
                        lead.campaign_id,
                    )
                )
        visitors = leads.visitor_ids
        if visitors:
            sessions = self.env["call.tracking.session"].search(
                [("visitor_id", "in", visitors.ids)], order="assigned_at"
            )
            by_visitor = {}
            for session in sessions:
                channel = session.channel_id
                by_visitor.setdefault(session.visitor_id.id, []).append(
                    (
                        session.assigned_at,
                        channel,
                        channel.source_id,
                        channel.medium_id,
                        channel.campaign_id,
                    )
                )
            for lead in leads:
                for visitor in lead.visitor_ids:
                    touches[lead.id].extend(by_visitor.get(visitor.id, []))
        return touches
