from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import transcription

TRANSCRIPTION_ENGINES = [
    ("faster_whisper", "Whisper (faster-whisper, on this server)"),
    ("pocketsphinx", "PocketSphinx (English, on this server)"),
]
WHISPER_MODEL_DIR_PARAM = "call_tracking.whisper_model_dir"
TRANSCRIPTION_THREADS_PARAM = "call_tracking.transcription_threads"


class ResCompany(models.Model):
    _inherit = "res.company"

    call_tracking_transcription_engine = fields.Selection(
        TRANSCRIPTION_ENGINES,
        string="Transcription Engine",
        help="Engine that transcribes the stored recordings of the company's calls, in the "
        "background. Empty: no transcription (the default).",
    )

    @api.constrains("call_tracking_transcription_engine")
    def _check_call_tracking_transcription_engine(self):
        for company in self.filtered("call_tracking_transcription_engine"):
            try:
                company._get_transcription_engine().check()
            except transcription.EngineUnavailable as error:
                raise ValidationError(
                    self.env._("Transcription cannot be enabled: %(reason)s", reason=str(error))
                ) from error

    def _get_transcription_engine(self):
        """The company's :class:`~..tools.transcription.Engine` (not checked)."""
        self.ensure_one()
        params_sudo = self.env["ir.config_parameter"].sudo()
        return transcription.get_engine(
            self.call_tracking_transcription_engine,
            model_dir=params_sudo.get_param(WHISPER_MODEL_DIR_PARAM),
            threads=int(params_sudo.get_param(TRANSCRIPTION_THREADS_PARAM, 1) or 1),
        )
