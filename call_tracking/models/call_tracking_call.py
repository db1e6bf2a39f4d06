import logging
import re
from datetime import timedelta

from markupsafe import Markup
from psycopg2.errors import UniqueViolation

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..exceptions import ConcurrentCreation, WebhookSignatureError
from ..tools.attribution import ACTIVE_MINUTES, PRIOR, attribution_probability, fit_delay_model
from ..tools.phone import caller_to_e164
from ..tools.webhook_parsing import is_http_url
from .call_tracking_session import DEVICE_CLASS_SELECTION

_logger = logging.getLogger(__name__)

CALL_STATUS = [
    ("in_progress", "In Progress"),
    ("answered", "Answered"),
    ("missed", "Missed"),
    ("busy", "Busy"),
    ("failed", "Failed"),
    ("voicemail", "Voicemail"),
]
FINAL_STATUSES = {"answered", "missed", "busy", "failed", "voicemail"}
CALL_BACK_STATUSES = {"missed", "busy", "failed"}
ATTRIBUTION_METHODS = [
    ("session", "Dynamic: live session"),
    ("session_expired", "Dynamic: last session (lease lapsed)"),
    ("session_late", "Dynamic: too long after the lease"),
    ("static", "Static channel"),
    ("default", "Default number"),
    ("unknown", "Unknown number"),
]
# notification emails queued by the webhook leave with the next cron poll
MAIL_QUEUE_DELAY = timedelta(seconds=1)
EVENT_TYPES = ("call_start", "call_update", "call_end")
SPAM_REASONS = [
    ("blocklist", "Blocked caller"),
    ("repeat", "Repeated short calls"),
    ("no_caller_id", "No caller ID"),
]
# earlier holders of a number weighed against the attributed session
CONFIDENCE_HOLDERS = 20
# live-lease calls the delay model is learned from (the latest ones)
DELAY_MODEL_CALLS = 2000
UTM_FIELDS = (
    ("source_id", "utm.source", "utm_source"),
    ("medium_id", "utm.medium", "utm_medium"),
    ("campaign_id", "utm.campaign", "utm_campaign"),
)


class CallTrackingCall(models.Model):
    """One phone call reported by a provider."""

    _name = "call.tracking.call"
    _inherit = ["call.tracking.spam.mixin"]
    _description = "Tracked Call"
    # spam is hidden where the menu asks for it, not from code
    _spam_hidden = False
    _order = "start_at desc, id desc"
    _rec_name = "caller_number"

    provider_id = fields.Many2one(
        "call.tracking.provider", required=True, index=True, ondelete="restrict", readonly=True
    )
    provider_call_id = fields.Char(string="Provider Call ID", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    caller_number = fields.Char(string="Caller", index=True, readonly=True, help="E.164")
    called_number = fields.Char(readonly=True, help="E.164")
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
    signed_key = fields.Char(
        readonly=True,
        copy=False,
        help="The values the provider signs for this call when it does not sign its call "
        "id (Zadarma: caller, called number and start), joined without ambiguity; "
        "events of the call must carry the same.",
    )
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
    attribution_probability = fields.Float(
        digits=(16, 3),
        readonly=True,
        aggregator="avg",
        help="Probability (0 to 1) that the call's visit or channel is the right one: "
        "from how long after the visitor's last activity the call came and how many "
        "other visitors held the number (see README). 0 when not attributed.",
    )
    attribution_delay = fields.Float(
        string="Delay After Activity (min)",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="Minutes between the last activity of the attributed visitor and the call.",
    )
    is_spam = fields.Boolean(
        string="Spam",
        index=True,
        readonly=True,
        copy=False,
        help="A spam call creates no lead and is left out of the reports.",
    )
    spam_reason = fields.Selection(SPAM_REASONS, readonly=True, copy=False)
    spam_cleared = fields.Boolean(
        string="Marked Not Spam",
        readonly=True,
        copy=False,
        help="A manager marked the call as not spam: the spam rules leave it alone.",
    )
    source_id = fields.Many2one("utm.source", index="btree_not_null", readonly=True)
    medium_id = fields.Many2one("utm.medium", index="btree_not_null", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", index="btree_not_null", readonly=True)
    utm_term = fields.Char(string="Keyword", readonly=True)
    landing_url = fields.Char(string="Landing Page", readonly=True)
    device_class = fields.Selection(
        DEVICE_CLASS_SELECTION, readonly=True, help="Device of the visit, from its user agent."
    )
    os_name = fields.Char(string="Operating System", readonly=True)
    browser = fields.Char(readonly=True)
    visitor_id = fields.Many2one(
        "website.visitor",
        string="Website Visitor",
        related="session_id.visitor_id",
        readonly=True,
    )
    is_repeat = fields.Boolean(
        string="Repeat Call", readonly=True, help="The caller had called within the repeat window."
    )
    is_first_call = fields.Boolean(
        string="Unique Call", readonly=True, help="The first call ever received from this caller."
    )
    # CRM
    lead_id = fields.Many2one("crm.lead", index="btree_not_null", ondelete="set null")
    user_id = fields.Many2one("res.users", string="Salesperson", index="btree_not_null")
    team_id = fields.Many2one("crm.team", string="Sales Team", index="btree_not_null")
    quality = fields.Selection(
        related="lead_id.call_quality", store=True, string="Quality", readonly=True
    )
    quality_reason_id = fields.Many2one(
        related="lead_id.call_quality_reason_id",
        store=True,
        readonly=True,
        help="Mirrored from the lead, like the quality, for the reports.",
    )
    is_test = fields.Boolean(
        string="Test Call",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Made with the Test call button: left out of the reports; "
        "Delete Test Calls removes it with its lead.",
    )
    webhook_event_ids = fields.One2many(
        "call.tracking.webhook.event",
        "call_id",
        string="Webhook Events",
        groups="call_tracking.call_tracking_group_manager",
    )

    _sql_constraints = [
        (
            "provider_call_uniq",
            "unique(provider_id, provider_call_id)",
            "A provider call is recorded only once.",
        ),
        (
            # NULLs never conflict: only calls of providers that sign a key
            "provider_signed_key_uniq",
            "unique(provider_id, signed_key)",
            "The same signed call cannot be reported under two call ids.",
        ),
    ]

    def init(self):
        # the delay model's latest live-lease calls (_get_delay_model), read
        # on every call to a pool number: an index walk of a few thousand
        # entries, not a sort of the company's whole call history
        create_index(
            self.env.cr,
            "call_tracking_call_live_lease_index",
            self._table,
            ["company_id", "start_at DESC NULLS LAST"],
            where="attribution_method = 'session' AND is_spam IS NOT TRUE",
        )

    @api.depends("caller_number", "start_at")
    def _compute_display_name(self):
        for call in self:
            caller = call.caller_number or self.env._("Unknown caller")
            call.display_name = (
                f"{caller} ({fields.Datetime.to_string(call.start_at)})"
                if call.start_at
                else caller
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
        }

    def action_mark_not_spam(self):
        """A manager's verdict: the call is not spam. It gets its lead now,
        made as the webhook makes it (repeat caller's open lead or a new
        one, call note, call-back activity of a missed call)."""
        self.ensure_one()
        self._mark_not_spam()
        return True

    def action_block_caller(self):
        """A manager's verdict the other way: the caller goes on the
        company's blocklist, so that this call and their next ones are spam.
        A lead the call already made stays, for sales to close."""
        self.ensure_one()
        if not self.caller_number or not self.caller_number.startswith("+"):
            raise UserError(self.env._("This call has no caller number to block."))
        blocked = self.env["call.tracking.blocked.number"].with_context(active_test=False)
        existing = blocked.search(
            [("company_id", "=", self.company_id.id), ("number", "=", self.caller_number)]
        )
        if existing:
            existing.active = True
        else:
            blocked.create(
                {
                    "company_id": self.company_id.id,
                    "number": self.caller_number,
                    "note": self.env._("Blocked from call %s", self.display_name),
                }
            )
        # the calls are system records, read-only for people
        self.sudo().write({"is_spam": True, "spam_reason": "blocklist", "spam_cleared": False})
        return True

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

    def action_open_test_call(self):
        """The lead of a test call (its calls tab lists the call), else the
        call, with a notification saying where the call went."""
        self.ensure_one()
        channel = self.channel_id.name or self.env._("no channel")
        if self.session_id:
            message = self.env._(
                "Test call received and matched to the visitor who holds the number (channel %s).",
                channel,
            )
        else:
            message = self.env._("Test call received (channel %s).", channel)
        target = (
            self.action_open_lead()
            if self.lead_id
            else {
                "type": "ir.actions.act_window",
                "res_model": self._name,
                "res_id": self.id,
                "view_mode": "form",
            }
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": "success", "next": target},
        }

    @api.model
    def action_delete_test_calls(self):
        """Delete the test calls of the allowed companies, and their leads
        when a lead has no other call."""
        calls = self.search([("is_test", "=", True)])
        calls.check_access("unlink")
        kept = self.search([("lead_id", "in", calls.lead_id.ids), ("is_test", "=", False)])
        # the leads the test calls created, which no real call joined since
        leads_sudo = (calls.lead_id - kept.lead_id).sudo()
        count = len(calls)
        calls.unlink()
        leads_sudo.unlink()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("%s test calls deleted.", count),
                "type": "info",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------
    # Webhook processing
    # ------------------------------------------------------------------

    @api.model
    def _process_webhook_events(self, provider, events):
        """Apply normalised provider events; return the calls touched.

        An event is a dict with ``event`` (``call_start``, ``call_update`` or
        ``call_end``), ``call_id`` (the provider's id, required), and
        optionally ``from``, ``to`` (numbers as sent), ``start``, ``answer``,
        ``end`` (naive UTC datetimes), ``duration``, ``talk_duration``
        (seconds), ``status`` (a key of ``CALL_STATUS``), ``recording_url``.

        Each call row is inserted or locked first (``INSERT ... ON CONFLICT``
        takes the row lock), so two workers receiving the same call serialise
        on it and only one of them creates the lead.

        The notification emails the processing queues (see ``mail.mail``)
        have the mail queue run within a minute.
        """
        Call = self.with_context(call_tracking_mail_queue_soon=True)
        calls = Call.browse()
        for event in events:
            call = Call._upsert_and_lock(provider, event["call_id"])
            call._apply_webhook_event(event)
            calls |= call
        return calls

    @api.model
    def _upsert_and_lock(self, provider, provider_call_id):
        """Insert the call row if missing and lock it ``FOR UPDATE``.

        ``ON CONFLICT DO UPDATE`` locks the existing row; under Odoo's
        REPEATABLE READ a row committed by a concurrent transaction after our
        snapshot raises a serialization failure instead, which makes Odoo
        retry the whole request with a fresh snapshot.

        The statement returns the row's columns, which go into the cache as
        a read would put them: the call is not read again.
        """
        self.flush_model()
        now = fields.Datetime.now()
        columns = self._get_upsert_cached_fields()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO call_tracking_call
                    (provider_id, provider_call_id, company_id, status,
                     create_uid, write_uid, create_date, write_date)
                VALUES (%(provider)s, %(call_id)s, %(company)s, 'in_progress',
                        %(uid)s, %(uid)s, %(now)s, %(now)s)
                ON CONFLICT (provider_id, provider_call_id)
                DO UPDATE SET write_date = EXCLUDED.write_date
                RETURNING id, %(columns)s
                """,
                provider=provider.id,
                call_id=provider_call_id,
                company=provider.company_id.id,
                uid=self.env.uid,
                now=now,
                columns=SQL(", ").join(SQL.identifier(field.name) for field in columns),
            ),
            # a serialization failure is expected under concurrency (Odoo
            # retries the request): not an error worth a log line
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        call = self.browse(row[0])
        call.invalidate_recordset()
        for field, value in zip(columns, row[1:], strict=True):
            self.env.cache.insert_missing(call, field, [value])
        return call

    @api.model
    def _get_upsert_cached_fields(self):
        """The fields a read of the call prefetches (plain columns; no
        translation or binary here) that the upsert returns."""
        return [
            field
            for field in self._fields.values()
            if field.store
            and field.column_type
            and field.prefetch is True
            and field.name != "id"
            and not field.translate
            and field.type != "binary"
        ]

    def _apply_webhook_event(self, event):
        """Merge one event into the locked call: an end never gets
        downgraded by a late start nor by a late, older end, and the same
        event twice changes nothing. An event carrying a ``signed_key`` (the
        provider's signed values, when the call id is not signed) must match
        its call's."""
        self.ensure_one()
        self._check_signed_key(event.get("signed_key"))
        was_final = self.status in FINAL_STATUSES
        is_end = event.get("event") == "call_end" or event.get("status") in FINAL_STATUSES
        vals = self._get_event_values(event, is_end)
        if self.env.context.get("call_tracking_test_call") and not self.is_test:
            # set by the Test call button only, never by a provider's request
            vals["is_test"] = True
        if event.get("signed_key") and not self.signed_key:
            vals["signed_key"] = event["signed_key"]
        if not self.attribution_method and (
            vals.get("called_number") or self.called_number or is_end
        ):
            # one write per event: the attribution reads the event's values
            vals.update(self._get_attribution_values(vals))
        repeat_lead = self.env["crm.lead"]
        if not self.lead_id:
            # the caller's history is read before the write, so that the
            # call row is updated once, with the lead, at the next flush
            history_vals, repeat_lead = self._get_caller_history(vals)
            vals.update(history_vals)
            if not (self.is_spam or self.spam_cleared):
                vals.update(self._get_spam_values(vals))
        if vals:
            self.write(vals)
        if not self.lead_id and not self.is_spam:
            self._link_lead(repeat_lead)
        if is_end and not was_final and self.lead_id:
            self._post_call_message()
            if self.status in CALL_BACK_STATUSES:
                self._schedule_call_back()

    def _check_signed_key(self, signed_key):
        """Refuse an event whose signed values are not its call's, or that
        reports signed values already recorded under another call id (the
        unique index enforces it across workers)."""
        if not signed_key:
            return
        if self.signed_key:
            if self.signed_key != signed_key:
                raise WebhookSignatureError(
                    self.env._("The signed values of the event are not those of its call.")
                )
            return
        if self.search_count(
            [
                ("provider_id", "=", self.provider_id.id),
                ("signed_key", "=", signed_key),
                ("id", "!=", self.id),
            ],
            limit=1,
        ):
            raise WebhookSignatureError(
                self.env._("Another call already carries the same signed values.")
            )

    def _is_older_end(self, event):
        """Whether an end event reaching an ended call ended before the
        stored end (a late delivery): it must not overwrite the newer one."""
        if self.status not in FINAL_STATUSES or not self.end_at:
            return False
        end = event.get("end")
        if not end:
            start = event.get("start") or self.start_at
            duration = event.get("duration")
            if not start or duration is None:
                return False
            end = start + timedelta(seconds=duration)
        return end < self.end_at

    def _get_event_values(self, event, is_end):
        """The values an event writes: identification fields only fill
        blanks; an end's data (end, durations, status, recording) wins over
        what is stored, unless it ended before the stored end."""
        vals = {}
        for fname, key in (("caller_number", "from"), ("called_number", "to")):
            if self[fname]:
                continue  # known since an earlier event: no parsing again
            raw = event.get(key)
            # an international number is read without a default region: the
            # company's country (a computed address field) is not needed
            international = isinstance(raw, str) and raw.lstrip().startswith("+")
            country = self.env["res.country"] if international else self.company_id.country_id
            number = caller_to_e164(raw, country)
            if number:
                vals[fname] = number
        for fname, key in (("start_at", "start"), ("answer_at", "answer")):
            if event.get(key) and not self[fname]:
                vals[fname] = event[key]
        if event.get("recording_url") and not is_http_url(event["recording_url"]):
            event = {**event, "recording_url": None}  # only http(s) URLs are stored
        if is_end and self._is_older_end(event):
            is_end = False  # a late, older end: identification fields only
        if is_end:
            for fname, key in (
                ("end_at", "end"),
                ("duration", "duration"),
                ("talk_duration", "talk_duration"),
                ("recording_url", "recording_url"),
            ):
                if event.get(key) not in (None, ""):
                    vals[fname] = event[key]
            vals["status"] = self._get_end_status(event, vals)
        elif event.get("recording_url") and not self.recording_url:
            vals["recording_url"] = event["recording_url"]
        start = vals.get("start_at") or self.start_at
        end = vals.get("end_at") or self.end_at
        duration = vals.get("duration", self.duration)
        if start and not end and is_end and duration:
            vals["end_at"] = start + timedelta(seconds=duration)
        if not start and end and duration is not None:
            vals["start_at"] = end - timedelta(seconds=duration or 0)
        return vals

    def _get_end_status(self, event, vals):
        status = event.get("status")
        if status in FINAL_STATUSES:
            return status
        talk = vals.get("talk_duration", self.talk_duration)
        return "answered" if talk or vals.get("answer_at", self.answer_at) else "missed"

    # ------------------------------------------------------------------
    # Attribution (the call flow of the public contract in README.rst)
    # ------------------------------------------------------------------

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
        """The spam rules for many calls in one query.

        :param items: ``[(key, company id, caller number, start)]``; ``key``
            is the call's id (0 for a call not stored yet)
        :return: ``{key: reason}`` for the spam ones (a key of ``SPAM_REASONS``)

        In the order of the reasons: the caller is on the company's
        blocklist; the call has no caller id (a caller that is not an E.164
        number) and the company marks those as spam; the caller called at
        least the company's repeat count of times (this call included) in
        its repeat window, the earlier calls with at most its short talk
        time (a call in progress counts as short)."""
        if not items:
            return {}
        self.env["call.tracking.blocked.number"].flush_model()
        self.env["res.company"].flush_model(
            [
                "call_tracking_spam_no_caller_id",
                "call_tracking_spam_repeat_count",
                "call_tracking_spam_repeat_minutes",
                "call_tracking_spam_talk_seconds",
            ]
        )
        self.flush_model(["caller_number", "start_at", "talk_duration", "company_id"])
        keys, companies, callers, starts = zip(*items, strict=True)
        rows = self.env.execute_query(
            SQL(
                """
            SELECT c.key,
                   CASE
                   WHEN c.caller IS NOT NULL AND EXISTS (
                        SELECT 1 FROM call_tracking_blocked_number b
                         WHERE b.company_id = c.company_id AND b.number = c.caller
                           AND b.active)
                   THEN 'blocklist'
                   WHEN co.call_tracking_spam_no_caller_id
                        AND (c.caller IS NULL OR left(c.caller, 1) <> '+')
                   THEN 'no_caller_id'
                   WHEN co.call_tracking_spam_repeat_count > 1 AND left(c.caller, 1) = '+'
                        AND (SELECT count(*) FROM call_tracking_call p
                              WHERE p.company_id = c.company_id
                                AND p.caller_number = c.caller AND p.id <> c.key
                                AND p.start_at <= c.start_at
                                AND p.start_at >= c.start_at - interval '1 minute'
                                    * co.call_tracking_spam_repeat_minutes
                                AND COALESCE(p.talk_duration, 0)
                                    <= co.call_tracking_spam_talk_seconds
                            ) >= co.call_tracking_spam_repeat_count - 1
                   THEN 'repeat'
                   END
              FROM unnest(%s::int4[], %s::int4[], %s::varchar[], %s::timestamp[])
                   AS c(key, company_id, caller, start_at)
              JOIN res_company co ON co.id = c.company_id
                """,
                list(keys),
                list(companies),
                [caller or None for caller in callers],
                list(starts),
            )
        )
        return {key: reason for key, reason in rows if reason}

    def _get_attribution_values(self, event_vals=None, now=None):
        """Match the call to a session or a static channel; the values
        about to be written for the current event (``event_vals``) take
        precedence over the stored ones.

        The call's time is its start; a call reported without one is
        matched at ``now`` (a naive UTC datetime; default: the database
        transaction's ``now()``), so that a replayed call is matched at its
        replayed time: the number's last session assigned by then, live when
        it had not expired, lapsed within the company's late-call window, or
        else not attributed. ``attribution_probability`` says how likely
        the match is right (``tools/attribution.py``)."""
        self.ensure_one()
        event_vals = event_vals or {}
        called_number = event_vals.get("called_number") or self.called_number
        call_time = event_vals.get("start_at") or self.start_at or now or self.env.cr.now()
        number, is_default = self._find_called_number(called_number)
        vals = {
            "number_id": number.id,
            "attribution_method": "unknown",
            "attribution_confidence": "none",
            "attribution_probability": 0.0,
            "attribution_delay": 0.0,
        }
        session = self.env["call.tracking.session"]
        channel = self.env["call.tracking.channel"]
        if number.pool_id:
            vals.update(self._get_session_match(number, call_time))
            session = session.browse(vals.pop("session_id", False))
            # no visitor to match (the number was never leased, or too long
            # ago): the number was only shown to the pool's channels, so the
            # call is credited to the first of them, without a visit
            channel = session.channel_id or number.pool_id.channel_ids.sorted("sequence")[:1]
        elif number and number.channel_ids:
            channels = number.channel_ids.sorted("sequence")
            channel = channels[:1]
            vals["attribution_method"] = "static"
            vals["attribution_confidence"] = "high"
            # the number is printed for its channels only: the call is from
            # one of their audiences, the first channel's by the rules' order
            vals["attribution_probability"] = 1.0 / len(channels)
        elif number or is_default:
            vals["attribution_method"] = "default"
        vals["session_id"] = session.id
        vals["channel_id"] = channel.id
        vals.update(self._get_utm_values(session, channel))
        return vals

    def _get_session_match(self, number, call_time):
        """Attribution values of a call to a pool ``number`` at ``call_time``:
        the latest session that held the number by then, and the
        probability that it is the caller's, weighed against the earlier
        holders whose lease lapsed within the late-call window."""
        self.ensure_one()
        window_hours = self.company_id.call_tracking_late_call_hours or 24
        window = timedelta(hours=window_hours)
        self.env["call.tracking.session"].flush_model(
            ["number_id", "assigned_at", "last_seen_at", "expires_at"]
        )
        holders = self.env.execute_query(
            SQL(
                """
            SELECT id, COALESCE(last_seen_at, assigned_at), expires_at
              FROM call_tracking_session
             WHERE number_id = %s AND assigned_at <= %s
          ORDER BY assigned_at DESC, id DESC
             LIMIT %s
                """,
                number.id,
                call_time,
                CONFIDENCE_HOLDERS,
            )
        )
        if not holders:
            return {}
        session_id, _seen, expires_at = holders[0]
        live = not expires_at or expires_at >= call_time
        if not live and call_time - expires_at > window:
            return {"attribution_method": "session_late"}
        delays = [
            max((call_time - seen).total_seconds() / 60.0, 0.0)
            for _id, seen, expires in holders
            if not expires or call_time - expires <= window
        ]
        model = self._get_delay_model(self.company_id)
        return {
            "session_id": session_id,
            "attribution_method": "session" if live else "session_expired",
            "attribution_confidence": "high" if live else "low",
            "attribution_probability": attribution_probability(
                model, delays, window.total_seconds() / 60.0
            ),
            "attribution_delay": delays[0],
        }

    @api.model
    def _get_delay_model(self, company):
        """When the company's callers call, learned from its latest calls on
        live leases (one grouped query; ``tools/attribution.py``)."""
        self.flush_model(
            ["company_id", "attribution_method", "attribution_delay", "is_spam", "number_id"]
        )
        rows = self.env.execute_query(
            SQL(
                """
            WITH live AS (
                SELECT c.attribution_delay AS delay, pool.hold_minutes AS hold,
                       s.last_seen_at - s.assigned_at AS visit
                  FROM call_tracking_call c
                  JOIN call_tracking_number n ON n.id = c.number_id
                  JOIN call_tracking_pool pool ON pool.id = n.pool_id
             LEFT JOIN call_tracking_session s ON s.id = c.session_id
                 WHERE c.company_id = %(company)s AND c.attribution_method = 'session'
                   AND c.is_spam IS NOT TRUE
              ORDER BY c.start_at DESC NULLS LAST
                 LIMIT %(limit)s
            )
            SELECT count(*) FILTER (WHERE delay <= %(active)s),
                   array_agg(delay) FILTER (WHERE delay > %(active)s),
                   array_agg(hold) FILTER (WHERE delay > %(active)s),
                   extract(epoch FROM avg(visit)) / 60.0
              FROM live
                """,
                company=company.id,
                limit=DELAY_MODEL_CALLS,
                active=ACTIVE_MINUTES,
            )
        )
        active, delays, holds, visit = rows[0] if rows else (0, None, None, None)
        if (active or 0) + len(delays or ()) < 1:
            return PRIOR
        return fit_delay_model(
            active or 0,
            list(zip(delays or (), holds or (), strict=True)),
            float(visit) if visit else None,
        )

    def _find_called_number(self, called_number):
        """``(the company's tracking number called (archived ones too),
        whether the called number is a fallback number: of a pool or the
        company's default)``, in one query, which does not load the whole
        company. A number is registered once per company."""
        self.ensure_one()
        Number = self.env["call.tracking.number"]
        if not called_number:
            return Number, False
        Number.flush_model(["number", "company_id", "pool_id"])
        self.env["res.company"].flush_model(["call_tracking_default_number"])
        self.env["call.tracking.pool"].flush_model(["company_id", "default_number"])
        [(number_id, pool_id, is_default)] = self.env.execute_query(
            SQL(
                """
            SELECT n.id, n.pool_id,
                   EXISTS (SELECT 1 FROM res_company
                            WHERE id = %(company)s
                              AND call_tracking_default_number = %(number)s)
                   OR EXISTS (SELECT 1 FROM call_tracking_pool
                               WHERE company_id = %(company)s AND default_number = %(number)s)
              FROM (SELECT 1) AS one
         LEFT JOIN call_tracking_number n
                ON n.number = %(number)s AND n.company_id = %(company)s
                """,
                company=self.company_id.id,
                number=called_number,
            )
        )
        number = Number.browse(number_id)
        if number:
            self.env.cache.insert_missing(number, Number._fields["pool_id"], [pool_id])
        return number, is_default

    def _get_utm_values(self, session, channel):
        """UTM records of the visit (its raw utm_* values, found or created)
        or else of the channel; keyword and landing page of the visit."""
        vals = {}
        utm_mixin = self.env["utm.mixin"]
        for fname, model, session_field in UTM_FIELDS:
            raw = (session[session_field] or "").strip()[:256] if session else ""
            if raw:
                try:
                    record = utm_mixin._find_or_create_record(model, raw)
                except UniqueViolation as exc:
                    # the same new value, created by a concurrent request
                    # (two first calls from one new campaign): retried
                    raise ConcurrentCreation(f"{model} {raw!r} created concurrently") from exc
            else:
                record = channel[fname]
            vals[fname] = record.id
        vals["utm_term"] = session.utm_term if session else False
        vals["landing_url"] = session.landing_url if session else False
        vals["device_class"] = session.device_class if session else False
        vals["os_name"] = session.os_name if session else False
        vals["browser"] = session.browser if session else False
        return vals

    # ------------------------------------------------------------------
    # Leads
    # ------------------------------------------------------------------

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
            self._prefetch_lead_creation(values)
            lead = (
                self.env["crm.lead"].with_context(**self._get_lead_create_context()).create(values)
            )
        self.write({"lead_id": lead.id, "user_id": lead.user_id.id, "team_id": lead.team_id.id})

    def _prefetch_lead_creation(self, values):
        """Read in one query each what creating the lead would read one
        record at a time: the users (the current one, author of the creation
        message, and the salesperson, who follows the lead) and the contacts
        (the author's, for the message, and the company's, whose country
        reads the lead's phone number)."""
        users = self.env["res.users"].browse(
            dict.fromkeys(uid for uid in (self.env.uid, values.get("user_id")) if uid)
        )
        users.fetch(self._get_prefetched_fields(users))
        partners = self.env.user.partner_id | self.env.company.partner_id
        partners.fetch(self._get_prefetched_fields(partners))

    @api.model
    def _get_prefetched_fields(self, records):
        """The fields a first read of ``records`` loads together."""
        return [fname for fname, field in records._fields.items() if field.prefetch is True]

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

    @api.model
    def _wake_mail_queue(self):
        """Have the mail queue send the notification emails just queued
        (new lead to the team's followers, call-back activity) within a
        minute instead of at its hourly run; called when the webhook
        processing queues an email (``mail.mail``), so a call that notifies
        nobody by email triggers nothing. A trigger in the near future is
        picked up by the cron workers' regular poll: no wake-up NOTIFY per
        webhook request, and the emails of a burst of calls leave in one
        run."""
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "mail.ir_cron_mail_scheduler_action", raise_if_not_found=False
        )
        if cron_id:
            cron_sudo = self.env["ir.cron"].sudo().browse(cron_id)
            cron_sudo._trigger(fields.Datetime.now() + MAIL_QUEUE_DELAY)

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
            "user_id": provider.user_id.id,
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

    def _post_call_message(self):
        """Log the call on its lead: status, duration and recording link."""
        self.ensure_one()
        status = dict(self._fields["status"]._description_selection(self.env)).get(self.status, "")
        minutes, seconds = divmod(self.duration or 0, 60)
        body = Markup("<p>%s</p><ul><li>%s %s</li><li>%s %s</li><li>%s %s</li>") % (
            self.env._("Phone call from %s", self.caller_number or self.env._("unknown caller")),
            self.env._("Status:"),
            status,
            self.env._("Duration:"),
            f"{minutes}:{seconds:02d}",
            self.env._("Channel:"),
            self.channel_id.name or "-",
        )
        recording_url = self._get_call_message_recording_url()
        if recording_url:
            body += Markup(
                '<li>%s <a href="%s" target="_blank" rel="noopener noreferrer">%s</a></li>'
            ) % (
                self.env._("Recording:"),
                recording_url,
                self.env._("listen"),
            )
        body += Markup("</ul>")
        self.lead_id._call_tracking_log_note(body)

    def _get_call_message_recording_url(self):
        """The recording link of the call's note on its lead (hook), or None."""
        self.ensure_one()
        if self.recording_url and self.recording_url.startswith(("https://", "http://")):
            return self.recording_url
        return None

    def _schedule_call_back(self):
        """A missed, busy or failed call: ask someone to call back, always."""
        self.ensure_one()
        lead = self.lead_id
        user = self._get_call_back_user()
        lead.with_context(mail_notify_force_send=False).activity_schedule(
            "mail.mail_activity_data_call",
            user_id=user.id,
            summary=self.env._("Call back %s", self.caller_number or self.env._("the caller")),
            note=self.env._(
                "Missed call (%(status)s) on %(number)s.",
                status=dict(self._fields["status"]._description_selection(self.env)).get(
                    self.status, self.status
                ),
                number=self.called_number or "-",
            ),
        )

    def _get_call_back_user(self):
        """Who calls back: the lead's salesperson, else the provider's, else
        the team leader, else a Call Tracking administrator of the company
        (else the superuser, who administers every company)."""
        self.ensure_one()
        lead = self.lead_id
        user = lead.user_id or self.provider_id.user_id or lead.team_id.user_id
        if user:
            return user
        manager_group = self.env.ref("call_tracking.call_tracking_group_manager")
        user = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("groups_id", "in", manager_group.ids),
                    ("company_ids", "in", self.company_id.ids),
                    ("share", "=", False),
                    ("id", "!=", SUPERUSER_ID),
                ],
                order="id",
                limit=1,
            )
        )
        return user or self.env["res.users"].browse(SUPERUSER_ID)
