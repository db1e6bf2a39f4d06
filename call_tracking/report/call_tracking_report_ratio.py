from odoo import api, models


class CallTrackingReportRatioMixin(models.AbstractModel):
    """Ratio measures of report models, computed from sums in ``read_group``.

    A ratio such as cost per call must be ``sum(cost) / sum(calls)`` in every
    cell of a pivot, never the average of per-row ratios. The model declares
    its ratios in ``_report_ratios``; the ratio columns of the SQL view only
    hold the per-row value (shown in the list view), and ``read_group`` —
    which the pivot, the graph and grouped lists all call — replaces the
    aggregated value with the ratio of the aggregated sums.
    """

    _name = "call.tracking.report.ratio.mixin"
    _description = "Call Tracking Report Ratios"

    # ((ratio field, numerator field, denominator field, factor), ...)
    _report_ratios = ()

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        definitions = {name: (num, den, factor) for name, num, den, factor in self._report_ratios}
        ratios, kept = [], []
        for spec in fields:
            fname = spec.split(":")[0].strip()
            if fname in definitions:
                ratios.append(fname)
            else:
                kept.append(spec)
        # ordering on a ratio is not SQL: sorted here (when every group is read)
        sql_order, ratio_order = [], []
        for term in (orderby or "").split(","):
            parts = term.split()
            if parts and parts[0] in definitions:
                ratio_order.append((parts[0], len(parts) > 1 and parts[1].lower() == "desc"))
                if parts[0] not in ratios:
                    ratios.append(parts[0])
            elif parts:
                sql_order.append(term.strip())
        if not ratios:
            return super().read_group(
                domain, fields, groupby, offset=offset, limit=limit, orderby=orderby, lazy=lazy
            )
        sums = []
        for fname in ratios:
            numerator, denominator, _factor = definitions[fname]
            for operand in (numerator, denominator):
                if operand not in sums:
                    sums.append(operand)
        specs = kept + [f"__ratio_{operand}:sum({operand})" for operand in sums]
        groups = super().read_group(
            domain,
            specs,
            groupby,
            offset=offset,
            limit=limit,
            orderby=",".join(sql_order),
            lazy=lazy,
        )
        for group in groups:
            for fname in ratios:
                numerator, denominator, factor = definitions[fname]
                den = group.get(f"__ratio_{denominator}") or 0.0
                num = group.get(f"__ratio_{numerator}") or 0.0
                group[fname] = num * factor / den if den else False
            for operand in sums:
                group.pop(f"__ratio_{operand}", None)
        if ratio_order and not offset and (not limit or len(groups) < limit):
            for fname, reverse in reversed(ratio_order):
                # groups without a ratio (no denominator) stay last either way
                with_ratio = [group for group in groups if group[fname] is not False]
                without = [group for group in groups if group[fname] is False]
                with_ratio.sort(key=lambda group, f=fname: group[f], reverse=reverse)
                groups = with_ratio + without
        return groups
