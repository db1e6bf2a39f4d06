import hashlib
import logging
from datetime import datetime, time

import pytz

from odoo import api, fields, models
from odoo.models import parse_read_group_spec
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

ROLLUP_TABLE = "call_tracking_call_rollup"
QUEUE_TABLE = "call_tracking_call_rollup_queue"
STATE_TABLE = "call_tracking_call_rollup_state"
# the dimensions kept per company and local day; the hour is left out (it
# would multiply the rows by 24 and the roll-up would be little smaller than
# the calls): a grouping or filter on anything else reads the raw view
ROLLUP_DIMENSIONS = (
    "company_id",
    "currency_id",
    "weekday",
    "channel_id",
    "source_id",
    "medium_id",
    "campaign_id",
    "user_id",
    "team_id",
    "provider_id",
    "status",
    "quality",
    "is_spam",
)
# start_at granularities a local day answers exactly
DAY_GRANULARITIES = {
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "day_of_week",
    "day_of_month",
    "iso_week_number",
    "month_number",
    "quarter_number",
    "year_number",
}
# start_at granularities a local month answers exactly
MONTH_GRANULARITIES = {"month", "quarter", "year", "month_number", "quarter_number", "year_number"}
# start_at comparisons a local day answers exactly when the value is a local midnight
DAY_OPERATORS = {">=", "<"}
DAYS_PER_BATCH = 62
# the roll-ups a read may take, smallest first: (table, period, dimensions).
# The monthly ones are summed from the daily one; the first is the
# marketer's (by channel, campaign, source and medium: no salesperson,
# team or provider), a few rows a month whatever the number of calls.
ROLLUP_TABLES = (
    (
        "call_tracking_call_rollup_month_channel",
        "month",
        (
            "company_id",
            "currency_id",
            "channel_id",
            "source_id",
            "medium_id",
            "campaign_id",
            "status",
            "quality",
            "is_spam",
        ),
    ),
    (
        "call_tracking_call_rollup_month",
        "month",
        tuple(name for name in ROLLUP_DIMENSIONS if name != "weekday"),
    ),
    (ROLLUP_TABLE, "day", ROLLUP_DIMENSIONS),
)


class CallTrackingCallReport(models.Model):
    """The Call Analysis served from a daily roll-up when a read allows it.

    ``call_tracking_call_rollup`` holds, per company, local day (the
    company's time zone, as the view's weekday) and the dimensions of
    ``ROLLUP_DIMENSIONS``, the number of report rows and the sum of every
    summed measure (and the sum and count of every averaged one that is not
    a ratio): ratios stay ratios of sums, averages sums over counts. The
    roll-up is computed from the view's own ``_query()`` (whatever another
    module adds to it, the score measures included), so its figures are the
    view's by construction.

    The rows are maintained by a cron (``_cron_refresh_rollup``) with raw SQL
    ``DELETE`` and ``INSERT ... SELECT ... GROUP BY`` of whole days: a
    technical table written in bulk, as ``website.visitor``'s upsert. Days
    to recompute are those of the calls, leads and scorecards written since
    the watermark, plus a queue filled by the ORM where a write date cannot
    tell (a call deleted, moved to another day, company or lead, a lead
    deleted). A cron step is one transaction: it queues the changed days and
    moves the watermark together, then recomputes a batch of queued days
    and reports what is left (``ir.cron._notify_progress``), so a refresh
    killed midway loses nothing and the next run completes it. A change of
    the won stages or of a company's time zone, or of the view itself,
    rebuilds everything.

    A grouped read (pivot, graph, grouped list) reads the roll-up when every
    group-by, measure, filter and record rule of it is covered: groupings by
    rolled-up dimensions or by the date at day granularity or coarser in the
    companies' time zone, filters on rolled-up dimensions (dates only from a
    local midnight, ``>=`` and ``<``), summed and ratio measures. Anything
    else (unique callers, hour, keyword, lead, ...) reads the raw view, as
    does every read while no refresh has completed. Reads never write nor
    lock: they run on a hot standby.
    """

    _inherit = "call.tracking.call.report"

    # ------------------------------------------------------------------
    # read path
    # ------------------------------------------------------------------

    @property
    def _table_sql(self):
        table = self.env.context.get("call_tracking_rollup_read")
        if table in {name for name, _period, _dimensions in ROLLUP_TABLES}:
            return SQL.identifier(table)
        return super()._table_sql

    @api.model
    def _read_group(
        self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None
    ):
        table = not self.env.context.get("call_tracking_rollup_read") and self._rollup_covers(
            domain, groupby, aggregates, having, order
        )
        if table:
            report = self.with_context(call_tracking_rollup_read=table)
            groups = report._read_group(
                domain, groupby, aggregates, having=having, offset=offset, limit=limit, order=order
            )
            # the groups' records without the read's context
            return [
                tuple(
                    value.with_env(self.env) if isinstance(value, models.BaseModel) else value
                    for value in group
                )
                for group in groups
            ]
        return super()._read_group(
            domain, groupby, aggregates, having=having, offset=offset, limit=limit, order=order
        )

    def _read_group_select(self, aggregate_spec, query):
        if not self.env.context.get("call_tracking_rollup_read"):
            return super()._read_group_select(aggregate_spec, query)
        if aggregate_spec == "__count":
            return SQL("SUM(%s)::bigint", SQL.identifier(self._table, "__count"))
        fname, __, func = parse_read_group_spec(aggregate_spec)
        measures = self._rollup_measures()
        if fname in measures["avg"] and func in (None, "avg"):
            # PostgreSQL's avg(): the exact sum over the count, as numeric
            return SQL(
                "SUM(%s)::numeric / NULLIF(SUM(%s), 0)::numeric",
                SQL.identifier(self._table, f"{fname}__sum"),
                SQL.identifier(self._table, f"{fname}__n"),
            )
        if fname in measures["sum"] and func == "sum" and self._fields[fname].type == "integer":
            # sum(int) is a bigint in the view, a numeric over the roll-up
            return SQL("SUM(%s)::bigint", SQL.identifier(self._table, fname))
        return super()._read_group_select(aggregate_spec, query)

    @api.model
    def _rollup_measures(self):
        """{"sum": summed fields, "avg": averaged fields that are no ratio}."""
        summed, averaged = [], []
        for name, field in self._fields.items():
            if not field.store or field.type not in ("integer", "float", "monetary"):
                continue
            if field.aggregator == "sum":
                summed.append(name)
            elif field.aggregator == "avg" and name not in self._report_ratios:
                averaged.append(name)
        return {"sum": summed, "avg": averaged}

    @api.model
    def _rollup_state(self):
        """The roll-up's state row (a dict), None before the first refresh."""
        cr = self.env.cr
        cr.execute(SQL("SELECT to_regclass(%s)", STATE_TABLE))
        if not cr.fetchone()[0]:
            return None
        cr.execute(
            SQL(
                "SELECT fresh_until AS watermark, refreshed_at, tzs, signature FROM %s "
                "WHERE id = 1",
                SQL.identifier(STATE_TABLE),
            )
        )
        row = cr.dictfetchone()
        return row if row and row["refreshed_at"] else None

    @api.model
    def _rollup_covers(self, domain, groupby, aggregates, having=(), order=None):
        """The roll-up table that answers this grouped read exactly, the
        smallest of ``ROLLUP_TABLES`` that does; None when none does."""
        if self.env.context.get("call_tracking_rollup") is False:
            return None
        state = self._rollup_state()
        if not state or state["signature"] != self._rollup_signature():
            return None
        tz = self.env.context.get("tz")
        read_tz = tz if tz in pytz.all_timezones_set else "UTC"
        # every company's local day is a day in the read's time zone
        if any(company_tz != read_tz for company_tz in state["tzs"] or ()):
            return None
        measures = self._rollup_measures()
        ratios = self._report_ratios
        for spec in list(aggregates) + [term for term in having or () if isinstance(term, str)]:
            if spec == "__count":
                continue
            fname, __, func = parse_read_group_spec(spec)
            if fname in measures["sum"] and func == "sum":
                continue
            if (fname in measures["avg"] or fname in ratios) and func in (None, "avg"):
                continue
            return None
        needs = self._rollup_needs(domain, groupby, order, read_tz, measures)
        if needs is None:
            return None
        needed, granularities, moments = needs
        for table, period, dimensions in ROLLUP_TABLES:
            if not needed.issubset(dimensions):
                continue
            if period == "month":
                if granularities.issubset(MONTH_GRANULARITIES) and all(
                    moment.day == 1 for moment in moments
                ):
                    return table
            elif granularities.issubset(DAY_GRANULARITIES):
                return table
        return None

    @api.model
    def _rollup_needs(self, domain, groupby, order, read_tz, measures):
        """(the dimensions a read needs, its date granularities, the local
        moments its date filters start or end at); None when no roll-up
        can answer it."""
        needed, granularities, moments = set(), set(), []
        for spec in groupby:
            fname, __, granularity = parse_read_group_spec(spec)
            if fname == "start_at" and granularity:
                granularities.add(granularity)
            elif granularity or fname == "start_at":
                return None
            else:
                needed.add(fname)
        # orderings name group-bys or measures
        for term in (order or "").split(","):
            name = term.strip().split(" ")[0].split(":")[0]
            if name and name not in (
                "start_at",
                "__count",
                *measures["sum"],
                *measures["avg"],
                *self._report_ratios,
            ):
                needed.add(name)
        rules = self.env["ir.rule"]._compute_domain(self._name, "read")
        leaves = list(domain or []) + list(rules or [])
        if self._hide_spam(domain):
            leaves.append(("is_spam", "=", False))
        for leaf in leaves:
            covered, dimension, moment = self._rollup_leaf(leaf, read_tz)
            if not covered:
                return None
            if dimension:
                needed.add(dimension)
            if moment:
                moments.append(moment)
        return needed, granularities, moments

    @api.model
    def _rollup_leaf(self, leaf, read_tz):
        """(whether a roll-up may answer the domain leaf, the dimension it
        filters on, the local moment of a date filter)."""
        if not isinstance(leaf, (list, tuple)):
            return leaf in ("&", "|", "!"), None, None
        if len(leaf) != 3:
            return False, None, None
        path, operator, value = leaf
        if path in (1, 0):  # TRUE_LEAF / FALSE_LEAF
            return True, None, None
        fname = str(path).split(".")[0]
        if fname in ROLLUP_DIMENSIONS:
            # a path through a many2one filters on the column (channel_id.name)
            covered = "." not in str(path) or self._fields[fname].type == "many2one"
            return covered, fname, None
        if fname != "start_at" or "." in str(path) or operator not in DAY_OPERATORS:
            return False, None, None
        try:
            moment = fields.Datetime.to_datetime(value)
        except (TypeError, ValueError):
            return False, None, None
        if not isinstance(moment, datetime):
            return False, None, None
        local = pytz.utc.localize(moment).astimezone(pytz.timezone(read_tz))
        # only from a local midnight
        return local.time() == time(0), None, local

    @api.model
    @api.readonly
    def get_rollup_freshness(self):
        """The roll-up's freshness note for the report's users: when it was
        last refreshed, up to which write it holds, and on a hot standby by
        how much the standby lags its primary."""
        self.check_access("read")
        state = self._rollup_state()
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT pg_is_in_recovery(), now() - pg_last_xact_replay_timestamp(), "
                "now() AT TIME ZONE 'UTC'"
            )
        )
        standby, lag, now = cr.fetchone()
        lag_seconds = lag.total_seconds() if standby and lag is not None else None
        if not state:
            note = self.env._(
                "The summary of the calls is not built yet: the analysis reads every call."
            )
        else:
            note = self.env._(
                "Summary of the calls refreshed: %(refreshed)s (UTC), with the changes up to "
                "%(watermark)s (UTC).",
                refreshed=fields.Datetime.to_string(state["refreshed_at"]),
                watermark=fields.Datetime.to_string(state["watermark"]),
            )
        if lag_seconds is not None:
            note += " " + self.env._(
                "Read from a standby server; replication lag (seconds): %(lag)s",
                lag=round(lag_seconds, 1),
            )
        return {
            "refreshed_at": state and state["refreshed_at"],
            "watermark": state and state["watermark"],
            "age_seconds": state and (now - state["refreshed_at"]).total_seconds(),
            "standby": standby,
            "replication_lag_seconds": lag_seconds,
            "note": note,
        }

    # ------------------------------------------------------------------
    # structure
    # ------------------------------------------------------------------

    def _rollup_rows(self, where):
        measures = self._rollup_measures()
        dimensions = [SQL.identifier("r", name) for name in ROLLUP_DIMENSIONS]
        columns = [
            *(SQL("%s", dim) for dim in dimensions),
            SQL("timezone('UTC', timezone(x.tz, x.day::timestamp))"),
            SQL("count(*)"),
            *(SQL("sum(%s)", SQL.identifier("r", name)) for name in measures["sum"]),
            *(
                SQL("sum(%s), count(%s)", SQL.identifier("r", name), SQL.identifier("r", name))
                for name in measures["avg"]
            ),
        ]
        return SQL(
            """
            SELECT %s
              FROM (%s) r
              JOIN res_company company ON company.id = r.company_id
         LEFT JOIN res_partner partner ON partner.id = company.partner_id
        CROSS JOIN LATERAL (
                SELECT COALESCE(partner.tz, 'UTC') AS tz,
                       timezone(COALESCE(partner.tz, 'UTC'), timezone('UTC', r.start_at))::date
                           AS day
            ) x
             WHERE %s
          GROUP BY %s, x.tz, x.day
            """,
            SQL(", ").join(columns),
            self._query(),
            where,
            SQL(", ").join(dimensions),
        )

    def _rollup_column_names(self, dimensions=ROLLUP_DIMENSIONS):
        measures = self._rollup_measures()
        return [
            *dimensions,
            "start_at",
            "__count",
            *measures["sum"],
            *(f"{name}{suffix}" for name in measures["avg"] for suffix in ("__sum", "__n")),
        ]

    def _rollup_signature(self):
        """What the roll-up's rows depend on besides the data: the view and
        the rolled-up columns; another signature means a rebuild."""
        query = self._rollup_rows(SQL("TRUE"))
        text = repr((query.code, query.params, self._rollup_column_names(), ROLLUP_TABLES))
        return hashlib.sha256(text.encode()).hexdigest()

    def _rollup_data_signature(self):
        """The won stages and the companies' time zones: when they change,
        every day is recomputed."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                SELECT (SELECT array_agg(id ORDER BY id) FROM crm_stage WHERE is_won),
                       (SELECT array_agg(COALESCE(partner.tz, 'UTC') ORDER BY company.id)
                          FROM res_company company
                          JOIN res_partner partner ON partner.id = company.partner_id),
                       (SELECT array_agg(DISTINCT COALESCE(partner.tz, 'UTC'))
                          FROM res_company company
                          JOIN res_partner partner ON partner.id = company.partner_id
                         WHERE EXISTS (SELECT 1 FROM call_tracking_call c
                                        WHERE c.company_id = company.id))
                """
            )
        )
        won, all_tzs, tzs = cr.fetchone()
        # tzs: the time zones of the companies with calls, the roll-up's days
        return hashlib.sha256(repr((won, all_tzs)).encode()).hexdigest(), sorted(tzs or ())

    def init(self):
        super().init()
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                CREATE TABLE IF NOT EXISTS %s (
                    id integer PRIMARY KEY,
                    watermark timestamp,
                    refreshed_at timestamp,
                    fresh_until timestamp,
                    tzs varchar[],
                    signature varchar,
                    data_signature varchar
                )
                """,
                SQL.identifier(STATE_TABLE),
            )
        )
        cr.execute(
            SQL(
                "CREATE TABLE IF NOT EXISTS %s (company_id integer NOT NULL, day date NOT NULL)",
                SQL.identifier(QUEUE_TABLE),
            )
        )
        cr.execute(
            SQL(
                "INSERT INTO %s (id) VALUES (1) ON CONFLICT (id) DO NOTHING",
                SQL.identifier(STATE_TABLE),
            )
        )
        # the days changed since the watermark, by index
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS call_tracking_call_write_date_index "
                "ON call_tracking_call (write_date)"
            )
        )
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS call_tracking_crm_lead_write_date_index "
                "ON crm_lead (write_date)"
            )
        )
        signature = self._rollup_signature()
        cr.execute(SQL("SELECT signature FROM %s WHERE id = 1", SQL.identifier(STATE_TABLE)))
        if cr.fetchone()[0] == signature:
            return
        # a new view or new measures: a new table, built by the next refresh
        cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(ROLLUP_TABLE)))
        cr.execute(
            SQL(
                "CREATE TABLE %s AS %s WITH NO DATA",
                SQL.identifier(ROLLUP_TABLE),
                self._rollup_named_rows(SQL("FALSE")),
            )
        )
        cr.execute(
            SQL(
                "ALTER TABLE %s ADD COLUMN id bigserial PRIMARY KEY",
                SQL.identifier(ROLLUP_TABLE),
            )
        )
        for table, period, dimensions in ROLLUP_TABLES:
            if period == "month":
                cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(table)))
                cr.execute(
                    SQL(
                        "CREATE TABLE %s AS SELECT %s FROM %s WITH NO DATA",
                        SQL.identifier(table),
                        SQL(", ").join(
                            SQL.identifier(name) for name in self._rollup_column_names(dimensions)
                        ),
                        SQL.identifier(ROLLUP_TABLE),
                    )
                )
            cr.execute(
                SQL(
                    "CREATE INDEX %s ON %s (company_id, start_at)",
                    SQL.identifier(f"{table}_company_start_at_index"),
                    SQL.identifier(table),
                )
            )
        cr.execute(
            SQL(
                "UPDATE %s SET signature = %s, watermark = NULL, refreshed_at = NULL, "
                "fresh_until = NULL, data_signature = NULL, tzs = NULL WHERE id = 1",
                SQL.identifier(STATE_TABLE),
                signature,
            )
        )

    def _rollup_named_rows(self, where):
        """``_rollup_rows`` with the roll-up's column names (CREATE TABLE AS)."""
        names = SQL(", ").join(SQL.identifier(name) for name in self._rollup_column_names())
        return SQL("SELECT * FROM (%s) rows (%s)", self._rollup_rows(where), names)

    # ------------------------------------------------------------------
    # refresh
    # ------------------------------------------------------------------

    @api.model
    def _cron_refresh_rollup(self):
        self._rollup_refresh()

    @api.model
    def _rollup_refresh(self, batch_days=DAYS_PER_BATCH):
        """One step of the refresh, in the caller's transaction (the cron's:
        it reruns the job while ``_notify_progress`` reports days left).

        Move the days changed since the watermark (every day with calls the
        first time, or after a change of the won stages or time zones) into
        the queue and the watermark forward together, then recompute a batch
        of queued days and take them off the queue. Killed midway, the
        transaction leaves the queue and the watermark as they were. Returns
        the number of days recomputed (0 when there is nothing left)."""
        cr = self.env.cr
        self.env.flush_all()
        state_table = SQL.identifier(STATE_TABLE)
        queue_table = SQL.identifier(QUEUE_TABLE)
        # one refresh at a time; a second cron worker leaves
        cr.execute(SQL("SELECT id FROM %s WHERE id = 1 FOR UPDATE SKIP LOCKED", state_table))
        if not cr.fetchone():
            return 0
        cr.execute(
            SQL("SELECT watermark, signature, data_signature FROM %s WHERE id = 1", state_table)
        )
        watermark, signature, data_signature = cr.fetchone()
        if signature != self._rollup_signature():
            _logger.warning("call roll-up: structure changed, run a module update")
            return 0
        new_data_signature, tzs = self._rollup_data_signature()
        # every write not committed yet started after this moment: the next
        # run starts from there (a write date is its transaction's start)
        cr.execute(
            SQL(
                """
                SELECT min(xact_start) AT TIME ZONE 'UTC' FROM pg_stat_activity
                 WHERE datname = current_database() AND xact_start IS NOT NULL
                """
            )
        )
        new_watermark = cr.fetchone()[0]
        if watermark is None or new_data_signature != data_signature:
            # a rebuild, in batches of days as any refresh (a cron step stays
            # short; killed, it resumes): every day with calls queued, the
            # old rows gone, and the reads on the raw view until it completes
            # (DELETE rather than TRUNCATE, whose exclusive lock would stop
            # the reads, on the standbys too)
            for table, _period, _dimensions in ROLLUP_TABLES:
                cr.execute(SQL("DELETE FROM %s", SQL.identifier(table)))
            cr.execute(SQL("DELETE FROM %s", queue_table))
            cr.execute(
                SQL(
                    "UPDATE %s SET refreshed_at = NULL, fresh_until = NULL WHERE id = 1",
                    state_table,
                )
            )
            days = self._rollup_dirty_days(None)
        else:
            days = self._rollup_dirty_days(watermark)
        if days:
            cr.execute(
                SQL(
                    "INSERT INTO %s (company_id, day) SELECT * FROM unnest(%s::int[], %s::date[])",
                    queue_table,
                    [company for company, _day in days],
                    [day for _company, day in days],
                )
            )
        cr.execute(
            SQL(
                "SELECT DISTINCT company_id, day FROM %s ORDER BY day, company_id LIMIT %s",
                queue_table,
                batch_days,
            )
        )
        batch = cr.fetchall()
        if batch:
            self._rollup_refresh_batch(batch)
        cr.execute(SQL("SELECT count(DISTINCT (company_id, day)) FROM %s", queue_table))
        done, remaining = len(batch), cr.fetchone()[0]
        cr.execute(
            SQL(
                "UPDATE %s SET watermark = %s, data_signature = %s, tzs = %s WHERE id = 1",
                state_table,
                new_watermark,
                new_data_signature,
                tzs,
            )
        )
        if not remaining:
            # complete: every change up to the watermark is in
            cr.execute(
                SQL(
                    "UPDATE %s SET refreshed_at = now() AT TIME ZONE 'UTC', "
                    "fresh_until = watermark WHERE id = 1",
                    state_table,
                )
            )
        self.env["ir.cron"]._notify_progress(done=max(done, 0), remaining=remaining)
        _logger.info("call roll-up: %s days recomputed, %s left", done, remaining)
        return done

    def _rollup_dirty_days(self, watermark):
        """[(company_id, local day)] to recompute: every day with calls when
        ``watermark`` is None, else the days of the calls, leads and
        scorecards written since."""

        def days_where(condition):
            return SQL(
                """
                SELECT DISTINCT c.company_id,
                       timezone(COALESCE(partner.tz, 'UTC'), timezone('UTC', c.start_at))::date
                           AS day
                  FROM call_tracking_call c
                  JOIN res_company company ON company.id = c.company_id
             LEFT JOIN res_partner partner ON partner.id = company.partner_id
                 WHERE c.start_at IS NOT NULL AND %s
                """,
                condition,
            )

        if watermark is None:
            query = days_where(SQL("TRUE"))
        else:
            conditions = [
                SQL("c.write_date >= %s", watermark),
                SQL("c.lead_id IN (SELECT id FROM crm_lead WHERE write_date >= %s)", watermark),
            ]
            self.env.cr.execute(SQL("SELECT to_regclass('call_tracking_scorecard')"))
            if self.env.cr.fetchone()[0]:
                conditions.append(
                    SQL(
                        "c.id IN (SELECT call_id FROM call_tracking_scorecard "
                        "WHERE write_date >= %s)",
                        watermark,
                    )
                )
            query = SQL(" UNION ").join(days_where(condition) for condition in conditions)
        self.env.cr.execute(
            SQL(
                "SELECT company_id, day FROM (%s) d ORDER BY day, company_id",
                query,
            )
        )
        return self.env.cr.fetchall()

    def _rollup_refresh_batch(self, days):
        """Replace the roll-up rows of these (company, day) pairs, in the
        caller's transaction."""
        cr = self.env.cr
        companies = [company for company, _day in days]
        dates = [day for _company, day in days]
        pairs = SQL(
            "(company_id, day) IN (SELECT * FROM unnest(%s::int[], %s::date[]))",
            companies,
            dates,
        )
        # a whole UTC day around the local ones, for the calls' start index
        where = SQL(
            "r.start_at >= %s::date - 1 AND r.start_at < %s::date + 2 "
            "AND (r.company_id, x.day) IN (SELECT * FROM unnest(%s::int[], %s::date[]))",
            min(dates),
            max(dates),
            companies,
            dates,
        )
        cr.execute(
            SQL(
                """
                DELETE FROM %s rollup
                 USING res_company company
             LEFT JOIN res_partner partner ON partner.id = company.partner_id
                 WHERE company.id = rollup.company_id
                   AND rollup.start_at >= %s::date - 1 AND rollup.start_at < %s::date + 2
                   AND (rollup.company_id,
                        timezone(COALESCE(partner.tz, 'UTC'),
                                 timezone('UTC', rollup.start_at))::date)
                       IN (SELECT * FROM unnest(%s::int[], %s::date[]))
                """,
                SQL.identifier(ROLLUP_TABLE),
                min(dates),
                max(dates),
                companies,
                dates,
            )
        )
        names = SQL(", ").join(SQL.identifier(name) for name in self._rollup_column_names())
        cr.execute(
            SQL(
                "INSERT INTO %s (%s) %s",
                SQL.identifier(ROLLUP_TABLE),
                names,
                self._rollup_rows(where),
            )
        )
        self._rollup_refresh_months(
            sorted({(company, day.replace(day=1)) for company, day in days})
        )
        cr.execute(SQL("DELETE FROM %s WHERE %s", SQL.identifier(QUEUE_TABLE), pairs))

    def _rollup_refresh_months(self, months):
        """Sum the daily roll-up's rows of these (company, local first day
        of a month) pairs (all when None) into the monthly roll-ups, in the
        caller's transaction."""
        cr = self.env.cr
        local_day = SQL(
            "timezone(COALESCE(partner.tz, 'UTC'), timezone('UTC', rollup.start_at))::date"
        )
        month = SQL("date_trunc('month', %s)::date", local_day)
        if months is None:
            where = SQL("TRUE")
        else:
            firsts = [first for _company, first in months]
            # the months' UTC range first, for the (company_id, start_at) index
            where = SQL(
                "rollup.start_at >= %s::date - 1 "
                "AND rollup.start_at < %s::date + interval '1 month 1 day' "
                "AND (rollup.company_id, %s) IN (SELECT * FROM unnest(%s::int[], %s::date[]))",
                min(firsts),
                max(firsts),
                month,
                [company for company, _month in months],
                firsts,
            )
        columns = self._rollup_column_names(())
        for table, period, dimensions in ROLLUP_TABLES:
            if period != "month":
                continue
            cr.execute(
                SQL(
                    """
                    DELETE FROM %s rollup
                     USING res_company company
                 LEFT JOIN res_partner partner ON partner.id = company.partner_id
                     WHERE company.id = rollup.company_id AND %s
                    """,
                    SQL.identifier(table),
                    where,
                )
            )
            cr.execute(
                SQL(
                    """
                    INSERT INTO %s (%s)
                    SELECT %s,
                           timezone('UTC', timezone(COALESCE(partner.tz, 'UTC'), %s::timestamp)),
                           %s
                      FROM %s rollup
                      JOIN res_company company ON company.id = rollup.company_id
                 LEFT JOIN res_partner partner ON partner.id = company.partner_id
                     WHERE %s
                  GROUP BY %s, COALESCE(partner.tz, 'UTC'), %s
                    """,
                    SQL.identifier(table),
                    SQL(", ").join(
                        SQL.identifier(name) for name in self._rollup_column_names(dimensions)
                    ),
                    SQL(", ").join(SQL.identifier("rollup", name) for name in dimensions),
                    month,
                    SQL(", ").join(
                        SQL("sum(%s)", SQL.identifier("rollup", name))
                        for name in columns
                        if name != "start_at"
                    ),
                    SQL.identifier(ROLLUP_TABLE),
                    where,
                    SQL(", ").join(SQL.identifier("rollup", name) for name in dimensions),
                    month,
                )
            )

    @api.model
    def _rollup_queue_calls(self, domain_sql):
        """Queue the days of the calls matching ``domain_sql`` (an SQL
        condition on ``c``) and of every call of their leads: a deletion, or a
        move to another day, company or lead, that no write date shows."""
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO %s (company_id, day)
                SELECT DISTINCT c.company_id,
                       timezone(COALESCE(partner.tz, 'UTC'), timezone('UTC', c.start_at))::date
                  FROM call_tracking_call c
                  JOIN res_company company ON company.id = c.company_id
             LEFT JOIN res_partner partner ON partner.id = company.partner_id
                 WHERE c.start_at IS NOT NULL
                   AND (%s OR c.lead_id IN (
                        SELECT c.lead_id FROM call_tracking_call c WHERE %s))
                """,
                SQL.identifier(QUEUE_TABLE),
                domain_sql,
                domain_sql,
            )
        )
