import functools
import hashlib
import hmac
import logging
import random
import secrets
import threading
from typing import NamedTuple

from psycopg2 import errors as pg_errors

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.clients import (
    client_hashes,
    is_automated,
    parse_device,
    scrub_url,
)
from ..tools.recognition import TOUCH_FIELDS, PreviousTouch, choose_channel, parse_touch

_logger = logging.getLogger(__name__)

# The website remembers a static or default visitor (their channel and the
# number shown) for this long after their last page view.
VISIT_WINDOW_MINUTES = 30
# How many free numbers to try one by one when the first choice was leased by
# a concurrent transaction (see _lease_number).
LEASE_CANDIDATES = 20
PURGE_BATCH = 5000
# the ad platforms' cookies the website script may send (all optional)
VISIT_ID_FIELDS = ("ga_session_id", "ym_uid", "fbp", "fbc")
# Whole seconds, as Odoo stores datetimes and providers report call times: a
# lease assigned at 10:15:00.7 must not start after a call reported at 10:15:00.
NOW = SQL("date_trunc('second', now() AT TIME ZONE 'UTC')")
# Why a page view of a dynamic channel got no lease (besides a full pool):
# "crawler" (an automated client) or "over_cap" (a client over its cap of
# live leases, or whose address cannot be read); see call.tracking.refusal.
DEVICE_CLASS_SELECTION = [
    ("desktop", "Desktop"),
    ("mobile", "Mobile"),
    ("tablet", "Tablet"),
    ("other", "Other"),
]
_shard = threading.local()


def refusal_shard():
    """This thread's row of the refusal counters: a random number drawn once
    per thread. A worker thread serves one request at a time, so two
    concurrent transactions never update the same counter row (under
    repeatable read they would fail with a serialization error)."""
    if not hasattr(_shard, "value"):
        _shard.value = random.SystemRandom().getrandbits(30)
    return _shard.value


@functools.lru_cache(maxsize=16)
def column_list(columns):
    """``"a", "b", ...`` of a tuple of column names (composed once)."""
    return SQL(", ").join(SQL.identifier(c) for c in columns)


def now_sql(now=None):
    """The clock of the lease statements: ``now`` (a naive UTC datetime, cut
    to whole seconds) when given, else the database's ``now()``."""
    if now is None:
        return NOW
    return SQL("%s::timestamp", now.replace(microsecond=0))


class ClientGuard(NamedTuple):
    """A company's limits on what one client may hold (cached per company)."""

    secret: bytes
    cap_address: int
    cap_network: int
    lifetime_minutes: int


def setup_landing_params(setup):
    """The landing parameters the company's recognition rules name: a stored
    URL keeps them besides the marketing ones."""
    return frozenset(rule.param for c in setup.channels for rule in c.rules if rule.param)


class CallTrackingSession(models.Model):
    """One visitor's stay on a channel: the lease of a dynamic number (or the
    static number shown), with the visit's marketing context.

    A session is one contiguous lease: [assigned_at, expires_at) is exact and
    never overlaps another dynamic session of the same number (enforced by an
    exclusion constraint when PostgreSQL's btree_gist is available, and by
    the row locks of the assignment in any case). Expired sessions are kept
    for attribution history until the retention purge.
    """

    _name = "call.tracking.session"
    _description = "Call Tracking Session"
    _order = "assigned_at desc, id desc"
    _rec_names_search = ["visitor_key", "channel_id.name"]

    # An opaque bearer key: whoever holds it is that visitor for the number
    # endpoint. Searched through call_tracking_session_visitor_idx (see init).
    visitor_key = fields.Char(required=True, readonly=True, copy=False)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    website_id = fields.Many2one("website", index="btree_not_null", readonly=True)
    visitor_id = fields.Many2one(
        "website.visitor",
        string="Website Visitor",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )
    channel_id = fields.Many2one(
        "call.tracking.channel",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
    )
    mode = fields.Selection(
        [("dynamic", "Dynamic"), ("static", "Static"), ("default", "Default")],
        required=True,
        readonly=True,
    )
    # indexed by call_tracking_session_number_assigned_idx (see init)
    number_id = fields.Many2one(
        "call.tracking.number",
        readonly=True,
        ondelete="set null",
    )
    pool_id = fields.Many2one(
        "call.tracking.pool",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
    )
    assigned_at = fields.Datetime(required=True, readonly=True, index=True)
    last_seen_at = fields.Datetime(readonly=True)
    expires_at = fields.Datetime(readonly=True, index=True)
    # marketing context of the visit
    utm_source = fields.Char(readonly=True)
    utm_medium = fields.Char(readonly=True)
    utm_campaign = fields.Char(readonly=True)
    utm_term = fields.Char(string="Keyword (utm_term)", readonly=True)
    utm_content = fields.Char(readonly=True)
    gclid = fields.Char(readonly=True)
    fbclid = fields.Char(readonly=True)
    yclid = fields.Char(readonly=True)
    ga_client_id = fields.Char(string="GA Client ID", readonly=True)
    # Google's app and web click ids (iOS), and the ad platforms' cookies
    # read by the website script: what conversions are matched on
    gbraid = fields.Char(readonly=True)
    wbraid = fields.Char(readonly=True)
    ga_session_id = fields.Char(string="GA Session ID", readonly=True)
    ym_uid = fields.Char(string="Metrica ClientId", readonly=True)
    fbp = fields.Char(string="Meta Browser ID (_fbp)", readonly=True)
    fbc = fields.Char(string="Meta Click ID (_fbc)", readonly=True)
    referrer = fields.Char(readonly=True)
    landing_url = fields.Char(string="Landing Page", readonly=True)
    device_class = fields.Selection(
        DEVICE_CLASS_SELECTION,
        readonly=True,
        help="Parsed from the browser's user agent.",
    )
    os_name = fields.Char(string="Operating System", readonly=True)
    browser = fields.Char(readonly=True)
    # keyed hashes (HMAC with a per-database key) of the client address and of
    # its /24 (IPv4) or /64 (IPv6) network, for the caps of live leases per
    # client; the address itself is never stored
    client_hash = fields.Char(readonly=True, groups="base.group_system")
    client_net_hash = fields.Char(readonly=True, groups="base.group_system")
    is_live = fields.Boolean(
        string="Live",
        compute="_compute_is_live",
        search="_search_is_live",
        help="The session has not expired yet.",
    )

    def init(self):
        res = super().init()
        cr = self.env.cr
        # the last session of a number at a given time: call attribution
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS call_tracking_session_number_assigned_idx "
                "ON call_tracking_session (number_id, assigned_at DESC) "
                "WHERE number_id IS NOT NULL"
            )
        )
        # the latest session of a visitor key
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS call_tracking_session_visitor_idx "
                "ON call_tracking_session (visitor_key, company_id, assigned_at DESC)"
            )
        )
        # the live leases of a client network: the caps of the assignment
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS call_tracking_session_client_net_idx "
                "ON call_tracking_session (client_net_hash, company_id, expires_at) "
                "WHERE mode = 'dynamic' AND client_net_hash IS NOT NULL"
            )
        )
        self._init_lease_exclusion()
        return res

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

    @api.depends("expires_at")
    def _compute_is_live(self):
        now = fields.Datetime.now()
        for session in self:
            session.is_live = bool(session.expires_at and session.expires_at > now)

    @api.depends("channel_id", "mode", "assigned_at")
    def _compute_display_name(self):
        """Never the visitor key: it is a bearer key, and many2one display
        names are read in sudo."""
        modes = dict(self._fields["mode"]._description_selection(self.env))
        for session in self:
            what = session.channel_id.name or modes.get(session.mode) or ""
            when = fields.Datetime.to_string(session.assigned_at) if session.assigned_at else ""
            session.display_name = self.env._(
                "Session %(id)s: %(what)s, %(when)s",
                id=session._origin.id or "",
                what=what,
                when=when,
            )

    def _search_is_live(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(
                self.env._("Live sessions can only be searched with = or != and True or False.")
            )
        now = fields.Datetime.now()
        if (operator == "=") == value:
            return [("expires_at", ">", now)]
        return ["|", ("expires_at", "=", False), ("expires_at", "<=", now)]

    # ------------------------------------------------------------------
    # Number assignment (hot path: plain SQL, a handful of queries)
    # ------------------------------------------------------------------

    @api.model
    def _new_visitor_key(self):
        """An opaque, unguessable key, never derived from ids."""
        return secrets.token_urlsafe(24)

    @api.model
    def _assign_number(
        self,
        company,
        website=None,
        visitor_key=None,
        url=None,
        referrer=None,
        ga_client_id=None,
        user_agent=None,
        visitor=None,
        lang=None,
        now=None,
        remote_addr=None,
        visit_ids=None,
    ):
        """The number to show to a page view, as the answer of
        ``POST /call_tracking/number`` (all seven keys).

        Channel rules pick the channel of a new non-direct arrival; a
        continuation (internal navigation, direct return, ping) keeps the
        visitor's channel (``tools/recognition.py``). Static channel: its
        number. Dynamic: the visitor's live lease, extended; else their
        previous number if it is free; else the free number idle the longest;
        else the fallback number. Everything runs in PostgreSQL under row
        locks, so it is correct with several workers and servers.

        :param company: ``res.company`` whose channels apply
        :param website: ``website`` of the page, if known
        :param str visitor_key: key from an earlier answer (unknown keys are
          replaced by a fresh one)
        :param visitor: ``website.visitor`` of the request, if any
        :param str user_agent: the request's user agent. A crawler, ad bot,
          headless browser, HTTP library or an empty string gets no lease and
          no session (its channel's static number, else the default number),
          counted as refused. None: not a web request (replay, simulation
          without user agents), not checked.
        :param str remote_addr: the client address as Odoo sees it (after
          ``proxy_mode``). A new lease is refused over the company's caps of
          live leases per address and per network, or when the address
          cannot be read; counted as refused. None: not a web request, no
          cap.
        :param datetime now: the clock (naive UTC); default: the database's
          ``now()``. Every lease comparison, the idle-longest order and
          ``expires_in`` use it, so recorded or simulated traffic can be
          replayed through this very code (``call.tracking.replay``).
        :param dict visit_ids: the ad platforms' cookies of the page view
          (keys of ``VISIT_ID_FIELDS``), kept on the session for conversions
        :return: dict with number, display, href, mode, visitor, expires_in,
          channel

        Called by the public controller as the public user, without sudo:
        the hot path only runs its own parameterised SQL and reads no record
        through the ORM; the cached setup reads the company in a narrow sudo.
        """
        self.flush_model()
        self.env["call.tracking.number"].flush_model()
        clock = now_sql(now)
        setup = self.env["call.tracking.channel"]._get_tracking_setup(company.id, lang or "en_US")
        touch = parse_touch(url, referrer)
        if user_agent is not None and is_automated(user_agent):
            return self._answer_refused(company, setup, touch, visitor_key, "crawler", clock)
        prev = None
        if visitor_key:
            # a continuation (no new touch) keeps the visitor's channel: the
            # same statement extends their live lease when it still fits
            prev = self._fetch_visitor_state(
                company, visitor_key, clock, extend=None if touch.is_arrival else setup
            )
        key = visitor_key if prev else self._new_visitor_key()
        previous = None
        if prev:
            facts = tuple(prev[f] for f in TOUCH_FIELDS)
            previous = PreviousTouch(prev["channel_id"], facts, prev["referrer"])
        channel, same_touch, new_touch = choose_channel(setup, touch, previous)

        visit_ids = {f: v for f, v in (visit_ids or {}).items() if f in VISIT_ID_FIELDS and v}
        if same_touch:
            answer = self._continue_session(prev, channel, clock)
            if answer:
                self._note_visit_ids(answer["id"], prev, visit_ids)
                return self._answer(answer, channel, setup, key)

        # a new session: a new touch, a lapsed lease, or a changed setup. A
        # continuation keeps the facts of the last non-direct touch, so that a
        # call is credited to it.
        guard = self._get_client_guard(company.id)
        keep = setup_landing_params(setup)
        if new_touch:
            facts = touch.facts()
            facts["referrer"] = scrub_url(referrer, keep)
        else:
            facts = {f: prev[f] for f in TOUCH_FIELDS}
            facts["referrer"] = prev["referrer"]
        device_class, os_name, browser = (
            parse_device(user_agent) if user_agent else (False, False, False)
        )
        values = dict(
            facts,
            visitor_key=key,
            company_id=company.id,
            website_id=website.id if website else None,
            visitor_id=visitor.id if visitor else (prev and prev["visitor_id"]) or None,
            channel_id=channel.id if channel else None,
            ga_client_id=ga_client_id or (prev and prev["ga_client_id"]) or None,
            landing_url=scrub_url(url, keep) or None,
            device_class=device_class or None,
            os_name=os_name or None,
            browser=browser or None,
            **{f: visit_ids.get(f) or (prev and prev[f]) or None for f in VISIT_ID_FIELDS},
        )
        if prev and prev["live"]:
            # the visitor leaves their live lease (new touch or new channel)
            self._release_lease(prev, clock)
        mode = channel.mode if channel else "default"
        if mode == "dynamic":
            # the visitor's previous number first, if it is free
            preferred = prev and self._last_dynamic_number(company, key, prev)
            client = None
            if remote_addr is not None:
                client = client_hashes(guard.secret, remote_addr)
                if client is None:
                    # a client that cannot be told apart gets no lease
                    return self._answer_refused(
                        company, setup, touch, key, "over_cap", clock, channel=channel
                    )
                values["client_hash"], values["client_net_hash"] = client
            leased = self._lease_number(channel, values, preferred, clock, guard=guard)
            if leased and leased["refused"]:
                return self._answer_refused(
                    company, setup, touch, key, "over_cap", clock, channel=channel
                )
            if leased and leased["id"]:
                return self._answer(leased, channel, setup, key)
            # the pool is full: the fallback number, counted as an exhaustion
            row = self._insert_session(
                values,
                clock,
                mode="default",
                pool_id=channel.pool_id,
                minutes=channel.hold_minutes,
            )
            return self._answer(row, channel, setup, key)
        row = self._insert_session(
            values,
            clock,
            mode=mode,
            number_id=channel.number_id if mode == "static" else None,
            minutes=VISIT_WINDOW_MINUTES,
        )
        return self._answer(row, channel, setup, key)

    @api.model
    @tools.ormcache("company_id")
    def _get_client_guard(self, company_id):
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
        )

    @api.model
    def _answer_refused(self, company, setup, touch, key, reason, clock, channel=None):
        """The answer of a client refused a lease, with no session: its
        channel's static number, else the default number (the pool's fallback
        on a dynamic channel, counted as refused for that pool)."""
        if channel is None:
            channel = choose_channel(setup, touch, None).channel
        mode = channel.mode if channel else "default"
        if mode == "dynamic":
            self._count_refusal(company.id, channel.pool_id, reason, clock)
            mode = "default"
        row = {"mode": mode, "number": None, "expires_in": VISIT_WINDOW_MINUTES * 60}
        return self._answer(row, channel, setup, key or self._new_visitor_key())

    @api.model
    def _count_refusal(self, company_id, pool_id, reason, clock=NOW):
        """One more refused request of ``pool_id`` this hour: one upsert of
        this thread's counter row (see :func:`refusal_shard`), summed into
        the pool statistics by their refresh."""
        self.env.cr.execute(
            SQL(
                """
            INSERT INTO call_tracking_refusal (company_id, pool_id, hour, reason, shard, count)
            VALUES (%(company)s, %(pool)s, date_trunc('hour', %(now)s), %(reason)s, %(shard)s, 1)
            ON CONFLICT (pool_id, hour, reason, shard)
            DO UPDATE SET count = call_tracking_refusal.count + 1
                """,
                company=company_id,
                pool=pool_id,
                now=clock,
                reason=reason,
                shard=refusal_shard(),
            ),
            log_exceptions=False,
        )

    @api.model
    def _fetch_visitor_state(self, company, visitor_key, clock=NOW, extend=None):
        """The latest session of a visitor key in ``company`` (a dict, with
        ``live``: it still holds its dynamic number, ``active``: not
        expired), or None.

        With ``extend`` (the company's setup, for a page view that keeps the
        visitor's channel), the same statement also extends the session's
        live lease when its channel is still a dynamic channel of that pool,
        as :meth:`_extend_lease` would: the row then carries
        ``extended_number`` and ``extended_expires_in`` (both None when the
        lease could not be extended: lost meanwhile, or at its lifetime), so
        a returning visitor's ping costs one statement."""
        state = SQL(
            """
            SELECT s.id, s.company_id, s.channel_id, s.mode, s.pool_id, s.number_id,
                   s.assigned_at,
                   s.visitor_id, s.ga_client_id, s.referrer,
                   s.utm_source, s.utm_medium, s.utm_campaign, s.utm_term,
                   s.utm_content, s.gclid, s.fbclid, s.yclid,
                   s.gbraid, s.wbraid, s.ga_session_id, s.ym_uid, s.fbp, s.fbc,
                   COALESCE(s.expires_at > %(now)s, FALSE) AS active,
                   (s.mode = 'dynamic' AND n.lease_session_id = s.id
                    AND n.lease_expires_at > %(now)s) IS TRUE AS live
              FROM call_tracking_session s
         LEFT JOIN call_tracking_number n ON n.id = s.number_id
             WHERE s.visitor_key = %(key)s AND s.company_id = %(company)s
          ORDER BY s.assigned_at DESC, s.id DESC
             LIMIT 1
            """,
            now=clock,
            key=visitor_key,
            company=company.id,
        )
        dynamic = [c for c in extend.channels if c.mode == "dynamic"] if extend else []
        if not dynamic:
            return self._execute_returning(state)
        return self._execute_returning(
            SQL(
                """
            WITH prev AS (%(state)s), %(extension)s
            SELECT prev.*, extended.number AS extended_number,
                   extended.expires_in AS extended_expires_in
              FROM prev LEFT JOIN extended ON TRUE
                """,
                state=state,
                extension=self._lease_extension_sql(
                    SQL(
                        """
                SELECT prev.id, prev.number_id, prev.assigned_at, d.hold_minutes
                  FROM prev
                  JOIN (VALUES %(channels)s) AS d(channel_id, pool_id, hold_minutes)
                    ON d.channel_id = prev.channel_id AND d.pool_id = prev.pool_id
                 WHERE prev.live
                        """,
                        # literal rows: cheaper to plan than unnest() of arrays
                        channels=SQL(", ").join(
                            SQL("(%s, %s, %s)", c.id, c.pool_id, c.hold_minutes) for c in dynamic
                        ),
                    ),
                    company.id,
                    clock,
                ),
            )
        )

    @api.model
    def _last_dynamic_number(self, company, visitor_key, prev):
        """The number of the latest dynamic session of ``visitor_key`` in
        ``company`` (``prev``: their latest session, see
        :meth:`_fetch_visitor_state`), or None: a query only when that
        latest session was not dynamic."""
        if prev["mode"] == "dynamic":
            return prev["number_id"]
        rows = self.env.execute_query(
            SQL(
                """
            SELECT number_id FROM call_tracking_session
             WHERE visitor_key = %s AND company_id = %s AND mode = 'dynamic'
          ORDER BY assigned_at DESC, id DESC
             LIMIT 1
                """,
                visitor_key,
                company.id,
            )
        )
        return rows[0][0] if rows else None

    @api.model
    def _continue_session(self, prev, channel, clock=NOW):
        """Extend the visitor's current session when it still fits their
        channel: the live lease (dynamic), the fallback answer of an exhausted
        arrival within the pool's hold, or the static / default session.
        Returns the answer row, or None when a new session is needed."""
        mode = channel.mode if channel else "default"
        if mode == "dynamic":
            if prev["live"] and prev["pool_id"] == channel.pool_id:
                if "extended_expires_in" in prev:
                    # the visitor state's statement did it already
                    return self._extended_row(prev)
                return self._extend_lease(prev, channel.hold_minutes, clock)
            if prev["mode"] == "default" and prev["pool_id"] == channel.pool_id and prev["active"]:
                # an exhausted arrival keeps the fallback number it was shown
                # for the hold time instead of seeing the number change
                return self._touch_session(prev, channel.hold_minutes, clock)
            return None
        number_id = channel.number_id if mode == "static" else None
        if (
            prev["mode"] == mode
            and not prev["pool_id"]
            and (prev["number_id"] or None) == number_id
        ):
            return self._touch_session(prev, VISIT_WINDOW_MINUTES, clock)
        return None

    @staticmethod
    def _extended_row(prev):
        """The answer row of a lease extended by :meth:`_fetch_visitor_state`
        (None when it could not be extended)."""
        if prev["extended_expires_in"] is None:
            return None
        return {
            "id": prev["id"],
            "mode": "dynamic",
            "number": prev["extended_number"],
            "expires_in": prev["extended_expires_in"],
        }

    @api.model
    def _note_visit_ids(self, session_id, prev, visit_ids):
        """Keep the ad platforms' cookies a later page view brings (their
        scripts often set them after the first request): one update, only
        when one of them is new."""
        changed = {f: v for f, v in visit_ids.items() if v != prev[f]}
        if not changed:
            return
        self.env.cr.execute(
            SQL(
                "UPDATE call_tracking_session SET %s WHERE id = %s",
                SQL(", ").join(SQL("%s = %s", SQL.identifier(f), v) for f, v in changed.items()),
                session_id,
            )
        )

    def _execute_in_savepoint(self, query):
        """:meth:`_execute_returning` within a savepoint, as
        ``cr.savepoint(flush=False)`` would run it, but with the ``SAVEPOINT``
        sent in the same round trip as the statement: rolled back (and the
        error raised) when the statement fails, released when it succeeds."""
        cr = self.env.cr
        done = False
        try:
            cr.execute(SQL("SAVEPOINT call_tracking_lease; %s", query), log_exceptions=False)
            row = cr.dictfetchone()
            done = True
        finally:
            cr.execute(
                SQL("RELEASE SAVEPOINT call_tracking_lease")
                if done
                else SQL(
                    "ROLLBACK TO SAVEPOINT call_tracking_lease; "
                    "RELEASE SAVEPOINT call_tracking_lease"
                )
            )
        return row

    def _execute_returning(self, query):
        """Run a hot-path statement and return its first row as a dict. Errors
        are not logged: a serialization failure is expected under concurrency
        and handled by the caller or by Odoo's request retry."""
        cr = self.env.cr
        cr.execute(query, log_exceptions=False)
        return cr.dictfetchone()

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
            lifetime=self._get_client_guard(company_id).lifetime_minutes,
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
    def _touch_session(self, prev, minutes, clock=NOW):
        """Note the visitor's activity on a session without a lease."""
        return self._execute_returning(
            SQL(
                """
            UPDATE call_tracking_session s
               SET last_seen_at = %(now)s,
                   expires_at = GREATEST(s.expires_at,
                                         %(now)s + %(minutes)s * interval '1 minute')
             WHERE s.id = %(session)s
         RETURNING s.id, s.mode,
                   (SELECT n.number FROM call_tracking_number n WHERE n.id = s.number_id)
                   AS number,
                   EXTRACT(EPOCH FROM s.expires_at - %(now)s)::int AS expires_in
                """,
                now=clock,
                minutes=minutes,
                session=prev["id"],
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
    def _session_columns(self, values):
        columns = [
            "visitor_key", "company_id", "website_id", "visitor_id", "channel_id",
            "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
            "gclid", "fbclid", "yclid", "ga_client_id", "referrer", "landing_url",
            "device_class", "os_name", "browser", "client_hash", "client_net_hash",
            "gbraid", "wbraid", *VISIT_ID_FIELDS,
        ]  # fmt: skip
        return columns, [values.get(c) or None for c in columns]

    @api.model
    def _session_columns_sql(self, values):
        """The columns of a new session and their values, as two SQL lists."""
        columns, params = self._session_columns(values)
        return column_list(tuple(columns)), SQL(", ".join(["%s"] * len(params)), *params)

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
            return self._execute_in_savepoint(
                self._lease_query(channel, values, clock, preferred_id, guard=guard)
            )
        except pg_errors.SerializationFailure as exc:
            failure = exc
        if values.get("client_hash"):
            # a concurrent lease of the same client: retry the whole request
            # (raises), unless another free number was the conflict
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(self._client_lock_query(values, clock), log_exceptions=False)
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
    def _client_lock_query(self, values, clock):
        """Upsert the rows of the client's address and network: the row
        locks that serialize the leases of one client."""
        return SQL(
            """
            INSERT INTO call_tracking_client (company_id, key_hash, last_lease_at)
            VALUES (%(company)s, %(address)s, %(now)s), (%(company)s, %(network)s, %(now)s)
            ON CONFLICT (company_id, key_hash)
            DO UPDATE SET last_lease_at = EXCLUDED.last_lease_at
            RETURNING 1
            """,
            company=values["company_id"],
            address=values["client_hash"],
            network=values["client_net_hash"],
            now=clock,
        )

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
        allowed AS (
            SELECT (%(cap_address)s = 0 OR by_address < %(cap_address)s)
               AND (%(cap_network)s = 0 OR by_network < %(cap_network)s) AS ok
              FROM held, (SELECT count(*) FROM client) AS locked
        ),""",
                lock=self._client_lock_query(values, clock),
                address=values["client_hash"],
                network=values["client_net_hash"],
                company=values["company_id"],
                now=clock,
                cap_address=guard.cap_address,
                cap_network=guard.cap_network,
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

    @api.model
    def _insert_session(self, values, clock, mode, number_id=None, pool_id=None, minutes=0):
        """A session without a lease: static, default, or a pool's fallback."""
        columns, params = self._session_columns_sql(values)
        return self._execute_returning(
            SQL(
                """
            INSERT INTO call_tracking_session (%(columns)s, mode, number_id, pool_id,
                assigned_at, last_seen_at, expires_at,
                create_uid, create_date, write_uid, write_date)
            VALUES (%(params)s, %(mode)s, %(number)s, %(pool)s,
                    %(now)s, %(now)s, %(now)s + %(minutes)s * interval '1 minute',
                    %(uid)s, %(now)s, %(uid)s, %(now)s)
         RETURNING id, mode,
                   (SELECT n.number FROM call_tracking_number n WHERE n.id = %(number)s)
                   AS number,
                   %(minutes)s * 60 AS expires_in
                """,
                columns=columns,
                params=params,
                mode=mode,
                number=number_id,
                pool=pool_id,
                now=clock,
                minutes=minutes,
                uid=self.env.uid,
            )
        )

    @api.model
    def _answer(self, row, channel, setup, key):
        """The public answer: only this visitor's own number and channel."""
        # the assignment's SQL changed sessions and numbers; nothing was
        # written through the ORM since its flush, so there is nothing to flush
        self.invalidate_model(flush=False)
        self.env["call.tracking.number"].invalidate_model(
            ["lease_session_id", "lease_expires_at", "last_released_at"], flush=False
        )
        if row["mode"] == "default":
            number = channel.fallback if channel else setup.company_default
            display = channel.fallback_display if channel else setup.company_default_display
        elif row["mode"] == "static":
            number, display = channel.number, channel.display
        else:
            number = row["number"]
            display = setup.display_of(number)
        return {
            "number": number or None,
            "display": display or None,
            "href": f"tel:{number}" if number else None,
            "mode": row["mode"],
            "visitor": key,
            "expires_in": max(int(row["expires_in"] or 0), 0),
            "channel": channel.name if channel else None,
        }

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _cron_purge(self, batch_size=PURGE_BATCH, now=None):
        """Delete the sessions older than their company's retention, one
        batch per run; the cron is re-triggered while some remain. Sessions
        still holding a lease are never deleted."""
        self.env["res.company"].flush_model(["call_tracking_session_retention_days"])
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
            WITH old AS (
                SELECT s.id
                  FROM call_tracking_session s
                  JOIN res_company c ON c.id = s.company_id
                 WHERE s.assigned_at < %(now)s
                           - c.call_tracking_session_retention_days * interval '1 day'
                   AND (s.expires_at IS NULL OR s.expires_at < %(now)s)
                 LIMIT %(limit)s
            )
            DELETE FROM call_tracking_session s USING old WHERE s.id = old.id
            RETURNING s.id
                """,
                now=now_sql(now),
                limit=batch_size,
            )
        )
        self.invalidate_model()
        self.env["call.tracking.number"].invalidate_model(["lease_session_id"])
        done = len(rows)
        # a full batch: maybe more to purge, the cron runs again soon
        self.env["ir.cron"]._notify_progress(done=done, remaining=int(done == batch_size))
        _logger.info("call_tracking: purged %s old visitor sessions", done)
        return done
