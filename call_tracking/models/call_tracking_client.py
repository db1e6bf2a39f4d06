import hashlib
import hmac
from typing import NamedTuple

from odoo import api, fields, models, tools
from odoo.tools import SQL

# New visits without a lease (static and default answers: a session row
# each) a client may start per visit window, as a multiple of its caps of
# live leases (issue 25: every anonymous write is capped)
VISITS_PER_LEASE_CAP = 30


class ClientGuard(NamedTuple):
    """A company's limits on what one client may hold (cached per company)."""

    secret: bytes
    cap_address: int
    cap_network: int
    lifetime_minutes: int
    # live leases per IPv6 site (/48); 0: no limit
    cap_site: int = 0

    def visit_caps(self):
        """(address, network, site) caps of new visits without a lease per
        visit window; 0: no limit."""
        return tuple(
            cap * VISITS_PER_LEASE_CAP
            for cap in (self.cap_address, self.cap_network, self.cap_site)
        )


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

    @api.model
    @tools.ormcache("company_id")
    def _get_guard(self, company_id):
        """The company's caps of live leases per client address and network,
        its maximum lease lifetime, and the key of the client hashes (derived
        from the database secret, which only system administrators read).
        Cached per worker; cleared when the company's settings change."""
        company_sudo = self.env["res.company"].sudo().browse(company_id)
        database_secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        secret = hmac.new(
            (database_secret or self.env.cr.dbname).encode(),
            b"call_tracking.client_hash",
            hashlib.sha256,
        ).digest()
        return ClientGuard(
            secret=secret,
            cap_address=max(company_sudo.call_tracking_lease_cap_address, 0),
            cap_network=max(company_sudo.call_tracking_lease_cap_network, 0),
            lifetime_minutes=max(int(company_sudo.call_tracking_lease_lifetime_hours * 60), 1),
            cap_site=max(company_sudo.call_tracking_lease_cap_site, 0),
        )

    @api.model
    def _lock_query(self, values, clock):
        """Upsert the rows of the client's address, network and (IPv6) site:
        the row locks that serialize the leases of one client."""
        keys = [values["client_hash"], values["client_net_hash"]]
        if values.get("client_site_hash"):
            keys.append(values["client_site_hash"])
        return SQL(
            """
            INSERT INTO call_tracking_client (company_id, key_hash, last_lease_at)
            VALUES %(rows)s
            ON CONFLICT (company_id, key_hash)
            DO UPDATE SET last_lease_at = EXCLUDED.last_lease_at
            RETURNING 1
            """,
            rows=SQL(", ").join(
                SQL("(%s, %s, %s)", values["company_id"], key, clock) for key in keys
            ),
        )
