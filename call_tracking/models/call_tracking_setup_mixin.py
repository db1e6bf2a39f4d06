from odoo import api, models


class CallTrackingSetupMixin(models.AbstractModel):
    """Configuration the number endpoint reads through cached look-ups (the
    channels' ``_get_tracking_setup``, the websites' allowed origins):
    creating or deleting a record, or changing one of
    ``_tracking_setup_fields``, clears the caches in every worker (Odoo's
    registry signalling)."""

    _name = "call.tracking.setup.mixin"
    _description = "Call Tracking Cached Setup"

    # the fields the cached setup reads; None: all of them
    _tracking_setup_fields = None

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        res = super().write(vals)
        if self._tracking_setup_fields is None or not self._tracking_setup_fields.isdisjoint(vals):
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res
