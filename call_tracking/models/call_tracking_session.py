import functools
import logging
import secrets

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..const import DEVICE_CLASS_SELECTION, VISIT_ID_FIELDS, VISIT_WINDOW_MINUTES
from ..tools.clients import (
    is_automated,
    parse_device,
    scrub_url,
)
from ..tools.recognition import TOUCH_FIELDS, PreviousTouch, choose_channel, parse_touch

_logger = logging.getLogger(__name__)

# How many free numbers to try one by one when the first choice was leased by
# a concurrent transaction (see _lease_number).
LEASE_CANDIDATES = 20
# Whole seconds, as Odoo stores datetimes and providers report call times: a
# lease assigned at 10:15:00.7 must not start after a call reported at 10:15:00.
NOW = SQL("date_trunc('second', now() AT TIME ZONE 'UTC')")


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


def setup_landing_params(setup):
    """The landing parameters the company's recognition rules name: a stored
    URL keeps them besides the marketing ones."""
    return frozenset(rule.param for c in setup.channels for rule in c.rules if rule.param)


class CallTrackingSession(models.Model):
    """One visitor's stay on a channel: the lease of a dynamic number (or the
    static number shown), with the visit's marketing context.

    Split by job: this file holds the fields and the number assignment
    (``_assign_number``); ``call_tracking_session_lease.py`` the lease SQL,
    ``_history`` who held a number when (call attribution), ``_retention``
    the purge; the client caps and the refusal counters are methods of
    ``call.tracking.client`` and ``call.tracking.refusal``.

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
        create_index(
            cr,
            "call_tracking_session_number_assigned_idx",
            self._table,
            ["number_id", "assigned_at DESC"],
            where="number_id IS NOT NULL",
        )
        # the latest session of a visitor key
        create_index(
            cr,
            "call_tracking_session_visitor_idx",
            self._table,
            ["visitor_key", "company_id", "assigned_at DESC"],
        )
        # the live leases of a client network: the caps of the assignment
        create_index(
            cr,
            "call_tracking_session_client_net_idx",
            self._table,
            ["client_net_hash", "company_id", "expires_at"],
            where="mode = 'dynamic' AND client_net_hash IS NOT NULL",
        )
        self._init_lease_exclusion()
        return res

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

        # a new session: a new touch, a lapsed lease, or a changed setup
        guard = self.env["call.tracking.client"]._get_guard(company.id)
        values = self._new_session_values(
            company, setup, channel, touch, new_touch, prev, key,
            website=website, visitor=visitor, url=url, referrer=referrer,
            ga_client_id=ga_client_id, user_agent=user_agent, visit_ids=visit_ids,
        )  # fmt: skip
        if prev and prev["live"]:
            # the visitor leaves their live lease (new touch or new channel)
            self._release_lease(prev, clock)
        mode = channel.mode if channel else "default"
        if mode == "dynamic":
            return self._assign_dynamic(
                company, setup, channel, touch, key, prev, values, clock, remote_addr, guard
            )
        # capped per client like leases (call_tracking_session_caps.py)
        row = self._note_client(company.id, values, remote_addr) and self._insert_session(
            values,
            clock,
            mode=mode,
            number_id=channel.number_id if mode == "static" else None,
            minutes=VISIT_WINDOW_MINUTES,
        )
        if not row:
            return self._answer_refused(company, setup, touch, key, "over_cap", clock, channel)
        return self._answer(row, channel, setup, key)

    @api.model
    def _new_session_values(
        self, company, setup, channel, touch, new_touch, prev, key, *, website=None,
        visitor=None, url=None, referrer=None, ga_client_id=None, user_agent=None,
        visit_ids=None,
    ):  # fmt: skip
        """The values of the visitor's new session. A continuation keeps the
        facts of the last non-direct touch, so that a call is credited to it."""
        visit_ids = visit_ids or {}
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
        return values

    @api.model
    def _assign_dynamic(
        self, company, setup, channel, touch, key, prev, values, clock, remote_addr, guard
    ):
        """Lease a number of the dynamic ``channel``'s pool to a new session
        (the visitor's previous number first, if it is free), within the
        client caps (``guard``: ``call.tracking.client._get_guard``); the
        pool's fallback number when it is full."""
        # the visitor's previous number first, if it is free
        preferred = prev and self._last_dynamic_number(company, key, prev)
        if not self._note_client(company.id, values, remote_addr):
            # a client that cannot be told apart gets no lease
            return self._answer_refused(
                company, setup, touch, key, "over_cap", clock, channel=channel
            )
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
        if not row:  # over the client's cap of new visits
            return self._answer_refused(
                company, setup, touch, key, "over_cap", clock, channel=channel
            )
        return self._answer(row, channel, setup, key)

    @api.model
    def _answer_refused(self, company, setup, touch, key, reason, clock, channel=None):
        """The answer of a client refused a lease, with no session: its
        channel's static number, else the default number (the pool's fallback
        on a dynamic channel, counted as refused for that pool)."""
        if channel is None:
            channel = choose_channel(setup, touch, None).channel
        mode = channel.mode if channel else "default"
        if mode == "dynamic":
            self.env["call.tracking.refusal"]._count(company.id, channel.pool_id, reason, clock)
            mode = "default"
        row = {"mode": mode, "number": None, "expires_in": VISIT_WINDOW_MINUTES * 60}
        return self._answer(row, channel, setup, key or self._new_visitor_key())

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

    def _execute_returning(self, query):
        """Run a hot-path statement and return its first row as a dict. Errors
        are not logged: a serialization failure is expected under concurrency
        and handled by the caller or by Odoo's request retry."""
        cr = self.env.cr
        cr.execute(query, log_exceptions=False)
        return cr.dictfetchone()

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
    def _session_columns(self, values):
        columns = [
            "visitor_key", "company_id", "website_id", "visitor_id", "channel_id",
            "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
            "gclid", "fbclid", "yclid", "ga_client_id", "referrer", "landing_url",
            "device_class", "os_name", "browser", "client_hash", "client_net_hash",
            "client_site_hash", "gbraid", "wbraid", *VISIT_ID_FIELDS,
        ]  # fmt: skip
        return columns, [values.get(c) or None for c in columns]

    @api.model
    def _session_columns_sql(self, values):
        """The columns of a new session and their values, as two SQL lists."""
        columns, params = self._session_columns(values)
        return column_list(tuple(columns)), SQL(", ".join(["%s"] * len(params)), *params)

    @api.model
    def _insert_session(self, values, clock, mode, number_id=None, pool_id=None, minutes=0):
        """A session without a lease: static, default, or a pool's fallback;
        None when the client (``values``' hashes) is over its cap of new
        visits (:meth:`_visit_cap_sql`)."""
        columns, params = self._session_columns_sql(values)
        return self._execute_returning(
            SQL(
                """
            INSERT INTO call_tracking_session (%(columns)s, mode, number_id, pool_id,
                assigned_at, last_seen_at, expires_at,
                create_uid, create_date, write_uid, write_date)
            SELECT %(params)s, %(mode)s, %(number)s, %(pool)s,
                   %(now)s, %(now)s, %(now)s + %(minutes)s * interval '1 minute',
                   %(uid)s, %(now)s, %(uid)s, %(now)s
             WHERE %(allowed)s
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
                allowed=self._visit_cap_sql(values, clock),
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
