from odoo import api, models
from odoo.osv import expression


class CallTrackingSpamMixin(models.AbstractModel):
    """Spam calls left out of searches by default, as archived records are.

    A model whose ``_spam_hidden`` is True (the reports) never shows spam
    calls unless the domain names ``is_spam`` (the Spam filter); other
    models (the calls) hide them only when the context asks
    (``call_tracking_hide_spam``, set by the Calls menu), so that code
    reading calls (a lead's calls, a caller's history) sees them all.
    """

    _name = "call.tracking.spam.mixin"
    _description = "Call Tracking: Spam Left Out"
    _spam_hidden = True

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        if self._hide_spam(domain):
            domain = expression.AND([domain or [], [("is_spam", "=", False)]])
        return super()._search(domain, offset=offset, limit=limit, order=order)

    @api.model
    def _hide_spam(self, domain):
        if not (self._spam_hidden or self.env.context.get("call_tracking_hide_spam")):
            return False
        # records asked for by id (a form, a read of known rows) are shown
        return not any(
            isinstance(leaf, (list, tuple)) and leaf and leaf[0] in ("is_spam", "id")
            for leaf in domain or ()
        )
