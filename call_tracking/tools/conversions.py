"""Formats of the ad platforms' conversion uploads, as plain functions.

No database here: the destination kinds (``call.tracking.destination``)
build their payloads with these functions, and the tests check them
directly. Each function names the platform document it follows; README.rst
("Conversions to ad platforms") lists them.
"""

import csv
import hashlib
import io
import re
from datetime import UTC, datetime

# GA4 event collection limits (Google Analytics help, "[GA4] Event collection
# limits"): names up to 40 characters (letters, digits, underscores, starting
# with a letter), parameter values up to 100 characters, 25 parameters.
GA4_NAME_MAX = 40
GA4_VALUE_MAX = 100
GA4_PARAMS_MAX = 25
_GA4_NAME_BAD = re.compile(r"[^A-Za-z0-9_]")

# GS1.1.<session id>.<count>... (older) and GS2.1.s<session id>$o<count>$...
# (newer): the session id is the first number after the version fields.
_GA_SESSION_RE = re.compile(r"^GS\d+\.\d+\.s?(\d+)")
_GA_CLIENT_RE = re.compile(r"^GA\d+\.\d+\.(\d+\.\d+)$")

# Google Ads offline click conversions, scheduled upload template
# (Google Ads help 7014069, "Import conversions from ad clicks")
GOOGLE_ADS_HEADER = (
    "Google Click ID",
    "Conversion Name",
    "Conversion Time",
    "Conversion Value",
    "Conversion Currency",
)
GOOGLE_ADS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Yandex Metrica, "Sending call data" (management API upload_calls)
YANDEX_CALL_COLUMNS = (
    "DateTime",
    "StaticCall",
    "PhoneNumber",
    "TalkDuration",
    "HoldDuration",
    "CallMissed",
    "FirstTimeCaller",
    "Tag",
    "URL",
)


def ga4_name(text, fallback="call_conversion"):
    """A GA4 event or parameter name: letters, digits and underscores,
    starting with a letter, at most 40 characters."""
    name = _GA4_NAME_BAD.sub("_", (text or "").strip())
    if not name or not name[0].isalpha():
        name = fallback if not name else f"e_{name}"
    return name[:GA4_NAME_MAX]


def ga4_params(params):
    """Event parameters within GA4's limits: valid names, string values cut
    to 100 characters, empty values dropped, at most 25 parameters."""
    result = {}
    for key, value in params.items():
        if value is None or value is False or value == "":
            continue
        if isinstance(value, str):
            value = value[:GA4_VALUE_MAX]
        result[ga4_name(key)] = value
        if len(result) == GA4_PARAMS_MAX:
            break
    return result


def parse_ga_client_id(value):
    """The client id of a ``_ga`` cookie (``GA1.1.123.456`` -> ``123.456``);
    a bare ``123.456`` is kept; anything else gives ''."""
    value = (value or "").strip()
    match = _GA_CLIENT_RE.match(value)
    if match:
        return match.group(1)
    return value if re.fullmatch(r"\d+\.\d+", value) else ""


def parse_ga_session_id(value):
    """The session id of a ``_ga_<measurement id>`` cookie, in the older
    ``GS1.1.<session>.…`` or the newer ``GS2.1.s<session>$…`` format; a bare
    number is kept; anything else gives ''."""
    value = (value or "").strip()
    if value.isdigit():
        return value
    match = _GA_SESSION_RE.match(value)
    return match.group(1) if match else ""


def unix_seconds(dt):
    """A naive UTC datetime as Unix seconds."""
    return int(dt.replace(tzinfo=UTC).timestamp())


def unix_micros(dt):
    return unix_seconds(dt) * 1_000_000 + dt.microsecond


def meta_phone_hash(e164):
    """``user_data.ph`` of the Meta Conversions API: SHA-256 (hex) of the
    number normalised to digits only, country code included, no ``+``
    (Meta, "Customer Information Parameters")."""
    digits = re.sub(r"\D", "", e164 or "")
    if not digits:
        return ""
    return hashlib.sha256(digits.encode()).hexdigest()


def meta_fbc(fbc_cookie, fbclid, click_time):
    """The ``fbc`` of the Meta Conversions API: the ``_fbc`` cookie when the
    visit carried one, else built from the landing page's ``fbclid`` as
    ``fb.1.<creation time in ms>.<fbclid>`` (Meta, "ClickID and the fbp and
    fbc Parameters"); the click id is kept as is (case-sensitive)."""
    if fbc_cookie and fbc_cookie.startswith("fb."):
        return fbc_cookie
    if not fbclid or not click_time:
        return ""
    return f"fb.1.{unix_seconds(click_time) * 1000}.{fbclid}"


# a spreadsheet reads a cell starting with one of these as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text_cell(value):
    """A text cell safe to open in a spreadsheet: a value starting like a
    formula is prefixed with an apostrophe (OWASP, "CSV Injection")."""
    value = "" if value is None else str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def google_ads_csv(timezone, rows):
    """The scheduled-upload CSV of Google Ads offline click conversions:
    the ``Parameters:TimeZone=`` line, then the template's header, then one
    line per conversion, its text cells escaped (:func:`csv_text_cell`).
    ``rows``: (click id, conversion name, conversion time as an aware
    datetime in ``timezone``, value or None, currency)."""
    out = io.StringIO()
    out.write(f"Parameters:TimeZone={timezone}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GOOGLE_ADS_HEADER)
    for click_id, name, when, value, currency in rows:
        writer.writerow(
            [
                # the click id comes from the visitor's URL, the name from a user
                csv_text_cell(click_id),
                csv_text_cell(name),
                when.strftime(GOOGLE_ADS_TIME_FORMAT),
                "" if value is None else f"{value:.2f}",
                currency if value is not None else "",
            ]
        )
    return out.getvalue()


def yandex_calls_csv(id_column, rows):
    """The CSV of Yandex Metrica's ``upload_calls``: the column names on the
    first line; ``id_column`` is ``ClientId`` or ``Yclid``; ``Price`` and
    ``Currency`` only when some row has a value. ``rows``: dicts with the
    identifier under ``id`` and the other columns by name."""
    with_price = any(row.get("Price") is not None for row in rows)
    columns = (id_column, *YANDEX_CALL_COLUMNS) + (("Price", "Currency") if with_price else ())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        line = [row["id"]]
        for column in columns[1:]:
            value = row.get(column)
            line.append("" if value is None else value)
        writer.writerow(line)
    return out.getvalue()


def backoff_seconds(attempts, base=60, cap=6 * 3600):
    """Exponential back-off before the next try: 1, 2, 4... minutes, at most
    six hours."""
    return min(base * 2 ** max(attempts - 1, 0), cap)


def clip_answer(text, limit=4000):
    """A platform's answer as stored: any shape, cut to ``limit``."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text)[:limit]


def now_utc():
    return datetime.now(UTC).replace(tzinfo=None)
