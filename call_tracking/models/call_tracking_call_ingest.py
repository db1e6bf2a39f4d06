from datetime import timedelta

from psycopg2.errors import UniqueViolation

from odoo import api, models
from odoo.tools import SQL, mute_logger

from ..const import CALL_BACK_STATUSES, CALL_ID_CONSTRAINT, FINAL_STATUSES
from ..exceptions import ConcurrentCreation, WebhookSignatureError
from ..tools.phone import caller_to_e164
from ..tools.webhook_parsing import is_http_url


class CallTrackingCall(models.Model):
    """Ingestion: a provider's normalised events (the contract in
    ``const.py``) merged into their calls, each created through ``create()``
    or locked first."""

    _inherit = "call.tracking.call"

    @api.model
    def _process_webhook_events(self, provider, events):
        """Apply normalised provider events; return the calls touched.

        An event is a dict of the contract documented in ``const.py``
        (``event``, ``call_id`` and the optional numbers, times, durations,
        status, recording and signed values).

        Each call is created (``create()``) or locked first (see
        :meth:`_create_or_lock`), so two workers receiving the same call
        serialise on it and only one of them creates the lead.

        The notification emails the processing queues (see ``mail.mail``)
        have the mail queue run within a minute.
        """
        Call = self.with_context(call_tracking_mail_queue_soon=True)
        calls = Call.browse()
        for event in events:
            call = Call._create_or_lock(provider, event["call_id"], event)
            call._apply_webhook_event(event)
            calls |= call
        return calls

    @api.model
    def _create_or_lock(self, provider, provider_call_id, event=None):
        """The call of ``provider_call_id``, created through ``create()`` if
        missing (with the numbers and times ``event`` identifies it by, so
        that automation rules "on creation" see them), and locked ``FOR
        UPDATE`` for merging the event.

        An existing call is locked first. A missing one is created in a
        savepoint: the INSERT of a concurrent transaction creating the same
        call waits on the unique index until that one ends, then fails with
        the unique constraint's violation; the call is then found and locked.
        Under Odoo's REPEATABLE READ a row committed after this transaction's
        snapshot is invisible to it (and locking a row changed since raises a
        serialization failure): Odoo retries the whole request with a fresh
        snapshot (``ConcurrentCreation``), which finds the call.
        """
        call = self._lock_existing(provider, provider_call_id)
        if call:
            return call
        try:
            # a violation is expected under concurrency: no "bad query" line
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                return self.create(
                    {
                        **self._get_identification_values(provider.company_id, event or {}),
                        "provider_id": provider.id,
                        "provider_call_id": provider_call_id,
                        "company_id": provider.company_id.id,
                    }
                )
        except UniqueViolation as exc:
            if exc.diag.constraint_name != CALL_ID_CONSTRAINT:
                raise
            call = self._lock_existing(provider, provider_call_id)
            if not call:
                raise ConcurrentCreation(
                    f"call {provider_call_id!r} created by a concurrent request"
                ) from exc
            return call

    @api.model
    def _lock_existing(self, provider, provider_call_id):
        """The stored call of ``provider_call_id``, locked ``FOR UPDATE``
        (raw SQL for the lock only), or an empty recordset."""
        self.flush_model(["provider_id", "provider_call_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM call_tracking_call
                 WHERE provider_id = %s AND provider_call_id = %s
                   FOR UPDATE
                """,
                provider.id,
                provider_call_id,
            ),
            # a serialization failure is expected under concurrency (Odoo
            # retries the request): not an error worth a log line
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0] if row else ())

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

    @api.model
    def _get_identification_values(self, company, event, call=None):
        """The values identifying a call of ``company`` that ``event``
        carries: the caller's and the called numbers (E.164), the start and
        answer times; those ``call`` knows already are left out (no parsing
        again)."""
        vals = {}
        for fname, key in (("caller_number", "from"), ("called_number", "to")):
            if call and call[fname]:
                continue  # known since an earlier event
            raw = event.get(key)
            # an international number is read without a default region: the
            # company's country (a computed address field) is not needed
            international = isinstance(raw, str) and raw.lstrip().startswith("+")
            country = self.env["res.country"] if international else company.country_id
            number = caller_to_e164(raw, country)
            if number:
                vals[fname] = number
        for fname, key in (("start_at", "start"), ("answer_at", "answer")):
            if event.get(key) and not (call and call[fname]):
                vals[fname] = event[key]
        return vals

    def _get_event_values(self, event, is_end):
        """The values an event writes: identification fields only fill
        blanks; an end's data (end, durations, status, recording) wins over
        what is stored, unless it ended before the stored end."""
        vals = self._get_identification_values(self.company_id, event, self)
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
