import json
import logging
import time
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..tools.conversions import backoff_seconds, clip_answer
from ..tools.retention import purge_batch
from .call_tracking_destination import TRIGGERS, PlatformError

_logger = logging.getLogger(__name__)

SEND_BATCH = 100
# automatic tries of a conversion a platform could not take (timeouts, 5xx)
MAX_ATTEMPTS = 8
# an asynchronous upload (Yandex) is polled for this long
POLL_FOR = timedelta(days=2)
POLL_EVERY = timedelta(minutes=10)
PURGE_BATCH = 5000

STATES = [
    ("pending", "Pending"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
]


class CallTrackingConversion(models.Model):
    """One call (or its lead's outcome) to send to one destination: the
    outbox row. Created when the trigger fires, sent by a cron in batches,
    retried with exponential back-off; never deleted by a failure."""

    _name = "call.tracking.conversion"
    _description = "Call Tracking Conversion"
    _order = "id desc"
    _rec_name = "event_id"

    call_id = fields.Many2one(
        "call.tracking.call", required=True, readonly=True, ondelete="cascade"
    )
    destination_id = fields.Many2one(
        "call.tracking.destination", required=True, readonly=True, index=True, ondelete="cascade"
    )
    kind = fields.Selection(related="destination_id.kind", store=True, string="Platform")
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    lead_id = fields.Many2one(
        "crm.lead", index="btree_not_null", readonly=True, ondelete="set null"
    )
    trigger = fields.Selection(TRIGGERS, required=True, readonly=True)
    state = fields.Selection(STATES, required=True, default="pending", index=True, readonly=True)
    event_id = fields.Char(
        string="Event ID",
        required=True,
        readonly=True,
        help="Stable id of the conversion, sent where the platform de-duplicates on it.",
    )
    event_time = fields.Datetime(readonly=True)
    value = fields.Float(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    payload = fields.Text(readonly=True, help="What the platform receives (JSON).")
    attempts = fields.Integer(readonly=True)
    next_try_at = fields.Datetime(readonly=True)
    sent_at = fields.Datetime(readonly=True)
    answer = fields.Text(string="Platform Answer", readonly=True)
    skip_reason = fields.Char(readonly=True)
    upload_ref = fields.Char(string="Upload", readonly=True, help="The platform's upload id.")
    platform_status = fields.Char(readonly=True)

    _sql_constraints = [
        (
            "call_destination_trigger_uniq",
            "unique(call_id, destination_id, trigger)",
            "A call is converted once per destination and trigger.",
        ),
    ]

    def init(self):
        res = super().init()
        # the cron's claim: due conversions in order
        create_index(
            self.env.cr,
            "call_tracking_conversion_due_idx",
            self._table,
            ["next_try_at", "id"],
            where="state IN ('pending', 'failed', 'sent') AND next_try_at IS NOT NULL",
        )
        create_index(self.env.cr, "call_tracking_conversion_call_idx", self._table, ["call_id"])
        return res

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_retry(self):
        """Send again with the next cron run (failed or skipped conversions,
        e.g. after fixing a credential)."""
        self.check_access("write")
        retry = self.filtered(lambda c: c.state in ("failed", "skipped"))
        retry.write(
            {
                "state": "pending",
                "next_try_at": fields.Datetime.now(),
                "skip_reason": False,
                "attempts": 0,
            }
        )
        self._trigger_send()
        return True

    def action_skip(self):
        """Never send these (pending or failed) conversions."""
        self.check_access("write")
        todo = self.filtered(lambda c: c.state in ("pending", "failed"))
        todo.write(
            {
                "state": "skipped",
                "next_try_at": False,
                "skip_reason": self.env._("Skipped by %s", self.env.user.name),
            }
        )
        return True

    # ------------------------------------------------------------------
    # Outbox: creation
    # ------------------------------------------------------------------

    @api.model
    def _enqueue(self, calls, triggers, values=None):
        """Create the conversions of ``calls`` for every active destination
        of their company whose trigger is in ``triggers`` and matches the
        call, once per (call, destination, trigger). ``values``: call id ->
        value (won revenue). A call the platform cannot match is recorded
        as skipped with the reason."""
        calls = calls.filtered("company_id")
        Destination = self.env["call.tracking.destination"]
        if not any(
            set(triggers) & Destination._get_active_triggers(company_id)
            for company_id in calls.company_id.ids
        ):
            return self.browse()
        destinations_sudo = (
            self.env["call.tracking.destination"]
            .sudo()
            .search([("company_id", "in", calls.company_id.ids), ("trigger", "in", triggers)])
        )
        if not destinations_sudo:
            return self.browse()
        existing = set(
            self.sudo()
            .search_fetch(
                [("call_id", "in", calls.ids), ("destination_id", "in", destinations_sudo.ids)],
                ["call_id", "destination_id", "trigger"],
            )
            .mapped(lambda c: (c.call_id.id, c.destination_id.id, c.trigger))
        )
        now = fields.Datetime.now()
        vals_list = []
        for call in calls.sudo():
            for destination in destinations_sudo:
                trigger = destination.trigger
                key = (call.id, destination.id, trigger)
                if (
                    key in existing
                    or destination.company_id != call.company_id
                    or not destination._trigger_matches(call)
                ):
                    continue
                value = (values or {}).get(call.id)
                if value is None and destination.default_value:
                    value = destination.default_value
                event_time = now if trigger == "won" else (call.start_at or now)
                payload, reason = destination._prepare_conversion(call, trigger, value, event_time)
                if not reason and destination._event_too_old(event_time, now):
                    reason = self.env._(
                        "The call is older than %(platform)s accepts (limit: %(age)s).",
                        platform=destination._fields["kind"].convert_to_export(
                            destination.kind, destination
                        ),
                        age=destination._age_text(destination._max_event_age()),
                    )
                vals_list.append(
                    {
                        "call_id": call.id,
                        "destination_id": destination.id,
                        "company_id": call.company_id.id,
                        "lead_id": call.lead_id.id,
                        "trigger": trigger,
                        "event_id": f"ct-{call.id}-{destination.id}-{trigger}",
                        "event_time": event_time,
                        "value": value or 0.0,
                        "currency_id": destination.currency_id.id,
                        "payload": json.dumps(payload, sort_keys=True) if payload else False,
                        "state": "skipped" if reason else "pending",
                        "skip_reason": reason or False,
                        "next_try_at": False if reason else now,
                    }
                )
                existing.add(key)
        conversions = self.sudo().create(vals_list)
        if conversions.filtered(lambda c: c.state == "pending"):
            self._trigger_send()
        return conversions

    @api.model
    def _trigger_send(self):
        cron_sudo = self.env.ref(
            "call_tracking.ir_cron_call_tracking_conversion_send", raise_if_not_found=False
        )
        if cron_sudo:
            cron_sudo.sudo()._trigger()

    # ------------------------------------------------------------------
    # Outbox: sending
    # ------------------------------------------------------------------

    @api.model
    def _claim_due(self, limit, now=None):
        """Lock up to ``limit`` due conversions that no other transaction
        holds (``FOR NO KEY UPDATE SKIP LOCKED``, as Odoo's cron takes its
        jobs): two concurrent runs never get the same row. Google Ads
        conversions wait for Google to fetch the CSV and are not claimed."""
        self.flush_model()
        try:
            with self.env.cr.savepoint(flush=False):
                rows = self.env.execute_query(
                    SQL(
                        """
                    SELECT c.id FROM call_tracking_conversion c
                     WHERE c.state IN ('pending', 'failed', 'sent')
                       AND c.next_try_at IS NOT NULL AND c.next_try_at <= %(now)s
                       AND c.kind != 'google_ads'
                  ORDER BY c.next_try_at, c.id
                     LIMIT %(limit)s
                       FOR NO KEY UPDATE SKIP LOCKED
                        """,
                        now=now or fields.Datetime.now(),
                        limit=limit,
                    )
                )
        except pg_errors.SerializationFailure:
            # a concurrent run changed these rows after our snapshot began:
            # they are theirs, the next run sees the rest
            return self.browse()
        return self.browse([r[0] for r in rows])

    @api.model
    def _cron_send(self, batch_size=SEND_BATCH, now=None):
        """Send one batch of due conversions (pending, failed to retry) and
        poll asynchronous uploads; the cron runs again while some remain
        and commits after each batch (Odoo's cron progress API). A platform
        that is down, slow or refusing leaves the rows failed with its
        answer and a next try, never lost."""
        started = time.perf_counter()
        queries = self.env.cr.sql_log_count
        conversions = self._claim_due(batch_size, now)
        for destination, batch in conversions.grouped("destination_id").items():
            destination_sudo = destination.sudo()
            to_poll = batch.filtered(lambda c: c.state == "sent")
            to_send = batch - to_poll
            if to_send:
                self._send_batch(destination_sudo, to_send)
            if to_poll:
                try:
                    destination_sudo._poll_conversions(to_poll)
                except PlatformError as exc:
                    to_poll._reschedule_poll(exc.answer)
        done = len(conversions)
        if done:
            self.env.flush_all()
            _logger.info(
                "call_tracking: %d conversions handled in %.3f s, %d queries",
                done,
                time.perf_counter() - started,
                self.env.cr.sql_log_count - queries,
            )
        remaining = int(done == batch_size)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    @api.model
    def _send_batch(self, destination_sudo, conversions):
        try:
            destination_sudo._check_credentials()
        except UserError as exc:  # ValidationError included
            conversions._mark_failed(str(exc), retry=False)
            return
        try:
            destination_sudo._send_conversions(conversions)
        except PlatformError as exc:
            # the part of the batch already accepted (e.g. one of two uploads) stays sent
            conversions.filtered(lambda c: c.state != "sent")._mark_failed(
                exc.answer, retry=exc.retry
            )
        except Exception as exc:  # any answer shape: the rows are kept
            _logger.exception("call_tracking: sending conversions to %s", destination_sudo.name)
            conversions.filtered(lambda c: c.state != "sent")._mark_failed(
                f"unexpected error: {exc!r}", retry=True
            )

    def _mark_sent(self, answer, upload_ref=None, status=None, poll=False):
        """Accepted by the platform; ``poll``: its processing is followed
        (``_poll_conversions``)."""
        now = fields.Datetime.now()
        for attempts, group in self.grouped("attempts").items():
            group.write(
                {
                    "state": "sent",
                    "sent_at": now,
                    "attempts": attempts + 1,
                    "answer": clip_answer(answer),
                    "upload_ref": upload_ref or False,
                    "platform_status": status or False,
                    "next_try_at": now + POLL_EVERY if poll else False,
                }
            )

    def _mark_failed(self, answer, retry):
        """A failure with the platform's answer; retried with exponential
        back-off up to MAX_ATTEMPTS when ``retry``."""
        now = fields.Datetime.now()
        for attempts, group in self.grouped("attempts").items():
            tries = attempts + 1
            again = retry and tries < MAX_ATTEMPTS
            group.write(
                {
                    "state": "failed",
                    "attempts": tries,
                    "answer": clip_answer(answer),
                    "next_try_at": now + timedelta(seconds=backoff_seconds(tries))
                    if again
                    else False,
                }
            )

    def _reschedule_poll(self, answer=None, status=None, final=False, failed=False):
        """After a status poll: final (processed or refused), or again later
        while the platform still processes (for at most POLL_FOR)."""
        now = fields.Datetime.now()
        for conversion in self:
            vals = {"platform_status": status or conversion.platform_status}
            if answer:
                vals["answer"] = clip_answer(answer)
            if final:
                vals["next_try_at"] = False
                if failed:
                    vals["state"] = "failed"
            elif conversion.sent_at and now - conversion.sent_at > POLL_FOR:
                vals["next_try_at"] = False
            else:
                vals["next_try_at"] = now + POLL_EVERY
            conversion.write(vals)

    def _payload(self):
        self.ensure_one()
        return json.loads(self.payload) if self.payload else {}

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _cron_purge(self, days=365, batch_size=PURGE_BATCH):
        """Delete conversions older than ``days`` that are settled (sent or
        skipped), one batch per run."""
        return purge_batch(
            self,
            SQL(
                """
                SELECT id FROM call_tracking_conversion
                 WHERE create_date < now() AT TIME ZONE 'UTC' - %(days)s * interval '1 day'
                   AND state IN ('sent', 'skipped') AND next_try_at IS NULL
                """,
                days=days,
            ),
            batch_size,
            "old conversions",
        )
