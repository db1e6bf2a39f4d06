import re
from datetime import timedelta

from markupsafe import Markup

from odoo import fields, models


class CallTrackingCall(models.Model):
    """Leads: the caller's history, the repeat caller's open lead or a new
    one, with the caller's contact."""

    _inherit = "call.tracking.call"

    def _get_caller_history(self, vals=None):
        """``({"is_first_call", "is_repeat"}, the open lead to reuse)`` of
        the call, whose values about to be written are ``vals``: bounded
        look-ups, a frequent caller's history is never loaded."""
        self.ensure_one()
        vals = vals or {}
        caller_number = vals.get("caller_number") or self.caller_number
        start_at = vals.get("start_at") or self.start_at
        history = {"is_first_call": True, "is_repeat": False}
        lead = self.env["crm.lead"]
        if not (caller_number and caller_number.startswith("+")):
            return history, lead
        if vals.get("is_test") or self.is_test:
            return history, lead  # a test call gets its own lead, always
        previous_domain = [
            ("is_test", "=", False),
            ("id", "!=", self.id),
            ("company_id", "=", self.company_id.id),
            ("caller_number", "=", caller_number),
        ]
        if start_at:
            previous_domain.append(("start_at", "<=", start_at))
        history["is_first_call"] = not self.search_count(previous_domain, limit=1)
        days = self.company_id.call_tracking_repeat_days
        if not history["is_first_call"] and days > 0:
            since = (start_at or fields.Datetime.now()) - timedelta(days=days)
            recent_domain = [*previous_domain, ("start_at", ">=", since)]
            lead = self._get_repeat_lead(recent_domain)
            history["is_repeat"] = bool(lead) or bool(self.search_count(recent_domain, limit=1))
        return history, lead

    def _link_lead(self, lead=None):
        """Attach the call to the caller's open ``lead`` (repeat caller
        within the company's window, see :meth:`_get_caller_history`) or
        create a lead. Runs under the call's row lock, so the same call never
        gets two leads."""
        self.ensure_one()
        if lead is None:
            history, lead = self._get_caller_history()
            self.write(history)
        if lead:
            if self.session_id.visitor_id:
                lead.visitor_ids = [fields.Command.link(self.session_id.visitor_id.id)]
        else:
            values = self._prepare_lead_values()
            lead = (
                self.env["crm.lead"].with_context(**self._get_lead_create_context()).create(values)
            )
        # the salesperson of the call is the agent who answered it, when the
        # provider named one (call_tracking_call_agent.py), else the lead's
        self.write(
            {
                "lead_id": lead.id,
                "user_id": self.user_id.id or lead.user_id.id,
                "team_id": lead.team_id.id,
            }
        )

    def _get_lead_create_context(self):
        """Context of the lead creation (hook).

        The salesperson becomes a follower but gets no "you have been
        assigned" message per call, as with CRM's automatic lead assignment
        (the pipeline, and the call-back activity of a missed call, tell
        them); the notifications left (the creation message to the team's
        followers) go through the mail queue, not an SMTP session inside the
        provider's request.
        """
        return {"mail_auto_subscribe_no_notify": True, "mail_notify_force_send": False}

    def _get_repeat_lead(self, recent_domain):
        """The open lead (active, not won) of the latest of the caller's
        recent calls that has one."""
        recent = self.search(
            [
                *recent_domain,
                ("lead_id.active", "=", True),
                "|",
                ("lead_id.stage_id", "=", False),
                ("lead_id.stage_id.is_won", "=", False),
            ],
            order="start_at desc, id desc",
            limit=1,
        )
        return recent.lead_id

    def _prepare_lead_values(self):
        """Values of the lead created for this call (hook)."""
        self.ensure_one()
        provider = self.provider_id
        channel = self.channel_id
        caller = self.caller_number or self.env._("unknown caller")
        partner = self._find_partner()
        team = provider.team_id
        values = {
            "name": self.env._(
                "Call from %(caller)s via %(channel)s",
                caller=caller,
                channel=channel.name or self.env._("no channel"),
            ),
            "type": "lead" if team.use_leads else "opportunity",
            "company_id": self.company_id.id,
            "partner_id": partner.id,
            "phone": self.caller_number or False,
            # the agent who answered the call, else the provider's salesperson
            "user_id": self.user_id.id or provider.user_id.id,
            "tracking_channel_id": channel.id,
            "call_attribution_probability": self.attribution_probability,
            "source_id": self.source_id.id,
            "medium_id": self.medium_id.id,
            "campaign_id": self.campaign_id.id,
            "description": self._get_lead_description(),
        }
        if team:
            values["team_id"] = team.id
        if self.is_test:
            # the one who pressed Test call gets the lead, and sees it
            values["name"] = self.env._("Test call: %s", values["name"])
            values["user_id"] = self.env.uid
        if self.session_id.visitor_id:
            values["visitor_ids"] = [fields.Command.link(self.session_id.visitor_id.id)]
        return values

    def _get_lead_description(self):
        self.ensure_one()
        lines = [
            Markup("<li>%s %s</li>") % (self.env._("Called number:"), self.called_number or "-"),
            Markup("<li>%s %s</li>")
            % (
                self.env._("Attribution:"),
                dict(self._fields["attribution_method"]._description_selection(self.env)).get(
                    self.attribution_method, "-"
                ),
            ),
        ]
        if self.landing_url:
            lines.append(Markup("<li>%s %s</li>") % (self.env._("Landing page:"), self.landing_url))
        if self.utm_term:
            lines.append(Markup("<li>%s %s</li>") % (self.env._("Keyword:"), self.utm_term))
        return Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("Lead created from a tracked phone call."),
            Markup("").join(lines),
        )

    def _find_partner(self):
        """The contact whose phone or mobile is the caller's number.

        One indexed query (``res.partner._call_tracking_phone_candidates``)
        lists, in the order of preference, the few contacts whose phone or
        mobile ends with the caller's last digits (whatever its format) or
        whose sanitized number is the caller's. The first of them that is
        the caller is chosen: its sanitized number is the caller's, or its
        phone or mobile, read by phone_validation with the contact's country
        (else the company's), is. Reading drops look-alikes (the same last
        digits in another country); it never reorders the query's answer.
        """
        self.ensure_one()
        Partner = self.env["res.partner"]
        number = self.caller_number
        if not number or not number.startswith("+"):
            return Partner
        candidates = Partner._call_tracking_phone_candidates(
            re.sub(r"\D", "", number), self.company_id
        )
        sanitized = "phone_sanitized" in Partner._fields
        for partner in candidates:
            if sanitized and partner.phone_sanitized == number:
                return partner
            country = partner.country_id or self.company_id.country_id
            for fname in ("phone", "mobile"):
                if (
                    partner[fname]
                    and partner._phone_format_number(partner[fname], country) == number
                ):
                    return partner
        return Partner
