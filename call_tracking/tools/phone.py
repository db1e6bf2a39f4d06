"""Phone numbers of the module, in one place.

Thin plain functions over Odoo's ``phone_validation`` (which wraps
``phonenumbers``): the tracking number configuration (strict), the webhooks'
caller and called numbers (lenient) and the website answer (display) all call
these, so every part reads and writes numbers the same way.
"""

import re

from odoo.exceptions import UserError
from odoo.tools import LazyTranslate

from odoo.addons.phone_validation.tools import phone_validation

_lt = LazyTranslate(__name__)

# A caller id longer than this is not a phone number; it is kept cut.
MAX_RAW_LENGTH = 64


def to_e164(number, country=None, raise_exception=False):
    """``number`` in E.164, read with ``country`` (a ``res.country`` record,
    possibly empty) as the default region.

    :return: the E.164 string; ``False`` when the number cannot be read,
      unless ``raise_exception``
    :raise UserError: when ``raise_exception`` and the number cannot be
      read; its message (phone_validation's, translated) names the number
      and the reason, e.g. "Impossible number 12345: not enough digits."
    """
    if not number:
        return False
    try:
        formatted = phone_validation.phone_format(
            number,
            (country and country.code) or None,
            (country and country.phone_code) or None,
            force_format="E164",
            raise_exception=True,
        )
    except UserError:
        if raise_exception:
            raise
        return False
    if not formatted.startswith("+"):
        # without the phonenumbers library phone_validation returns the input
        if raise_exception:
            raise UserError(
                _lt(
                    "Cannot check the phone number %s: the Python library phonenumbers "
                    "is not installed.",
                    number,
                )
            )
        return False
    return formatted


def caller_to_e164(number, country=None):
    """A number as a provider reports it (caller or called number), in
    E.164 when it can be read: with ``country`` as the default region, else
    as an international number whose ``+`` was dropped (``380441234567``,
    ``00380441234567``). An unreadable caller id (``anonymous``, a SIP URI) is
    kept as sent, stripped and cut, so that the call is still logged.

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
    formatted = to_e164(number, country)
    if formatted:
        return formatted
    digits = re.sub(r"\D", "", number)
    if number.startswith(("+", "00")) or len(digits) > 10:
        if number.startswith("00"):
            digits = digits.removeprefix("00")
        international = to_e164("+" + digits)
        if international:
            return international
    return number
