from odoo import api, models
from odoo.tools import SQL

from ..const import CALL_BACK_STATUSES, FINAL_STATUSES


class CallTrackingCall(models.Model):
    """Spam: the company's spam rules (blocklist, no caller id, repeated
    short calls) and a manager's verdict."""

    _inherit = "call.tracking.call"

    def _get_spam_values(self, vals):
        """``{"is_spam", "spam_reason"}`` of the call about to be written
        with ``vals`` (empty when it is not spam)."""
        self.ensure_one()
        caller = vals.get("caller_number") or self.caller_number
        start = vals.get("start_at") or self.start_at or self.env.cr.now()
        reason = self._get_spam_reasons([(self.id or 0, self.company_id.id, caller, start)])
        reason = reason.get(self.id or 0)
        return {"is_spam": True, "spam_reason": reason} if reason else {}

    @api.model
    def _get_spam_reasons(self, items):
        """The spam rules for many calls, in a few queries whatever their
        number.

        :param items: ``[(key, company id, caller number, start)]``; ``key``
            is the call's id (0 for a call not stored yet)
        :return: ``{key: reason}`` for the spam ones (a key of ``SPAM_REASONS``)

        In the order of the reasons: the caller is on the company's
        blocklist (``call.tracking.blocked.number``); the call has no caller
        id (a caller that is not an E.164 number) and the company marks those
        as spam; the caller called at least the company's repeat count of
        times (this call included) in its repeat window, the earlier calls
        with at most its short talk time (a call in progress counts as
        short)."""
        if not items:
            return {}
        blocked = self.env["call.tracking.blocked.number"]._get_blocked_callers(
            {(company_id, caller) for _key, company_id, caller, _start in items if caller}
        )
        # the spam settings of the companies, for a call processed in sudo or
        # a manager's verdict alike
        companies_sudo = self.env["res.company"].sudo().browse({item[1] for item in items})
        settings = {company.id: company for company in companies_sudo}
        reasons, repeats = {}, []
        for key, company_id, caller, start in items:
            company = settings[company_id]
            international = bool(caller) and caller.startswith("+")
            if caller and (company_id, caller) in blocked:
                reasons[key] = "blocklist"
            elif company.call_tracking_spam_no_caller_id and not international:
                reasons[key] = "no_caller_id"
            elif company.call_tracking_spam_repeat_count > 1 and international:
                repeats.append((key, company, caller, start))
        reasons.update(dict.fromkeys(self._get_repeat_callers(repeats), "repeat"))
        return reasons

    @api.model
    def _get_repeat_callers(self, items):
        """The keys of ``items`` (``[(key, company, caller, start)]``) whose
        caller called at least the company's repeat count of times in its
        repeat window, the earlier calls short: one query on the calls."""
        if not items:
            return set()
        self.flush_model(["caller_number", "start_at", "talk_duration", "company_id"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT c.key
              FROM unnest(%s::int4[], %s::int4[], %s::varchar[], %s::timestamp[],
                          %s::int4[], %s::int4[], %s::int4[])
                   AS c(key, company_id, caller, start_at, minutes, talk, count)
             WHERE (SELECT count(*) FROM call_tracking_call p
                     WHERE p.company_id = c.company_id
                       AND p.caller_number = c.caller AND p.id <> c.key
                       AND p.start_at <= c.start_at
                       AND p.start_at >= c.start_at - interval '1 minute' * c.minutes
                       AND COALESCE(p.talk_duration, 0) <= c.talk
                   ) >= c.count - 1
                """,
                [key for key, _company, _caller, _start in items],
                [company.id for _key, company, _caller, _start in items],
                [caller for _key, _company, caller, _start in items],
                [start for _key, _company, _caller, start in items],
                [company.call_tracking_spam_repeat_minutes for _k, company, _c, _s in items],
                [company.call_tracking_spam_talk_seconds for _k, company, _c, _s in items],
                [company.call_tracking_spam_repeat_count for _k, company, _c, _s in items],
            )
        )
        return {key for (key,) in rows}

    def _mark_not_spam(self):
        # the calls are system records, read-only for people: their lead is
        # made with the rights of the webhook processing
        calls_sudo = self.sudo().filtered("is_spam")
        calls_sudo.write({"is_spam": False, "spam_reason": False, "spam_cleared": True})
        for call_sudo in calls_sudo.sorted(lambda c: (c.start_at or c.create_date, c.id)):
            if call_sudo.lead_id:
                continue
            call_sudo._link_lead()
            if call_sudo.status in FINAL_STATUSES:
                call_sudo._post_call_message()
                if call_sudo.status in CALL_BACK_STATUSES:
                    call_sudo._schedule_call_back()
