from odoo import models
from odoo.models import parse_read_group_spec
from odoo.tools import SQL


class CallTrackingReportRatioMixin(models.AbstractModel):
    """Ratio measures of report models, computed from sums in SQL.

    A ratio such as cost per call must be ``sum(cost) / sum(calls)`` in every
    cell of a pivot, never the average of per-row ratios. The model declares
    its ratios in ``_report_ratios``; the ratio columns of the SQL view only
    hold the per-row value (shown in the list view), and
    ``_read_group_select`` turns the ratio's aggregate into the ratio of the
    sums, as ``purchase.report`` does for its average price. Every grouped
    read (pivot, graph, grouped list, ``_read_group``, ``read_group``) and
    every ordering on a ratio goes through that one method.
    """

    _name = "call.tracking.report.ratio.mixin"
    _description = "Call Tracking Report Ratios"

    # {ratio field: (numerator fields, denominator fields, factor)}: the
    # ratio is factor * SUM(numerators) / SUM(denominators), NULL without a
    # denominator
    _report_ratios = {}

    def _read_group_select(self, aggregate_spec, query):
        fname, __, func = parse_read_group_spec(aggregate_spec)
        # "romi:avg" (the field's aggregator) or a bare "romi" (an ordering on
        # a ratio that is not among the requested measures)
        if fname not in self._report_ratios or func not in (None, "avg"):
            return super()._read_group_select(aggregate_spec, query)
        numerators, denominators, factor = self._report_ratios[fname]

        def total(fnames):
            return SQL(" + ").join(
                SQL("SUM(%s)", self._field_to_sql(self._table, name, query)) for name in fnames
            )

        return SQL(
            "(%s) * %s / NULLIF(%s, 0)",
            total(numerators),
            factor,
            total(denominators),
        )
