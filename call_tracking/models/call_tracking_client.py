from odoo import fields, models


class CallTrackingClient(models.Model):
    """One row per client address and per client network (keyed hashes, see
    ``call.tracking.session``) that leased a number: the row the lease
    statement upserts, so that two concurrent leases of one client serialize
    and the caps of live leases per client hold across workers and servers.
    Technical: nothing but the number assignment reads it, and the address
    itself is never stored."""

    _name = "call.tracking.client"
    _description = "Call Tracking Client Lock"
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    key_hash = fields.Char(required=True, readonly=True)
    last_lease_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("company_key_uniq", "unique(company_id, key_hash)", "One row per client and company."),
    ]
