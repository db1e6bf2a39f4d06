"""Strict readers shared by the provider parsers: every malformed value
raises WebhookPayloadError (HTTP 400 with the reason), never a crash."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ..exceptions import WebhookPayloadError

MAX_STR = 255
MAX_URL = 2048
MAX_SECONDS = 7 * 24 * 3600  # a week: anything longer is not a phone call
MIN_YEAR, MAX_YEAR = 2000, 2100


def parse_str(env, data, key, required=False, max_len=MAX_STR):
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise WebhookPayloadError(env._("'%s' is missing.", key))
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise WebhookPayloadError(env._("'%s' must be a string.", key))
    value = str(value).strip()
    if "\x00" in value:
        raise WebhookPayloadError(env._("'%s' contains a NUL character.", key))
    if len(value) > max_len:
        raise WebhookPayloadError(
            env._("'%(key)s' is too long (maximum length: %(max)s).", key=key, max=max_len)
        )
    if required and not value:
        raise WebhookPayloadError(env._("'%s' is missing.", key))
    return value or None


def parse_int(env, data, key):
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise WebhookPayloadError(env._("'%s' must be a number of seconds.", key))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise WebhookPayloadError(env._("'%s' must be a number of seconds.", key))
    if not 0 <= value <= MAX_SECONDS:
        raise WebhookPayloadError(
            env._("'%(key)s' must be between 0 and %(max)s.", key=key, max=MAX_SECONDS)
        )
    return value


def to_naive_utc(env, key, value):
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise WebhookPayloadError(env._("'%s' is out of range.", key))
    return value.replace(microsecond=0)


def parse_datetime(env, data, key):
    """ISO 8601 (``2026-11-22T10:15:00Z``); without offset it is UTC."""
    value = parse_str(env, data, key, max_len=64)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise WebhookPayloadError(env._("'%s' is not an ISO 8601 date.", key)) from exc
    return to_naive_utc(env, key, parsed)


def parse_rfc2822(env, data, key):
    """RFC 2822 dates (``Mon, 16 Aug 2010 03:45:01 +0000``), as Twilio sends."""
    value = parse_str(env, data, key, max_len=64)
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise WebhookPayloadError(env._("'%s' is not an RFC 2822 date.", key)) from exc
    return to_naive_utc(env, key, parsed)


def parse_naive_local(env, data, key, tz):
    """``YYYY-MM-DD HH:MM:SS`` in the time zone ``tz`` (a tzinfo)."""
    value = parse_str(env, data, key, max_len=64)
    if value is None:
        return None
    try:
        parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise WebhookPayloadError(
            env._("'%s' must be a date as YYYY-MM-DD HH:MM:SS.", key)
        ) from exc
    return to_naive_utc(env, key, parsed.replace(tzinfo=tz))


def is_http_url(value):
    """Whether ``value`` is an absolute http(s) URL (the only URLs stored)."""
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def parse_url(env, data, key):
    value = parse_str(env, data, key, max_len=MAX_URL)
    if value is None:
        return None
    if not is_http_url(value):
        raise WebhookPayloadError(env._("'%s' must be an http(s) URL.", key))
    return value
