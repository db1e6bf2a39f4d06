from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..const import VISIT_WINDOW_MINUTES
from ..tools.clients import client_hashes, client_site_hash


class CallTrackingSession(models.Model):
    """Caps on every anonymous write of the number endpoint (issue 25).

    A client is its address, its network (/24 for IPv4, /64 for IPv6) and,
    for IPv6, its site (/48: one customer's allocation, 65,536 networks), each
    as a keyed hash. Live leases are capped per address, network and site in
    the lease statement, under the client's row locks
    (``call_tracking_session_lease.py``). A session without a lease (a static
    or default answer, or a full pool's fallback) is one more row too: its
    insert is capped per address, network and site by the number of new
    visits in the visit window (:data:`VISITS_PER_LEASE_CAP` times the lease
    caps), in the same statement. Over a cap, the visitor gets the same
    number without a session."""

    _inherit = "call.tracking.session"

    # keyed hash of an IPv6 client's /48 (empty for IPv4), for the caps per site
    client_site_hash = fields.Char(readonly=True, groups="base.group_system")

    def init(self):
        res = super().init()
        cr = self.env.cr
        # the live leases of an IPv6 site: the site cap of the assignment
        create_index(
            cr,
            "call_tracking_session_client_site_idx",
            self._table,
            ["client_site_hash", "company_id", "expires_at"],
            where="mode = 'dynamic' AND client_site_hash IS NOT NULL",
        )
        # the new visits without a lease of a client network and site
        create_index(
            cr,
            "call_tracking_session_visit_net_idx",
            self._table,
            ["client_net_hash", "company_id", "assigned_at"],
            where="mode != 'dynamic' AND client_net_hash IS NOT NULL",
        )
        create_index(
            cr,
            "call_tracking_session_visit_site_idx",
            self._table,
            ["client_site_hash", "company_id", "assigned_at"],
            where="mode != 'dynamic' AND client_site_hash IS NOT NULL",
        )
        return res

    @api.model
    def _note_client(self, company_id, values, remote_addr):
        """Put the client's keyed hashes (address, network, IPv6 site) into
        the new session's ``values``; False when the address cannot be read
        (such a client cannot be told apart: no lease, no session). Not a
        web request (``remote_addr`` None): nothing to note, no cap."""
        # cached per company: every new session reads the guard, as the
        # lease statements do
        guard = self.env["call.tracking.client"]._get_guard(company_id)
        if remote_addr is None:
            return True
        hashes = client_hashes(guard.secret, remote_addr)
        if hashes is None:
            return False
        values["client_hash"], values["client_net_hash"] = hashes
        values["client_site_hash"] = client_site_hash(guard.secret, remote_addr)
        return True

    @api.model
    def _visit_cap_sql(self, values, clock):
        """The condition of a new session without a lease: its client has
        started fewer new visits in the visit window than its caps, per
        address, network and IPv6 site. Each count stops at its cap (a
        ``LIMIT`` over a partial index), so a busy client costs no more than
        a quiet one. TRUE without a client (not a web request)."""
        if not values.get("client_net_hash"):
            return SQL("TRUE")
        guard = self.env["call.tracking.client"]._get_guard(values["company_id"])
        cap_address, cap_network, cap_site = guard.visit_caps()
        since = SQL("%s - %s * interval '1 minute'", clock, VISIT_WINDOW_MINUTES)
        checks = []
        for column, key, extra, cap in (
            ("client_net_hash", values["client_net_hash"], values["client_hash"], cap_address),
            ("client_net_hash", values["client_net_hash"], None, cap_network),
            ("client_site_hash", values.get("client_site_hash"), None, cap_site),
        ):
            if not cap or not key:
                continue
            address = SQL(" AND client_hash = %s", extra) if extra else SQL()
            checks.append(
                SQL(
                    """(SELECT count(*) FROM (
                    SELECT 1 FROM call_tracking_session
                     WHERE %(column)s = %(key)s AND company_id = %(company)s
                       AND mode != 'dynamic' AND assigned_at > %(since)s%(address)s
                     LIMIT %(cap)s) AS recent) < %(cap)s""",
                    column=SQL.identifier(column),
                    key=key,
                    company=values["company_id"],
                    since=since,
                    address=address,
                    cap=cap,
                )
            )
        return SQL(" AND ").join(checks) if checks else SQL("TRUE")
