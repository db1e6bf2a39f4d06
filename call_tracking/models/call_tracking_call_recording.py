"""Recordings stored in Odoo: the audio of a call as an attachment of the call.

A call that ends with a recording reference (a URL, or a provider's own
recording id) gets ``recording_state`` ``pending``; a cron downloads the
audio through the provider's API (:meth:`call.tracking.provider._fetch_recording`,
extended per kind) and stores it as an ``ir.attachment`` of the call.
"""

from odoo import fields, models

try:
    from ..tools import outbound
except ImportError:  # until the integrator's guard is merged from main
    outbound = None

RECORDING_STATES = [
    ("none", "No Recording"),
    ("pending", "Pending"),
    ("done", "Stored"),
    ("failed", "Failed"),
    ("deleted", "Deleted"),
]


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
        string="Recording Error",
        readonly=True,
        copy=False,
        help="Why the recording could not be fetched (the provider's answer, redacted).",
    )


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    def _fetch_recording(self, call):
        """The audio of ``call`` as ``(content_bytes, content_type)``.

        Each kind extends it for its own records, guarded by its kind
        (``if self.kind != "twilio": return super()._fetch_recording(call)``)
        and sends its requests through ``tools/outbound.py``. The base
        (the generic kind) downloads the call's ``recording_url``.

        Raise ``outbound.OutboundError`` (``retry`` True for a transient
        failure) when the audio cannot be had.
        """
        self.ensure_one()
        if not call.recording_url:
            raise outbound.OutboundError(
                self.env._("The call has no recording URL."), retry=False, status=None
            )
        response = outbound.request(self.env, "GET", call.recording_url, timeout=30)
        return response.content, response.headers.get("Content-Type")
