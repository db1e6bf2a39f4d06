import logging

from psycopg2 import errors as pg_errors

from odoo import api, models
from odoo.tools import SQL

from .call_tracking_session import LEASE_CANDIDATES, NOW

_logger = logging.getLogger(__name__)


class CallTrackingSession(models.Model):
    """Leases: the SQL that leases, extends and releases a pool's numbers
    under row locks (``FOR NO KEY UPDATE SKIP LOCKED``), and the exclusion
    constraint that makes two overlapping leases of a number impossible."""

    _inherit = "call.tracking.session"

    def _init_lease_exclusion(self):
        """Make two overlapping leases of one dynamic number impossible, even
        with a bug in the assignment: an exclusion constraint on
        (number, [assigned_at, expires_at)). Needs the btree_gist extension
        (a trusted extension since PostgreSQL 13: the database owner may
        create it); without it the row locks of the assignment still hold."""
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT 1 FROM pg_constraint WHERE conname = %s",
                "call_tracking_session_lease_exclusion",
            )
        )
        if cr.fetchone():
            return
        try:
            with cr.savepoint(flush=False):
                cr.execute(SQL("CREATE EXTENSION IF NOT EXISTS btree_gist"), log_exceptions=False)
                cr.execute(
                    SQL(
                        """
                    ALTER TABLE call_tracking_session
                      ADD CONSTRAINT call_tracking_session_lease_exclusion
                    EXCLUDE USING gist (
                        number_id WITH =,
                        tsrange(assigned_at, expires_at, '[)') WITH &&
                    ) WHERE (mode = 'dynamic') DEFERRABLE INITIALLY IMMEDIATE
                        """
                    ),
                    log_exceptions=False,
                )
        except (
            pg_errors.InsufficientPrivilege,
            pg_errors.UndefinedFile,
            pg_errors.FeatureNotSupported,
        ) as exc:
            _logger.warning(
                "call_tracking: no exclusion constraint on leases (%s); the "
                "assignment's row locks still prevent double leases.",
                exc,
            )

    @api.model
    def _lease_extension_sql(self, leases, company_id, clock=NOW):
        """The lease-extension rule, the one copy of it: the CTEs ``lease``
        and ``extended`` that extend the live leases of ``leases`` (an SQL
        relation of ``id``, ``number_id``, ``assigned_at`` and
        ``hold_minutes`` of sessions) by their hold time, under the number's
        row lock, never beyond the assignment plus the company's maximum
        lease lifetime. ``extended`` returns ``id``, ``mode``, ``number`` and
        ``expires_in`` of each extended session; a lease lost meanwhile, or
        at its lifetime, is not extended."""
        return SQL(
            """
            lease AS (
                UPDATE call_tracking_number n
                   SET lease_expires_at = LEAST(
                           %(now)s + ext.hold_minutes * interval '1 minute',
                           ext.assigned_at + %(lifetime)s * interval '1 minute')
                  FROM (%(leases)s) ext
                 WHERE n.id = ext.number_id AND n.lease_session_id = ext.id
                   AND n.lease_expires_at > %(now)s
                   AND ext.assigned_at + %(lifetime)s * interval '1 minute' > %(now)s
             RETURNING n.lease_session_id, n.number, n.lease_expires_at
            ), extended AS (
                UPDATE call_tracking_session s
                   SET expires_at = lease.lease_expires_at, last_seen_at = %(now)s,
                       write_date = %(now)s
                  FROM lease
                 WHERE s.id = lease.lease_session_id
             RETURNING s.id, s.mode, lease.number,
                       EXTRACT(EPOCH FROM s.expires_at - %(now)s)::int AS expires_in
            )
            """,
            leases=leases,
            now=clock,
            lifetime=self.env["call.tracking.client"]._get_guard(company_id).lifetime_minutes,
        )

    @api.model
    def _extend_lease(self, prev, hold_minutes, clock=NOW):
        """Extend the visitor's live lease (:meth:`_lease_extension_sql`);
        the answer row, or None if the lease was lost meanwhile or reached
        the maximum lifetime."""
        return self._execute_returning(
            SQL(
                "WITH %s SELECT * FROM extended",
                self._lease_extension_sql(
                    SQL(
                        """
                SELECT s.id, s.number_id, s.assigned_at, %(hold)s AS hold_minutes
                  FROM call_tracking_session s
                 WHERE s.id = %(session)s AND s.number_id = %(number)s
                        """,
                        hold=hold_minutes,
                        session=prev["id"],
                        number=prev["number_id"],
                    ),
                    prev["company_id"],
                    clock,
                ),
            )
        )

    @api.model
    def _release_lease(self, prev, clock=NOW):
        """End the visitor's live lease now: the session expires and the
        number is free again (idle from now)."""
        self.env.cr.execute(
            SQL(
                """
            WITH closed AS (
                UPDATE call_tracking_session
                   SET expires_at = %(now)s, last_seen_at = %(now)s, write_date = %(now)s
                 WHERE id = %(session)s
             RETURNING id
            )
            UPDATE call_tracking_number
               SET lease_session_id = NULL, lease_expires_at = %(now)s,
                   last_released_at = %(now)s
             WHERE id = %(number)s AND lease_session_id IN (SELECT id FROM closed)
                """,
                now=clock,
                session=prev["id"],
                number=prev["number_id"],
            ),
            log_exceptions=False,
        )

    @api.model
    def _lease_number(self, channel, values, preferred_id=None, clock=NOW, guard=None):
        """Lease a free number of the channel's pool to a new session, in one
        statement: pick (``FOR NO KEY UPDATE SKIP LOCKED``, as Odoo takes its
        row locks: concurrent requests never wait for nor take the same
        number, and foreign-key checks of concurrent inserts are not blocked),
        insert the session, point the number at it. Preference:
        ``preferred_id`` (the visitor's previous number) if free, then the
        number idle the longest.

        Under repeatable read, a number leased by a transaction that committed
        after ours began cannot be locked (serialization failure): then the
        free candidates are tried one by one, each in a savepoint.

        With a client (``values`` carry its ``client_hash`` and
        ``client_net_hash``), the same statement enforces the company's caps
        (``guard``) of live leases per address and per network: it upserts
        one row per address and per network in ``call_tracking_client``
        first, so two concurrent leases of one client serialize (the second
        fails with a serialization error and Odoo retries the request, then
        sees the first lease), and counts the client's live leases.

        :return: the answer row with ``refused`` (over a cap: no lease) and
          ``id`` (None when the pool is full)
        """
        try:
            with self.env.cr.savepoint(flush=False):
                return self._execute_returning(
                    self._lease_query(channel, values, clock, preferred_id, guard=guard)
                )
        except pg_errors.SerializationFailure as exc:
            failure = exc
        if values.get("client_hash"):
            # a concurrent lease of the same client: retry the whole request
            # (raises), unless another free number was the conflict
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    self.env["call.tracking.client"]._lock_query(values, clock),
                    log_exceptions=False,
                )
        candidates = self.env.execute_query(
            SQL(
                """
            SELECT id FROM call_tracking_number
             WHERE pool_id = %(pool)s AND active
               AND (lease_expires_at IS NULL OR lease_expires_at <= %(now)s)
          ORDER BY COALESCE(lease_expires_at, last_released_at) ASC NULLS FIRST, id
             LIMIT %(limit)s
                """,
                pool=channel.pool_id,
                now=clock,
                limit=LEASE_CANDIDATES,
            )
        )
        for (candidate_id,) in candidates:
            try:
                with self.env.cr.savepoint(flush=False):
                    row = self._execute_returning(
                        self._lease_query(channel, values, clock, only_id=candidate_id, guard=guard)
                    )
            except pg_errors.SerializationFailure as exc:
                failure = exc
                continue
            if row["refused"] or row["id"]:
                return row
        # every free number changed under us: let Odoo retry the request
        # with a fresh snapshot
        raise failure

    @api.model
    def _lease_query(self, channel, values, clock, preferred_id=None, only_id=None, guard=None):
        columns, params = self._session_columns_sql(values)
        if values.get("client_hash") and guard:
            client = SQL(
                """
        client AS (%(lock)s),
        held AS (
            SELECT count(*) FILTER (WHERE client_hash = %(address)s) AS by_address,
                   count(*) AS by_network
              FROM call_tracking_session
             WHERE client_net_hash = %(network)s AND company_id = %(company)s
               AND mode = 'dynamic' AND expires_at > %(now)s
        ),
        site AS (
            SELECT count(*) AS by_site
              FROM call_tracking_session
             WHERE client_site_hash = %(site)s AND company_id = %(company)s
               AND mode = 'dynamic' AND expires_at > %(now)s
        ),
        allowed AS (
            SELECT (%(cap_address)s = 0 OR by_address < %(cap_address)s)
               AND (%(cap_network)s = 0 OR by_network < %(cap_network)s)
               AND (%(cap_site)s = 0 OR by_site < %(cap_site)s) AS ok
              FROM held, site, (SELECT count(*) FROM client) AS locked
        ),""",
                lock=self.env["call.tracking.client"]._lock_query(values, clock),
                address=values["client_hash"],
                network=values["client_net_hash"],
                # an IPv4 client has no site: NULL matches no row
                site=values.get("client_site_hash"),
                company=values["company_id"],
                now=clock,
                cap_address=guard.cap_address,
                cap_network=guard.cap_network,
                cap_site=guard.cap_site,
            )
        else:
            client = SQL("allowed AS (SELECT TRUE AS ok),")
        lifetime = guard.lifetime_minutes if guard else channel.hold_minutes
        return SQL(
            """
        WITH %(client)s %(pick)s, session AS (
            INSERT INTO call_tracking_session (%(columns)s, mode, number_id, pool_id,
                assigned_at, last_seen_at, expires_at,
                create_uid, create_date, write_uid, write_date)
            SELECT %(params)s, 'dynamic', pick.id, %(pool)s,
                   %(now)s, %(now)s,
                   %(now)s + LEAST(%(hold)s, %(lifetime)s) * interval '1 minute',
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM pick
         RETURNING id, number_id, expires_at
        ), leased AS (
            UPDATE call_tracking_number n
               SET lease_session_id = session.id, lease_expires_at = session.expires_at,
                   last_released_at = COALESCE(n.lease_expires_at, n.last_released_at)
              FROM session
             WHERE n.id = session.number_id
         RETURNING session.id, n.number,
                   EXTRACT(EPOCH FROM session.expires_at - %(now)s)::int AS expires_in
        )
        SELECT NOT allowed.ok AS refused, leased.id, 'dynamic' AS mode, leased.number,
               leased.expires_in
          FROM allowed LEFT JOIN leased ON TRUE
            """,
            client=client,
            lifetime=lifetime,
            pool=channel.pool_id,
            pick=self._pick_query(channel.pool_id, clock, preferred_id, only_id),
            now=clock,
            columns=columns,
            params=params,
            hold=channel.hold_minutes,
            uid=self.env.uid,
        )

    @api.model
    def _pick_query(self, pool_id, clock, preferred_id=None, only_id=None):
        """The ``pick`` CTE of the lease statement: the free number to lease,
        locked (``FOR NO KEY UPDATE SKIP LOCKED``): ``only_id`` if free; else
        ``preferred_id`` if free, else the number idle the longest. The
        latter walks ``call_tracking_number_idle_idx`` in its order (free
        numbers sort first) and stops at the first free number it can lock,
        whatever the size of the pool; it is not run when the preferred
        number was taken."""
        free = SQL(
            """
            SELECT id FROM call_tracking_number
             WHERE pool_id = %(pool)s AND active AND (SELECT ok FROM allowed)
               AND (lease_expires_at IS NULL OR lease_expires_at <= %(now)s)""",
            pool=pool_id,
            now=clock,
        )
        if only_id or preferred_id:
            one = SQL("%s AND id = %s FOR NO KEY UPDATE SKIP LOCKED", free, only_id or preferred_id)
            if only_id:
                return SQL("pick AS (%s)", one)
        idle = SQL(
            """%s
          ORDER BY COALESCE(lease_expires_at, last_released_at) ASC NULLS FIRST, id
             LIMIT 1
               FOR NO KEY UPDATE SKIP LOCKED""",
            free,
        )
        if not preferred_id:
            return SQL("pick AS (%s)", idle)
        return SQL(
            """preferred AS (%s), idle AS (%s), pick AS (
            SELECT id FROM preferred UNION ALL SELECT id FROM idle LIMIT 1
        )""",
            one,
            idle,
        )
