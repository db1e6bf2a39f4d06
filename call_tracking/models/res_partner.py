from odoo import api, models, tools
from odoo.tools import SQL, create_index, index_exists

# Callers are matched on the last digits of a contact's phone or mobile, in
# whatever format it was typed ("+380 50 111-22-33", "050 111 22 33"), then
# checked by normalising the few candidates (call.tracking.call._find_partner).
PHONE_TAIL_DIGITS = 8
PHONE_FIELDS = ("phone", "mobile")
SANITIZED_INDEX = "res_partner_phone_sanitized_call_tracking_index"


def phone_tail_expression(fname):
    """The indexed expression: the last digits of a phone column, as text."""
    return (
        f"right(regexp_replace(({fname})::text, '[^0-9]'::text, ''::text, 'g'::text),"
        f" {PHONE_TAIL_DIGITS})"
    )


class ResPartner(models.Model):
    _inherit = "res.partner"

    def init(self):
        res = super().init()
        # Btree indexes keep the caller look-up of every new call-lead an
        # index scan instead of a regexp over all contacts.
        for fname in PHONE_FIELDS:
            create_index(
                self.env.cr,
                indexname=f"res_partner_{fname}_tail_call_tracking_index",
                tablename=self._table,
                expressions=[phone_tail_expression(fname)],
                where=f"{fname} IS NOT NULL",
            )
        # phone_sanitized (E.164, from phone_validation's phone mixin when a
        # module such as sms adds it to contacts) is not indexed by Odoo
        if "phone_sanitized" in self._fields:
            create_index(
                self.env.cr,
                indexname=SANITIZED_INDEX,
                tablename=self._table,
                expressions=["phone_sanitized"],
                where="phone_sanitized IS NOT NULL",
            )
        return res

    @api.model
    @tools.ormcache()
    def _call_tracking_sanitized_indexed(self):
        """Whether the caller look-up may use phone_sanitized (the column
        exists and is indexed; a module adding it after this one leaves it
        out until this module is updated)."""
        return "phone_sanitized" in self._fields and index_exists(self.env.cr, SANITIZED_INDEX)

    @api.model
    def _call_tracking_phone_candidates(self, digits, company, limit=20):
        """Active contacts of ``company`` (or shared) that may be the caller
        ``+<digits>``: their phone or mobile ends with the same last digits,
        or their sanitized number is the caller's. Ordered as the caller
        matching prefers them: sanitized number equal to the caller's first,
        then persons before companies, oldest first."""
        if not digits:
            return self.browse()
        fnames = [*PHONE_FIELDS, "company_id", "active", "is_company"]
        if "phone_sanitized" in self._fields:
            fnames.append("phone_sanitized")
        self.flush_model(fnames)
        rows = self.env.execute_query(self._call_tracking_phone_query(digits, company, limit))
        return self.browse(row[0] for row in rows)

    @api.model
    def _call_tracking_phone_query(self, digits, company, limit):
        tail = digits[-PHONE_TAIL_DIGITS:]
        if len(tail) == PHONE_TAIL_DIGITS:
            # the indexed form: same expression as the indexes of init()
            matches = [
                SQL(
                    "(%s IS NOT NULL AND %s = %s)",
                    SQL.identifier(fname),
                    SQL(phone_tail_expression(fname)),
                    tail,
                )
                for fname in PHONE_FIELDS
            ]
        else:
            # a very short international number: a suffix match (not indexed)
            matches = [
                SQL(
                    "regexp_replace(%s, '[^0-9]', '', 'g') LIKE %s",
                    SQL.identifier(fname),
                    "%" + tail,
                )
                for fname in PHONE_FIELDS
            ]
        number = "+" + digits
        first = SQL()
        if self._call_tracking_sanitized_indexed():
            # e.g. a number typed with an extension: its digits end otherwise
            matches.append(SQL("phone_sanitized = %s", number))
        if "phone_sanitized" in self._fields:
            first = SQL("phone_sanitized IS NOT DISTINCT FROM %s DESC,", number)
        return SQL(
            """
            SELECT id FROM res_partner
             WHERE active
               AND (company_id IS NULL OR company_id = %(company)s)
               AND (%(matches)s)
             ORDER BY %(first)s is_company, id
             LIMIT %(limit)s
            """,
            company=company.id,
            matches=SQL(" OR ").join(matches),
            first=first,
            limit=limit,
        )
