"""Transcripts and keyword tags of the calls' stored recordings.

A cron (never a request) takes the calls whose recording is stored and
not yet transcribed, in batches, for the companies that chose an engine;
each transcript is stored with its segments, then the company's keyword
tags and the suggestions of open scorecards are applied to it. A call
that cannot be transcribed gets ``transcript_state`` ``failed`` and the
reason; nothing else of the call or its lead changes.
"""

import logging
import time

from markupsafe import Markup

from odoo import api, fields, models

from ..tools import transcription

_logger = logging.getLogger(__name__)

TRANSCRIPT_STATES = [("done", "Transcribed"), ("failed", "Failed")]
TRANSCRIPTION_BATCH = 10
# seconds of one cron run, well under Odoo's limit_time_real_cron
TRANSCRIPTION_BUDGET = 120


class CallTrackingCall(models.Model):
    _inherit = "call.tracking.call"

    # the webhook's upsert inserts calls in SQL: no defaults, an empty
    # state reads as "not transcribed yet"
    transcript_state = fields.Selection(
        TRANSCRIPT_STATES, index="btree_not_null", readonly=True, copy=False
    )
    transcript = fields.Text(
        readonly=True, copy=False, index="trigram", help="What was said in the call."
    )
    transcript_segments = fields.Json(
        readonly=True,
        copy=False,
        help="The transcript's parts: a list of {start, end, text}, times in seconds.",
    )
    transcript_html = fields.Html(
        string="Transcript Parts", compute="_compute_transcript_html", sanitize=True
    )
    transcript_lang = fields.Char(
        string="Spoken Language", readonly=True, copy=False, help="ISO 639-1 code."
    )
    transcript_engine = fields.Char(readonly=True, copy=False)
    transcript_error = fields.Char(readonly=True, copy=False)
    transcribed_at = fields.Datetime(readonly=True, copy=False)
    tag_ids = fields.Many2many(
        "call.tracking.tag",
        "call_tracking_call_tag_rel",
        "call_id",
        "tag_id",
        string="Keyword Tags",
        readonly=True,
        copy=False,
    )

    @api.depends("transcript_segments")
    def _compute_transcript_html(self):
        for call in self:
            parts = [
                self.env._(
                    "%(start)s–%(end)s s: %(text)s",
                    start=segment.get("start"),
                    end=segment.get("end"),
                    text=segment.get("text"),
                )
                for segment in call.transcript_segments or []
            ]
            call.transcript_html = (
                Markup("").join(Markup("<p>%s</p>") % part for part in parts) if parts else False
            )

    def action_transcribe_again(self):
        """Queue the calls for the transcription cron again (the cron transcribes them)."""
        self.check_access("write")
        self.filtered("recording_attachment_id").write(
            {"transcript_state": False, "transcript_error": False}
        )
        self.env.ref("call_tracking.ir_cron_call_tracking_transcribe")._trigger()
        return True

    @api.model
    def _get_transcription_domain(self, companies):
        return [
            ("company_id", "in", companies.ids),
            ("recording_attachment_id", "!=", False),
            ("transcript_state", "=", False),
        ]

    @api.model
    def _cron_transcribe(self, batch_size=TRANSCRIPTION_BATCH, time_budget=TRANSCRIPTION_BUDGET):
        """Transcribe one batch of stored recordings, for at most about ``time_budget``
        seconds (long calls take long); the cron runs again while some remain."""
        companies = self.env["res.company"].search(
            [("call_tracking_transcription_engine", "!=", False)]
        )
        if not companies:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return
        domain = self._get_transcription_domain(companies)
        calls = self.search(domain, order="id", limit=batch_size)
        done = calls._transcribe(deadline=time.monotonic() + time_budget)
        remaining = self.search_count(domain)
        _logger.info(
            "Transcription: %d calls done (%d failed), %d remaining",
            len(done),
            len(done.filtered(lambda call: call.transcript_state == "failed")),
            remaining,
        )
        self.env["ir.cron"]._notify_progress(done=len(done), remaining=remaining)

    def _transcribe(self, deadline=None):
        """Transcribe the recordings of ``self`` with their company's engine, then tag
        them; past ``deadline`` (a ``time.monotonic()`` value) the calls left wait for
        the next run. Return the calls transcribed or failed."""
        processed = self.browse()
        for company, calls in self.grouped("company_id").items():
            engine = company._get_transcription_engine()
            try:
                engine.check()
            except transcription.EngineUnavailable as error:
                calls.write({"transcript_state": "failed", "transcript_error": str(error)})
                processed |= calls
                continue
            for call in calls:
                if deadline is not None and processed and time.monotonic() > deadline:
                    break
                # one write per call: each has its own text (the engine's
                # seconds per call dwarf it)
                call.write(call._get_transcript_values(engine))
                processed |= call
        done = processed.filtered(lambda call: call.transcript_state == "done")
        done._apply_keyword_tags()
        done.scorecard_ids._refresh_suggestions()
        return processed

    def _get_transcript_values(self, engine):
        """The values of ``self``'s transcript by ``engine``, or of its failure."""
        self.ensure_one()
        attachment_sudo = self.recording_attachment_id.sudo()
        started = time.process_time()
        try:
            pcm = transcription.decode_audio(attachment_sudo.raw or b"")
            result = engine.transcribe(pcm)
        except (transcription.TranscriptionError, RuntimeError, ValueError, OSError) as error:
            # the engine's own errors too (CTranslate2 raises RuntimeError):
            # the call fails, the rest of the batch goes on
            _logger.info("Transcription of call %s failed: %s", self.id, error)
            return {
                "transcript_state": "failed",
                "transcript_error": str(error),
                "transcript_engine": engine.code,
            }
        _logger.debug(
            "Call %s: %.1f s of audio transcribed in %.1f s of CPU",
            self.id,
            result.duration,
            time.process_time() - started,
        )
        return {
            "transcript_state": "done",
            "transcript": result.text,
            "transcript_segments": [segment._asdict() for segment in result.segments],
            "transcript_lang": result.lang,
            "transcript_engine": engine.code,
            "transcript_error": False,
            "transcribed_at": fields.Datetime.now(),
        }

    def _apply_keyword_tags(self):
        """Set on each call of ``self`` the company tags whose phrases its transcript says."""
        tags = self.env["call.tracking.tag"].search([("company_id", "in", self.company_id.ids)])
        tags.phrase_ids.fetch(["name", "lang", "tag_id"])
        for call in self:
            found = tags.filtered(
                lambda tag, call=call: (
                    tag.company_id == call.company_id
                    and transcription.find_phrases(
                        call.transcript,
                        tag.phrase_ids._matches_lang(call.transcript_lang).mapped("name"),
                    )
                )
            )
            if found != call.tag_ids:
                call.tag_ids = [fields.Command.set(found.ids)]
