"""What Odoo's ``phone_validation`` lacks: caller ids that are not numbers.

Records read and write phone numbers with ``phone_validation``'s
``_phone_format`` / ``_phone_format_number``. A telephony provider reports
callers as it likes (``anonymous``, a SIP URI, an international number
without its ``+``), and a call must be logged whatever it sends: this module
reads those ids with ``phone_validation``'s own function and keeps what it
cannot read. It also holds the display format of the website's numbers.
"""

import re

import phonenumbers

from odoo.exceptions import UserError

from odoo.addons.phone_validation.tools import phone_validation

# A caller id longer than this is not a phone number; it is kept cut.
MAX_RAW_LENGTH = 64


def _e164(number, country):
    """``number`` in E.164 read with ``country`` as the default region, or
    ``False`` when phone_validation cannot read it."""
    try:
        return phone_validation.phone_format(
            number,
            (country and country.code) or None,
            (country and country.phone_code) or None,
            force_format="E164",
            raise_exception=True,
        )
    except UserError:
        return False


def caller_to_e164(number, country=None):
    """A number as a provider reports it (caller or called number), in
    E.164 when it can be read: with ``country`` (a ``res.country`` record,
    possibly empty) as the default region, else as an international number
    whose ``+`` was dropped (``380441234567``, ``00380441234567``). An
    unreadable caller id (``anonymous``, a SIP URI) is kept as sent, stripped
    and cut, so that the call is still logged.

    :return: the E.164 number, the kept raw value, or ``False`` when empty
    """
    if number is None or number is False or isinstance(number, bool):
        return False
    if not isinstance(number, (str, int)):
        return False
    number = str(number).strip()[:MAX_RAW_LENGTH]
    if not number:
        return False
    if not re.search(r"\d", number):
        return number
    formatted = _e164(number, country)
    if formatted:
        return formatted
    digits = re.sub(r"\D", "", number)
    if number.startswith(("+", "00")) or len(digits) > 10:
        if number.startswith("00"):
            digits = digits.removeprefix("00")
        international = _e164("+" + digits, None)
        if international:
            return international
    return number


# the caller of test calls when the country has no example number (a US
# number of the 555-01xx range reserved for fiction)
FALLBACK_TEST_CALLER = "+12125550199"


def example_caller(country_code=None):
    """An example mobile number of the country (ISO code), in E.164, from
    the phone number metadata (the numbers its documentation uses): the
    caller of test calls."""
    example = phonenumbers.example_number_for_type(
        (country_code or "US").upper(), phonenumbers.PhoneNumberType.MOBILE
    )
    if example is None:
        return FALLBACK_TEST_CALLER
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
