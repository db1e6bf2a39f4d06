"""The one purge of the retention crons (sessions, webhook inbox,
conversions): a batch of old rows deleted per run, the cron re-triggered
while a full batch was deleted."""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)


def purge_batch(model, old, batch_size, label):
    """Delete the rows of ``model`` whose ids ``old`` selects (an ``SQL``
    query of one ``id`` column, aliased as it likes), at most ``batch_size``
    of them; return how many were deleted.

    The model is flushed first (the query reads its columns) and its cache
    invalidated after; ``ir.cron`` is told the progress, so that it runs the
    cron again soon when a full batch was deleted."""
    model.flush_model()
    rows = model.env.execute_query(
        SQL(
            """
            WITH old AS (%s LIMIT %s)
            DELETE FROM %s t USING old WHERE t.id = old.id
            RETURNING t.id
            """,
            old,
            batch_size,
            SQL.identifier(model._table),
        )
    )
    model.invalidate_model()
    done = len(rows)
    model.env["ir.cron"]._notify_progress(done=done, remaining=int(done == batch_size))
    _logger.info("call_tracking: purged %s %s", done, label)
    return done
