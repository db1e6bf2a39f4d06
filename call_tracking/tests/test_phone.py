from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..tools.phone import caller_to_e164
from .common import CallTrackingCommon


@tagged("post_install", "-at_install")
class TestPhoneHelpers(CallTrackingCommon):
    """Numbers the module stores (phone_validation's ``_phone_format_number``)
    and caller ids as providers send them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ukraine = cls.env.ref("base.ua")
        cls.usa = cls.env.ref("base.us")

    def test_tracking_number_in_e164(self):
        """Tracking, fallback and default numbers are read with the country
        of their company as the default region."""
        normalise = self.env["call.tracking.number"]._normalise_number
        company = self.company
        self.assertEqual(normalise("044 123 4567", company, country=self.ukraine), "+380441234567")
        self.assertEqual(normalise(" (212) 555-0141 ", company, country=self.usa), "+12125550141")
        self.assertEqual(normalise("+380 44 123 4567", company, country=self.usa), "+380441234567")
        self.assertFalse(normalise("", company))
        with self.assertRaises(ValidationError):
            normalise("044 123 4567", company, country=self.usa)  # not a US number

    def test_invalid_tracking_number_message(self):
        """The number's error reads as one sentence naming it once, with the
        reason."""
        with self.assertRaises(ValidationError) as catcher:
            self.env["call.tracking.number"]._normalise_number(
                "12345", self.env.company, country=self.usa
            )
        self.assertEqual(
            str(catcher.exception),
            "The tracking number is not a valid phone number. "
            "Impossible number 12345: not enough digits.",
        )

    def test_caller_to_e164(self):
        for raw, expected in (
            ("0441234567", "+380441234567"),  # national, the company's country
            ("380441234567", "+380441234567"),  # international without its +
            ("00380441234567", "+380441234567"),
            ("+380 (44) 123-45-67", "+380441234567"),
            (380441234567, "+380441234567"),
            ("anonymous", "anonymous"),  # kept: the call is still logged
            ("  sip:42@pbx  ", "sip:42@pbx"),
            ("1" * 100, "1" * 64),
            ("", False),
            (None, False),
            (True, False),
            (["+380441234567"], False),
        ):
            with self.subTest(raw=raw):
                self.assertEqual(caller_to_e164(raw, self.ukraine), expected)

    def test_caller_partner_in_query_order(self):
        """The caller's contact is the first of one ordered query that is
        the caller: sanitized number equal to the caller's first (when
        contacts have one), then persons before companies, oldest first. A
        look-alike (same last digits, another country) is skipped, never
        reordered."""
        self.env.company.country_id = self.ukraine
        Partner = self.env["res.partner"]
        lookalike = Partner.create({"name": "Lookalike", "phone": "+1 650 111 2233"})
        acme = Partner.create({"name": "ACME", "is_company": True, "phone": "050 111 22 33"})
        zed = Partner.create({"name": "Zed", "phone": "+380 50 111 22 33"})
        adam = Partner.create({"name": "Adam", "mobile": "0501112233"})
        candidates = Partner._call_tracking_phone_candidates("380501112233", self.env.company)
        if "phone_sanitized" in Partner._fields:
            expected = zed | adam | acme | lookalike
        else:
            expected = lookalike | zed | adam | acme
        self.assertEqual(candidates.ids, expected.ids)
        call = self.env["call.tracking.call"].create(
            {
                "provider_id": self.provider.id,
                "provider_call_id": "phone-1",
                "company_id": self.env.company.id,
                "caller_number": "+380501112233",
            }
        )
        # Adam sorts first by name: the query's order (oldest first) decides
        self.assertEqual(call._find_partner(), zed)
        zed.active = False
        self.assertEqual(call._find_partner(), adam)
        adam.active = False
        self.assertEqual(call._find_partner(), acme)
        acme.active = False
        self.assertFalse(call._find_partner())
