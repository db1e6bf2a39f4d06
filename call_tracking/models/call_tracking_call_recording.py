"""Recordings stored in Odoo: the audio of a call as an attachment of the call.

A call that ends with a recording reference (a URL, or a provider's own
recording id in ``recording_ref``) gets ``recording_state`` ``pending``; a
cron downloads the audio through the provider's API
(:meth:`call.tracking.provider._fetch_recording`, extended per kind), checks
its size and its bytes (audio formats only, ``tools/audio.py``) and stores it
as an ``ir.attachment`` of the call (``res_model``/``res_id``: whoever may
read the call may read the file, nobody else). A failure is retried with
back-off, then the call is ``failed`` with the provider's (redacted) answer;
the call and its lead are never changed otherwise. A company retention
deletes the audio after N days and keeps the call (``deleted``).

The Asterisk AGI program uploads its recordings instead
(``controllers/call_tracking_recording.py``): :meth:`_receive_recording_upload`.
"""

import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..exceptions import RecordingNotAudioError, WebhookBodyTooLargeError, WebhookError
from ..tools import outbound
from ..tools.audio import is_audio_content_type, sniff_audio

_logger = logging.getLogger(__name__)

RECORDING_STATES = [
    ("none", "No Recording"),
    ("pending", "Pending"),
    ("done", "Stored"),
    ("failed", "Failed"),
    ("deleted", "Deleted"),
]
# minutes to wait before each new attempt; failed after the last one (the
# first retries come soon: some providers' links expire within minutes)
RETRY_MINUTES = (1, 5, 30, 120, 720)
FETCH_BATCH = 20
PURGE_BATCH = 1000
# seconds a provider has to answer a recording request
RECORDING_TIMEOUT = 30
# the longest reason kept on the call
ERROR_CHARS = 500


class CallTrackingCall(models.Model):
    _inherit = "call.tracking.call"

    recording_attachment_id = fields.Many2one(
        "ir.attachment",
        string="Recording File",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The call's audio, stored in Odoo's filestore.",
    )
    recording_state = fields.Selection(
        RECORDING_STATES,
        # not required: the webhook's upsert inserts call rows in SQL
        # (no ORM defaults); an empty state reads as "none"
        default="none",
        index=True,
        readonly=True,
        copy=False,
    )
    recording_error = fields.Char(
        readonly=True,
        copy=False,
        help="Why the recording could not be fetched (the provider's answer, redacted).",
    )
    recording_ref = fields.Char(
        string="Provider Recording ID",
        readonly=True,
        copy=False,
        help="The provider's id of the recording, when it names one (Zadarma: call_id_with_rec).",
    )
    recording_attempts = fields.Integer(readonly=True, copy=False)
    recording_next_try_at = fields.Datetime(string="Next Attempt", readonly=True, copy=False)
    recording_fetched_at = fields.Datetime(string="Recording Stored At", readonly=True, copy=False)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_fetch_recording(self):
        """Fetch a failed (or deleted) recording again, now."""
        self.ensure_one()
        self.check_access("write")
        if not (self.recording_url or self.recording_ref):
            raise UserError(self.env._("The provider gave no recording for this call."))
        self.write(self._get_recording_pending_values())
        self._trigger_recording_cron()
        return True

    # ------------------------------------------------------------------
    # Webhook: a recording reference makes the recording pending
    # ------------------------------------------------------------------

    @api.model
    def _process_webhook_events(self, provider, events):
        calls = super()._process_webhook_events(provider, events)
        if any(call.recording_state == "pending" for call in calls):
            # fetched promptly: some providers' links expire within minutes
            self._trigger_recording_cron()
        return calls

    def _get_event_values(self, event, is_end):
        vals = super()._get_event_values(event, is_end)
        ref = event.get("recording_ref")
        if ref and ref != self.recording_ref:
            vals["recording_ref"] = str(ref)[:255]
        new_url = vals.get("recording_url") and vals["recording_url"] != self.recording_url
        if (new_url or "recording_ref" in vals) and self.recording_state != "done":
            vals.update(self._get_recording_pending_values())
        return vals

    @api.model
    def _get_recording_pending_values(self):
        return {
            "recording_state": "pending",
            "recording_attempts": 0,
            "recording_next_try_at": fields.Datetime.now(),
            "recording_error": False,
        }

    @api.model
    def _trigger_recording_cron(self):
        cron_sudo = self.env.ref(
            "call_tracking.ir_cron_call_tracking_recording_fetch", raise_if_not_found=False
        )
        if cron_sudo:
            cron_sudo.sudo()._trigger()

    # ------------------------------------------------------------------
    # Chatter: the call's note points to the recording in Odoo
    # ------------------------------------------------------------------

    def _get_call_message_recording_url(self):
        """The call's form (its player), once a recording is expected: the
        provider's own link expires or needs the account's credentials."""
        self.ensure_one()
        if self.recording_state in ("pending", "done"):
            return f"/odoo/action-call_tracking.call_tracking_call_action/{self.id}"
        return super()._get_call_message_recording_url()

    # ------------------------------------------------------------------
    # Fetching
    # ------------------------------------------------------------------

    @api.model
    def _cron_fetch_recordings(self, batch_size=FETCH_BATCH):
        """Fetch the due pending recordings, one batch per run; Odoo's cron
        runner runs it again (committing each batch) while due ones remain.
        Return the calls handled.

        The downloads run with no call row locked: a webhook of the same call
        (a late or repeated delivery) never waits on a provider's answer.
        The files become attachments as they arrive; the calls are then
        locked and written at once, skipping those another transaction
        locked or stored meanwhile (an upload: its file wins)."""
        self.flush_model(["recording_state", "recording_next_try_at"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id FROM call_tracking_call
                 WHERE recording_state = 'pending'
                   AND (recording_next_try_at IS NULL OR recording_next_try_at <= %(now)s)
                 ORDER BY recording_next_try_at NULLS FIRST, id
                 LIMIT %(limit)s
                """,
                now=fields.Datetime.now(),
                limit=batch_size + 1,
            )
        )
        calls = self.browse([row[0] for row in rows[:batch_size]])
        started = time.perf_counter()
        outcomes = {call: call._fetch_recording_outcome() for call in calls}
        # now lock the calls still pending (a brief lock: writes only)
        self.flush_model(["recording_state", "recording_attachment_id"])
        self.invalidate_model(["recording_state", "recording_attachment_id"])
        locked = self.env.execute_query(
            SQL(
                """
                SELECT id FROM call_tracking_call
                 WHERE id IN %(ids)s AND recording_state = 'pending'
                   FOR NO KEY UPDATE SKIP LOCKED
                """,
                ids=tuple(calls.ids) or (0,),
            )
        )
        locked_ids = {row[0] for row in locked}
        stored = 0
        for call, (attachment_sudo, reason, retry) in outcomes.items():
            if call.id not in locked_ids:
                attachment_sudo.unlink()  # stored meanwhile, or busy: next run
            elif attachment_sudo:
                call._set_recording_attachment(attachment_sudo)
                stored += 1
            else:
                call._recording_failed(reason, retry)
        self.env["ir.cron"]._notify_progress(done=len(calls), remaining=len(rows) - len(calls))
        if calls:
            _logger.info(
                "call_tracking: %d recordings handled (%d stored) in %.3f s",
                len(calls),
                stored,
                time.perf_counter() - started,
            )
        return calls

    def _fetch_recording_outcome(self):
        """Fetch this call's recording through its provider and store the
        file as an attachment of the call: ``(attachment, None, None)``, or
        ``(empty, reason, retry)`` when it cannot be had (the provider's
        redacted answer; ``retry`` for a transient failure). Writes nothing
        on the call."""
        self.ensure_one()
        no_file = self.env["ir.attachment"]
        try:
            with self.env.cr.savepoint():
                content, content_type = self.provider_id._fetch_recording(self)
                mimetype, extension = self._check_recording_content(content, content_type)
                return self._create_recording_attachment(content, mimetype, extension), None, None
        except WebhookError as exc:  # too large, not audio
            return no_file, exc.reason, False
        except outbound.OutboundError as exc:
            return no_file, exc.message, exc.retry
        # one call's unexpected failure must not stop the batch (logged)
        except Exception as exc:
            _logger.exception("call_tracking: recording of call %s failed", self.id)
            return no_file, self.env._("Unexpected error: %s", exc), True

    def _get_recording_max_bytes(self):
        self.ensure_one()
        return self.provider_id._get_recording_upload_max_bytes()

    def _check_recording_content(self, content, content_type):
        """``(mimetype, extension)`` of an acceptable recording, read from its
        bytes; raise ``WebhookBodyTooLargeError`` or ``RecordingNotAudioError``."""
        self.ensure_one()
        _ = self.env._
        max_bytes = self._get_recording_max_bytes()
        if len(content or b"") > max_bytes:
            raise WebhookBodyTooLargeError(
                _(
                    "The recording is too large: %(size)s bytes, the limit is %(limit)s bytes.",
                    size=len(content),
                    limit=max_bytes,
                )
            )
        if not is_audio_content_type(content_type):
            raise RecordingNotAudioError(
                _("The recording is not audio (Content-Type: %s).", (content_type or "")[:64])
            )
        sniffed = sniff_audio(content)
        if not sniffed:
            raise RecordingNotAudioError(
                _(
                    "The recording is not audio: its bytes are no known audio format "
                    "(WAV, MP3, OGG, FLAC, M4A, AMR, AAC, AIFF)."
                )
            )
        return sniffed

    def _store_recording(self, content, mimetype, extension):
        """Store the audio as an attachment of the call (replacing a
        previous one) and mark the recording done."""
        self.ensure_one()
        attachment_sudo = self._create_recording_attachment(content, mimetype, extension)
        self._set_recording_attachment(attachment_sudo)
        return attachment_sudo

    def _create_recording_attachment(self, content, mimetype, extension):
        """The audio as an attachment of the call, in the filestore."""
        self.ensure_one()
        # sudo: the cron or the signed upload stores the file of a call the
        # caller may not read; the attachment belongs to the call, whose
        # readers alone may read it (ir.attachment.check)
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"call-{self.id}-recording.{extension}",
                    "res_model": self._name,
                    "res_id": self.id,
                    "company_id": self.company_id.id,
                    "mimetype": mimetype,
                    "raw": content,
                    "public": False,
                }
            )
        )

    def _set_recording_attachment(self, attachment_sudo):
        """Make ``attachment_sudo`` the call's recording (the previous file
        is deleted)."""
        self.ensure_one()
        previous_sudo = self.sudo().recording_attachment_id
        self.write(
            {
                "recording_attachment_id": attachment_sudo.id,
                "recording_state": "done",
                "recording_error": False,
                "recording_next_try_at": False,
                "recording_fetched_at": fields.Datetime.now(),
            }
        )
        if previous_sudo != attachment_sudo:
            previous_sudo.unlink()

    def _recording_failed(self, reason, retry):
        """Keep ``reason`` on the call; retry later with back-off while
        attempts remain, else the recording is ``failed``."""
        self.ensure_one()
        attempts = (self.recording_attempts or 0) + 1
        reason = (reason or self.env._("Unknown error"))[:ERROR_CHARS]
        vals = {"recording_attempts": attempts, "recording_error": reason}
        if retry and attempts <= len(RETRY_MINUTES):
            vals["recording_next_try_at"] = fields.Datetime.now() + timedelta(
                minutes=RETRY_MINUTES[attempts - 1]
            )
        else:
            vals.update(recording_state="failed", recording_next_try_at=False)
        _logger.warning(
            "call_tracking: recording of call %s (attempt %s): %s", self.id, attempts, reason
        )
        self.write(vals)

    # ------------------------------------------------------------------
    # Upload (Asterisk AGI, see controllers/call_tracking_recording.py)
    # ------------------------------------------------------------------

    @api.model
    def _receive_recording_upload(self, provider, provider_call_id, content, content_type):
        """Store an uploaded recording on the provider's call ``provider_call_id``.

        The call may not exist yet (the hangup event and the upload race):
        its row is created as the first of its events would create it
        (``_create_or_lock`` on provider and call id), and the events fill it when they
        arrive. Raise ``WebhookBodyTooLargeError`` or
        ``RecordingNotAudioError`` for a bad file.
        Return the call."""
        call = self._create_or_lock(provider, provider_call_id)
        mimetype, extension = call._check_recording_content(content, content_type)
        call._store_recording(content, mimetype, extension)
        return call

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _cron_purge_recordings(self, batch_size=PURGE_BATCH):
        """Delete the audio of the calls older than their company's
        recording retention (calls are kept, ``deleted``); one batch per
        run, re-triggered while some remain. Return the calls purged."""
        self.env["res.company"].flush_model(["call_tracking_recording_retention_days"])
        self.flush_model(["recording_state", "recording_fetched_at"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT c.id FROM call_tracking_call c
                  JOIN res_company co ON co.id = c.company_id
                 WHERE c.recording_state = 'done'
                   AND co.call_tracking_recording_retention_days > 0
                   AND c.recording_fetched_at < (now() AT TIME ZONE 'UTC')
                           - co.call_tracking_recording_retention_days * interval '1 day'
                 ORDER BY c.id
                 LIMIT %(limit)s
                """,
                limit=batch_size,
            )
        )
        calls = self.browse([row[0] for row in rows])
        attachments_sudo = calls.sudo().recording_attachment_id
        calls.write(
            {
                "recording_state": "deleted",
                "recording_attachment_id": False,
                "recording_error": False,
            }
        )
        attachments_sudo.unlink()
        done = len(calls)
        self.env["ir.cron"]._notify_progress(done=done, remaining=int(done == batch_size))
        _logger.info("call_tracking: deleted the audio of %s old recordings", done)
        return calls


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    recording_base_url = fields.Char(
        string="Recording Download URL",
        tracking=True,
        help="Where recording files may be downloaded from, besides the provider's API "
        "(API Base URL). Generic kind: the URL whose host every recording link must be on "
        "(empty: recording links are refused). Twilio and Zadarma: only when their "
        "recording links point to another host than their API (Zadarma's own hosts are "
        "always allowed).",
    )

    @api.constrains("api_base_url", "recording_base_url")
    def _check_outbound_base_urls(self):
        """The provider's URLs the server contacts must be http(s) URLs the
        guard accepts (``tools/outbound.py``); checked without resolving
        the name, which a settings form cannot wait for."""
        for provider in self:
            for fname in ("api_base_url", "recording_base_url"):
                url = provider[fname]
                if not url:
                    continue
                try:
                    outbound._split(url)
                except outbound.ForbiddenDestination as exc:
                    raise ValidationError(
                        self.env._(
                            "%(field)s of %(provider)s: %(reason)s",
                            field=provider._fields[fname]._description_string(self.env),
                            provider=provider.display_name,
                            reason=exc,
                        )
                    ) from None

    @api.model
    def _get_url_hosts(self, url):
        """The host name of ``url`` (lowercase) as a set; empty without one."""
        host = urlsplit(url).hostname if url else None
        return {host.lower()} if host else set()

    def _get_recording_hosts(self):
        """The host names recordings may be downloaded from: the hosts of
        the provider's API (``_get_api_base_url``) and of its Recording
        Download URL (hook: a kind adds its own hosts)."""
        self.ensure_one()
        return self._get_url_hosts(self.recording_base_url) | self._get_url_hosts(
            self._get_api_base_url()
        )

    def _check_recording_url(self, url):
        """Raise ``outbound.OutboundError`` (logged, no retry) unless ``url``
        is an http(s) URL on one of the provider's recording hosts. Internal
        addresses are refused by the guard itself (``tools/outbound.py``)."""
        self.ensure_one()
        parts = urlsplit(url or "")
        host = (parts.hostname or "").lower()
        hosts = self._get_recording_hosts()
        allowed = any(host == allowed or host.endswith(f".{allowed}") for allowed in hosts)
        if parts.scheme not in ("http", "https") or not host or not allowed:
            reason = self.env._(
                "Refused to download a recording from %(host)s: not a host of provider "
                "%(provider)s (its Recording Download URL names where recordings may come from).",
                host=host or "-",
                provider=self.display_name,
            )
            _logger.warning("call_tracking: %s", reason)
            raise outbound.OutboundError(reason, retry=False)

    def _recording_request(self, url, **kwargs):
        """A GET of the recording API through the guard, refused unless on
        the provider's hosts; the provider's secret is redacted from errors."""
        self.ensure_one()
        self._check_recording_url(url)
        kwargs.setdefault("timeout", RECORDING_TIMEOUT)
        kwargs.setdefault("secrets", tuple(s for s in (self.secret,) if s))
        return outbound.request(self.env, "GET", url, **kwargs)

    def _verify_recording_upload(self, request_data):
        """Raise ``WebhookSignatureError`` unless the provider signed the
        uploaded recording: ``X-Call-Tracking-Signature: sha256=<hex
        HMAC-SHA256 of the raw body with the provider secret>``, the generic
        kind's scheme, for every kind (a kind may extend it)."""
        self.ensure_one()
        self._verify_generic_signature(request_data)

    def _get_recording_upload_max_bytes(self):
        """The largest recording the provider's company accepts."""
        self.ensure_one()
        return max(self.company_id.call_tracking_recording_max_mb or 0, 1) * 1024 * 1024

    def _fetch_recording(self, call):
        """The audio of ``call`` as ``(content_bytes, content_type)``.

        Each kind extends it for its own records, guarded by its kind
        (``if self.kind != "twilio": return super()._fetch_recording(call)``)
        and sends its requests through ``tools/outbound.py`` (here:
        :meth:`_recording_request`). The base (the generic kind) downloads
        the call's ``recording_url``.

        Raise ``outbound.OutboundError`` (``retry`` True for a transient
        failure) when the audio cannot be had.
        """
        self.ensure_one()
        if not call.recording_url:
            raise outbound.OutboundError(self.env._("The call has no recording URL."), retry=False)
        max_bytes = call._get_recording_max_bytes()
        response = self._recording_request(call.recording_url, max_bytes=max_bytes)
        return response.content, response.headers.get("Content-Type")
