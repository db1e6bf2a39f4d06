from odoo import api, fields, models

from .res_company_transcription import TRANSCRIPTION_ENGINES, WHISPER_MODEL_DIR_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # not a related field: a related one is written when the settings are
    # saved, before the model directory below, and its check would read the
    # old directory; set_values writes it after the directory
    call_tracking_transcription_engine = fields.Selection(
        TRANSCRIPTION_ENGINES,
        string="Transcription Engine",
        compute="_compute_call_tracking_transcription_engine",
        store=True,
        readonly=False,
    )
    call_tracking_whisper_model_dir = fields.Char(
        string="Whisper Model Directory",
        config_parameter=WHISPER_MODEL_DIR_PARAM,
        help="Directory on the server holding a faster-whisper (CTranslate2) model, "
        "downloaded once by the administrator.",
    )

    @api.depends("company_id")
    def _compute_call_tracking_transcription_engine(self):
        for settings in self:
            settings.call_tracking_transcription_engine = (
                settings.company_id.call_tracking_transcription_engine
            )

    def set_values(self):
        result = super().set_values()
        # the company's check reads the directory stored just above
        if self.company_id.call_tracking_transcription_engine != (
            self.call_tracking_transcription_engine
        ):
            self.company_id.call_tracking_transcription_engine = (
                self.call_tracking_transcription_engine
            )
        return result
