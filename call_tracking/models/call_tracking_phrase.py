from odoo import api, fields, models

# Languages of the transcripts: ISO 639-1 codes as the engines report them
# (Whisper detects the language per call; PocketSphinx is English)
PHRASE_LANGUAGES = [("en", "English"), ("uk", "Ukrainian"), ("ru", "Russian")]


class CallTrackingPhrase(models.Model):
    """A word or phrase that, said in a call, marks a keyword tag or suggests
    a scorecard criterion."""

    _name = "call.tracking.phrase"
    _description = "Call Transcript Phrase"
    _order = "lang, name, id"

    name = fields.Char(string="Phrase", required=True, help="Matched as whole words, any case.")
    lang = fields.Selection(
        "_get_phrase_languages",
        string="Language",
        help="Language of the transcripts the phrase is looked for in; empty: every language.",
    )
    tag_id = fields.Many2one("call.tracking.tag", index="btree_not_null", ondelete="cascade")
    criterion_id = fields.Many2one(
        "call.tracking.score.criterion", index="btree_not_null", ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", compute="_compute_company_id", store=True, index=True
    )

    _sql_constraints = [
        (
            "owner_check",
            "CHECK(num_nonnulls(tag_id, criterion_id) = 1)",
            "A phrase belongs to one keyword tag or to one scorecard criterion.",
        ),
    ]

    @api.model
    def _get_phrase_languages(self):
        return PHRASE_LANGUAGES

    @api.depends("tag_id.company_id", "criterion_id.company_id")
    def _compute_company_id(self):
        for phrase in self:
            phrase.company_id = (phrase.tag_id or phrase.criterion_id).company_id

    def _matches_lang(self, lang):
        """The phrases of ``self`` looked for in a transcript of ``lang``."""
        return self.filtered(lambda phrase: not phrase.lang or phrase.lang == lang)
