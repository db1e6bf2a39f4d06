from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.phone_validation.tools import phone_validation

from ..tools.phone import caller_to_e164, to_e164


@tagged("post_install", "-at_install")
class TestPhoneHelpers(TransactionCase):
    """The one place where the module reads and writes phone numbers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ukraine = cls.env.ref("base.ua")
        cls.usa = cls.env.ref("base.us")

    def test_to_e164(self):
        self.assertEqual(to_e164("044 123 4567", self.ukraine), "+380441234567")
        self.assertEqual(to_e164("(212) 555-0141", self.usa), "+12125550141")
        self.assertEqual(to_e164("+380 44 123 4567"), "+380441234567", "no country needed")
        self.assertEqual(to_e164("044 123 4567", self.usa), False, "not a US number")
        self.assertEqual(to_e164("", self.usa), False)
        with self.assertRaises(UserError) as catcher:
            to_e164("12345", self.usa, raise_exception=True)
        self.assertEqual(str(catcher.exception), "Impossible number 12345: not enough digits.")

    def test_to_e164_without_phonenumbers(self):
        # without the library phone_validation hands the input back
        with (
            patch.object(phone_validation, "phone_format", side_effect=lambda n, *a, **k: n),
            self.assertRaises(UserError) as catcher,
        ):
            to_e164("12345", self.usa, raise_exception=True)
        self.assertEqual(
            str(catcher.exception),
            "Cannot check the phone number 12345: the Python library phonenumbers "
            "is not installed.",
        )

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
