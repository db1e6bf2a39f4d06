"""The access matrix: create, read, write and unlink on every model of the
module, for every role, in two companies, against the documented policy.

The policy is the table of the repository's docs/developer/access-matrix.rst
(between the ``access-matrix`` comments): this test parses it, so the
documentation and the test cannot disagree silently. Every model the module
defines must have a row (a new model without one fails here), and every
cell is what the role may do on a record of its own company; a ``own``
suffix marks what it may do only on its own records (calls of its leads).
The last column is what a user of another company may do on those records,
whatever their role.

On a mismatch the failure prints the computed table, ready to paste into
docs/developer/access-matrix.rst once the change of policy is deliberate.
"""

import logging
import re
from pathlib import Path

from odoo import fields
from odoo.modules.module import get_module_path
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import BROWSER_UA, GOOGLE_ADS_URL, POOL, CallTrackingCommon

_logger = logging.getLogger(__name__)

# the page of the guide that holds the policy table
POLICY_PAGE = "docs/developer/access-matrix.rst"
OPERATIONS = ("create", "read", "write", "unlink")
# role -> groups (comma-separated xml ids); "public" is Odoo's public user
ROLES = {
    "public": None,
    "portal": "base.group_portal",
    "salesperson": "sales_team.group_sale_salesman",
    "sales manager": "sales_team.group_sale_manager",
    "CT admin": "base.group_user,call_tracking.call_tracking_group_manager",
    "Settings admin": "base.group_user,base.group_system",
}
OTHER_COMPANY = "other company"
MARK_BEGIN = ".. access-matrix-begin"
MARK_END = ".. access-matrix-end"


def _own_call(record, user):
    """A call becomes the user's own: its lead belongs to them."""
    record.sudo().write({"user_id": user.id})
    record.sudo().lead_id.write({"user_id": user.id})


# Models whose record rules give a role more on its own records: how to make
# the checked record the user's own.
OWN_RECORD = {
    "call.tracking.call": _own_call,
    "call.tracking.scorecard": lambda record, user: _own_call(record.call_id, user),
    "call.tracking.scorecard.line": lambda record, user: _own_call(
        record.scorecard_id.call_id, user
    ),
    # a journey step of one of the user's leads
    "call.tracking.journey": lambda record, user: record.lead_id.sudo().write({"user_id": user.id}),
}


def letters(allowed):
    """{'create', 'read'} -> 'cr' (in crud order); nothing -> '-'."""
    text = "".join(op[0] for op in OPERATIONS if op in allowed)
    return text or "-"


def cell(generic, own):
    if own is None or own == generic:
        return generic
    if generic == "-":
        return f"{own} own"
    return f"{generic}, {own} own"


def parse_policy(text):
    """The documented table between the markers: {model: {column: cell}}."""
    if MARK_BEGIN not in text or MARK_END not in text:
        raise ValueError(f"{POLICY_PAGE} has no {MARK_BEGIN} ... {MARK_END} block")
    block = text.split(MARK_BEGIN, 1)[1].split(MARK_END, 1)[0]
    lines = [line for line in block.splitlines() if line.strip()]
    borders = [i for i, line in enumerate(lines) if re.fullmatch(r"[= ]+", line)]
    if len(borders) != 3:
        raise ValueError("the access matrix must be one simple RST table")
    spans = [m.span() for m in re.finditer(r"=+", lines[borders[0]])]

    starts = [start for start, _end in spans]

    def split(line):
        bounds = zip(starts, [*starts[1:], None], strict=True)
        return [line[start:stop].strip() for start, stop in bounds]

    header = split(lines[borders[0] + 1])
    policy = {}
    for line in lines[borders[1] + 1 : borders[2]]:
        cols = split(line)
        policy[cols[0]] = dict(zip(header[1:], cols[1:], strict=True))
    return header, policy


def format_table(header, rows):
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    border = "  ".join("=" * w for w in widths)

    def fmt(row):
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([border, fmt(header), border, *[fmt(r) for r in rows], border])


@tagged("post_install", "-at_install")
class TestAccessMatrix(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        # one record of every model in the first company: a lease, a call
        # with its lead, a cost, a company reason, pool statistics; the
        # report views read them
        Session = env["call.tracking.session"]
        # a visitor's browser (a per-client lock row), and a crawler (a
        # refused-request counter)
        answer = Session._assign_number(
            cls.company, url=GOOGLE_ADS_URL, user_agent=BROWSER_UA, remote_addr="127.0.0.9"
        )
        assert answer["mode"] == "dynamic", answer
        Session._assign_number(
            cls.company, url=GOOGLE_ADS_URL, user_agent="curl/8.5.0", remote_addr="127.0.0.10"
        )
        # a destination whose trigger holds for the call below: a conversion
        env["call.tracking.destination"].create(
            {
                "name": "Matrix GA4",
                "company_id": cls.company.id,
                "kind": "ga4",
                "trigger": "call",
                "account_ref": "G-MATRIX12",
                "secret_input": "matrix-secret",
                "endpoint_url": "http://127.0.0.1:9/mp/collect",
            }
        )
        payload = {
            "event": "call_end",
            "call_id": "matrix-1",
            "from": "+12125550178",
            "to": POOL[0],
            "start": fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": 60,
            "talk_duration": 50,
            "status": "answered",
        }
        status, _content_type, body = cls._receive_signed(payload)
        assert status == 200, body
        env["call.tracking.cost"].create(
            {
                "channel_id": cls.channel_google.id,
                "date_from": "2026-01-01",
                "date_to": "2026-01-31",
                "amount": 100.0,
            }
        )
        env["call.tracking.quality.reason"].create(
            {"name": "Matrix reason", "company_id": cls.company.id}
        )
        # the call's keyword tag (a row of the tag report) and its scorecard
        call = env["call.tracking.call"].search([("provider_call_id", "=", "matrix-1")])
        call.tag_ids = env["call.tracking.tag"].create({"name": "Matrix tag"})
        env["call.tracking.scorecard"]._create_for_calls(call)
        env["call.tracking.pool.stat"]._refresh(cls.pool)
        # the staffing advice of the company, and an audience with a member
        # (the call's lead has its journey step)
        env["call.tracking.staffing"]._refresh(cls.company)
        audience = env["call.tracking.audience"].create(
            {"name": "Matrix audience", "company_id": cls.company.id, "platform": "google_ads"}
        )
        env["call.tracking.audience.member"].create(
            {"audience_id": audience.id, "phone_hash": "0" * 64}
        )
        env.flush_all()
        cls.role_users = {}
        for company, suffix in ((cls.company, ""), (cls.company_2, "_2")):
            for role, groups in ROLES.items():
                if groups is None and not suffix:
                    user = env.ref("base.public_user")
                else:
                    user = mail_new_test_user(
                        env,
                        login=f"matrix_{role.replace(' ', '_').lower()}{suffix}",
                        groups=groups or "base.group_public",
                        name=f"Matrix {role}{suffix}",
                        company_id=company.id,
                        company_ids=[company.id],
                    )
                cls.role_users[role, bool(suffix)] = user

    @classmethod
    def _module_models(cls):
        """Every model the module defines (not the ones it inherits), from
        ir.model: a new model is in the matrix whether it has a row or not."""
        env = cls.env
        model_ids = (
            env["ir.model.data"]
            .search([("module", "=", "call_tracking"), ("model", "=", "ir.model")])
            .mapped("res_id")
        )
        names = env["ir.model"].browse(model_ids).mapped("model")
        return sorted(
            name
            for name in names
            if name in env
            and env[name]._original_module == "call_tracking"
            and not env[name]._abstract
            and not env[name]._transient
        )

    def _record_of(self, model):
        Model = self.env[model].sudo()
        domain = [("company_id", "=", self.company.id)] if "company_id" in Model._fields else []
        record = Model.search(domain, limit=1)
        self.assertTrue(
            record,
            f"no {model} record of the first company in the fixture: create one in "
            "TestAccessMatrix.setUpClass (or the demo data)",
        )
        return record

    def _allowed(self, record, user):
        records = record.with_user(user).with_context(
            allowed_company_ids=user.company_ids.ids or [user.company_id.id]
        )
        return {op for op in OPERATIONS if records.has_access(op)}

    def _matrix(self):
        header = ["model", *ROLES, OTHER_COMPANY]
        rows = {}
        for model in self._module_models():
            record = self._record_of(model)
            row = [model]
            for role in ROLES:
                user = self.role_users[role, False]
                generic = letters(self._allowed(record, user))
                own = None
                if model in OWN_RECORD and role != "public":
                    with self.env.cr.savepoint() as savepoint:
                        OWN_RECORD[model](record, user)
                        own = letters(self._allowed(record, user))
                        savepoint.rollback()
                row.append(cell(generic, own))
            foreign = set()
            for role in ROLES:
                foreign |= self._allowed(record, self.role_users[role, True])
            row.append(letters(foreign))
            rows[model] = row
        return header, rows

    def test_access_matrix(self):
        readme = Path(get_module_path("call_tracking")).parent / POLICY_PAGE
        if not readme.exists():
            self.skipTest(f"{readme} is not here (the module was installed without its repo)")
        doc_header, policy = parse_policy(readme.read_text())
        header, rows = self._matrix()
        table = format_table(header, list(rows.values()))
        _logger.info("access matrix (computed):\n%s", table)
        self.assertEqual(doc_header, header, f"{POLICY_PAGE}: the access matrix has other columns")
        differences = []
        for model, row in rows.items():
            if model not in policy:
                differences.append(f"{model}: no row in {POLICY_PAGE}")
                continue
            for column, value in zip(header[1:], row[1:], strict=True):
                if policy[model][column] != value:
                    differences.append(
                        f"{model} / {column}: {POLICY_PAGE} says {policy[model][column]!r}, "
                        f"the module gives {value!r}"
                    )
        for model in set(policy) - set(rows):
            differences.append(f"{model}: in {POLICY_PAGE} but not a model of the module")
        self.assertFalse(
            differences,
            f"the access rights differ from {POLICY_PAGE}:\n"
            + "\n".join(differences)
            + "\n\ncomputed table:\n"
            + table,
        )

    def test_parse_policy_refuses_a_broken_table(self):
        with self.assertRaises(ValueError):
            parse_policy("no table here")
        _header, policy = parse_policy(
            f"{MARK_BEGIN}\n\n=====  ====\nmodel  a b\n=====  ====\nx.y    r own\n=====  ====\n\n"
            f"{MARK_END}\n"
        )
        self.assertEqual(policy, {"x.y": {"a b": "r own"}})

    def test_cells(self):
        self.assertEqual(letters({"unlink", "read"}), "ru")
        self.assertEqual(letters(set()), "-")
        self.assertEqual(cell("-", "r"), "r own")
        self.assertEqual(cell("r", "r"), "r")
        self.assertEqual(cell("r", "rw"), "r, rw own")
