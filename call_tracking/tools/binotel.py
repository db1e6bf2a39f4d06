"""Binotel's formats, as plain functions (no database).

Followed Binotel's developer documentation (https://developers.binotel.ua/,
sections "WebHooks", "API CALL SETTINGS", "REST API: STATS") and the
field lists of the maintained client libraries that follow it
(github.com/sashalenz/binotel-api, github.com/denostr/binotel-api):

* webhooks are form-encoded POSTs keyed by ``requestType``:
  ``receivedTheCall`` (``generalCallID``, ``callType``, ``companyID``,
  ``externalNumber``, ``didNumber`` / ``pbxNumber``, ``internalNumber``),
  ``answeredTheCall``, ``hangupTheCall`` (``billsec``, ``disposition``) and
  ``apiCallCompleted`` with a ``callDetails`` array, sent as PHP encodes
  nested arrays (``callDetails[pbxNumberData][number]=...``);
* the REST API is ``POST https://api.binotel.com/api/4.0/<method>.json``
  with a JSON body carrying ``key`` and ``secret``; it answers
  ``{"status": "success", "callDetails": {<generalCallID>: {...}}}`` (or
  ``{"status": "error", "code": ..., "message": ...}``);
* ``callType`` is ``0`` for an incoming call, ``1`` for an outgoing one;
  ``startTime`` is a Unix timestamp; ``disposition`` one of ANSWER,
  TRANSFER, ONLINE, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL, VM,
  VM-SUCCESS, ...;
* Binotel does not sign its requests: the documentation's example serves
  requests "only from Binotel's servers", from the list of addresses below.
"""

import ipaddress
import re
from datetime import UTC, datetime

# Binotel's servers, as listed in the documentation's example
# (developers.binotel.ua, "API CALL SETTINGS": $listOfBinotelServers)
BINOTEL_SERVERS = (
    "194.88.218.116",
    "194.88.218.114",
    "194.88.218.117",
    "194.88.218.118",
    "194.88.219.67",
    "194.88.219.78",
    "194.88.219.70",
    "194.88.219.71",
    "194.88.219.72",
    "194.88.219.79",
    "194.88.219.80",
    "194.88.219.81",
    "194.88.219.82",
    "194.88.219.83",
    "194.88.219.84",
    "194.88.219.85",
    "194.88.219.86",
    "194.88.219.87",
    "194.88.219.88",
)
BINOTEL_API_URL = "https://api.binotel.com/api/4.0/"
# request types whose call is over: confirmed through the API
COMPLETION_TYPES = ("hangupTheCall", "apiCallCompleted")
PROGRESS_TYPES = ("receivedTheCall", "answeredTheCall")
INCOMING = "0"
# disposition -> call status
DISPOSITIONS = {
    "ANSWER": "answered",
    "TRANSFER": "answered",
    "ONLINE": "answered",
    "VM": "voicemail",
    "VM-SUCCESS": "voicemail",
    "BUSY": "busy",
    "NOANSWER": "missed",
    "CANCEL": "missed",
    "CONGESTION": "failed",
    "CHANUNAVAIL": "failed",
    "FAILED": "failed",
}
# the visit data of Binotel's own call tracking kept as a hint
TRACKING_KEYS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "gaClientId",
    "domain",
)
_KEY_PART = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 5
MAX_LIST_ITEMS = 1000


def parse_php_form(pairs):
    """A dict of the form ``pairs`` with PHP's bracket names nested
    (``a[b][c]=v`` -> ``{"a": {"b": {"c": "v"}}}``, ``a[]=v`` appends).
    Malformed or too deep names are kept flat; a later value wins."""
    result = {}
    for name, value in pairs:
        head, _sep, rest = name.partition("[")
        keys = _KEY_PART.findall("[" + rest) if rest else []
        if (
            not head
            or len(keys) > MAX_DEPTH
            or (rest and "".join(f"[{k}]" for k in keys) != "[" + rest)
        ):
            result[name] = value
            continue
        node = result
        path = [head, *keys]
        for index, key in enumerate(path):
            last = index == len(path) - 1
            if key == "":
                key = str(len(node)) if len(node) < MAX_LIST_ITEMS else str(MAX_LIST_ITEMS)
            if last:
                node[key] = value
            else:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = node[key] = {}
                node = child
    return result


def parse_allow_list(text):
    """The networks of an allow-list (addresses or CIDRs separated by
    commas, spaces or new lines) and the entries that are not addresses."""
    networks, invalid = [], []
    for entry in re.split(r"[\s,;]+", text or ""):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            invalid.append(entry)
    return networks, invalid


def address_allowed(address, networks):
    """Whether ``address`` (text) is in one of ``networks``."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def as_text(value, max_len=255):
    """A scalar of an API answer as text (None for anything else)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        value = str(int(value)) if float(value).is_integer() else str(value)
    if not isinstance(value, str):
        return None
    value = value.strip().replace("\x00", "")
    return value[:max_len] or None


def as_seconds(value):
    """A non-negative number of seconds (at most a week), or None."""
    text = as_text(value, 16)
    if text is None or not text.isdigit():
        return None
    seconds = int(text)
    return seconds if seconds <= 7 * 24 * 3600 else None


def as_utc(value):
    """A Unix timestamp as a naive UTC datetime (None when not one)."""
    text = as_text(value, 16)
    if text is None or not text.isdigit():
        return None
    try:
        moment = datetime.fromtimestamp(int(text), UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if 2000 <= moment.year <= 2100 else None


def tracking_hint(details):
    """The ``callTrackingData`` of call details as a small flat dict of
    text values (empty when there is none)."""
    data = details.get("callTrackingData") if isinstance(details, dict) else None
    if not isinstance(data, dict):
        return {}
    hint = {}
    for key in TRACKING_KEYS:
        value = as_text(data.get(key), 256)
        if value:
            hint[key] = value
    return hint


def called_number(details):
    """The tracked number a call reached: ``pbxNumberData.number`` (the
    company's number the caller dialled), else ``didNumber``."""
    pbx = details.get("pbxNumberData")
    if isinstance(pbx, dict) and as_text(pbx.get("number")):
        return as_text(pbx.get("number"))
    return as_text(details.get("didNumber")) or as_text(details.get("pbxNumber"))


def details_to_event(details):
    """The normalised ``call_end`` event of one call's ``callDetails`` as
    Binotel's API returns it, or None when it is not an incoming call or
    lacks its identity. Tolerates any shape (an API answer is input)."""
    if not isinstance(details, dict):
        return None
    call_id = as_text(details.get("generalCallID"), 64)
    if not call_id or as_text(details.get("callType")) not in (INCOMING, None):
        return None
    start = as_utc(details.get("startTime"))
    waitsec = as_seconds(details.get("waitsec")) or 0
    billsec = as_seconds(details.get("billsec")) or 0
    disposition = (as_text(details.get("disposition"), 32) or "").upper()
    status = DISPOSITIONS.get(disposition, "answered" if billsec else "missed")
    if status == "answered" and not billsec:
        status = "missed"
    event = {
        "event": "call_end",
        "call_id": call_id,
        "from": as_text(details.get("externalNumber")),
        "to": called_number(details),
        "start": start,
        "duration": waitsec + billsec,
        "talk_duration": billsec if status == "answered" else 0,
        "status": status,
    }
    hint = tracking_hint(details)
    if hint:
        event["provider_attribution"] = hint
    return event


def api_call_details(payload):
    """The list of call details dicts of an API answer (``callDetails`` is
    a dict keyed by call id, or a list); raises ValueError when the
    answer is not a success."""
    if not isinstance(payload, dict):
        raise ValueError("the answer is not a JSON object")  # noqa: TRY004
    if payload.get("status") != "success":
        message = as_text(payload.get("message"), 200) or as_text(payload.get("status"), 32)
        raise ValueError(f"the API answered: {message or 'no status'}")
    details = payload.get("callDetails")
    if isinstance(details, dict):
        return list(details.values())
    if isinstance(details, list):
        return details
    if details in (None, "", []):
        return []
    raise ValueError("callDetails is neither a list nor an object")
