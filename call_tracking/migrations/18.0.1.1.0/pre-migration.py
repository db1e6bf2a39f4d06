"""18.0.1.1.0: the visitor's raw user agent is no longer kept.

Sessions recorded before it was dropped may still hold the whole string in
``call_tracking_session.user_agent``; only the device class, OS and browser
parsed from it are kept now, so the column goes with its contents.
"""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    cr.execute(SQL("ALTER TABLE call_tracking_session DROP COLUMN IF EXISTS user_agent"))
