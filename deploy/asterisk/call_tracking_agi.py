#!/usr/bin/env python3
"""Odoo call tracking: report Asterisk calls (FreePBX, Issabel, MikoPBX...).

An AGI program (Python 3, standard library only). Asterisk runs it from the
dialplan; it reads the call from the channel variables and posts it to the
Odoo call tracking webhook as the generic JSON event, signed with the
provider's secret, then uploads the call's recording.

Install
    cp call_tracking_agi.py /var/lib/asterisk/agi-bin/ && chmod 755 it,
    then write /etc/asterisk/call_tracking.conf (readable by the asterisk
    user only: it holds the secret)::

        [call_tracking]
        ; the provider's Webhook URL, from Odoo (Call Tracking > Providers)
        webhook_url = https://crm.example.com/call_tracking/webhook/TOKEN
        ; the provider's signing secret
        secret = the-signing-secret
        ; optional:
        timeout = 10                 ; seconds per HTTP request
        upload_recordings = yes      ; upload the recorded file after the call
        max_recording_mb = 50        ; larger files are not uploaded
        recording_wait = 3           ; seconds to wait for MixMonitor to finish
        spool_dir = /var/spool/asterisk/call_tracking  ; undelivered events

Dialplan (see extensions_custom.conf.sample / extensions.conf.sample)
    ``AGI(call_tracking_agi.py,end)`` from a hangup handler of the inbound
    channel posts ``call_end``; ``AGI(call_tracking_agi.py,start)`` when
    the call arrives, or ``AGI(call_tracking_agi.py,answer)`` when it is
    answered (e.g. from ``Dial(...,U(...))``), posts ``call_start`` so the
    lead exists during the call. More AGI arguments: a config file path,
    or ``name=value`` pairs overriding the config file (``url=``,
    ``secret=``, ``config=``...).

Channel variables read (``GET VARIABLE`` / ``GET FULL VARIABLE``)
    call id     ``CT_CALL_ID`` (set with ``__CT_CALL_ID=${UNIQUEID}`` so the
                answered leg inherits it), else ``UNIQUEID``
    caller      ``CALLERID(num)``, else ``agi_callerid``
    DID         ``CT_DID``, ``FROM_DID`` (FreePBX), ``CALLERID(dnid)``,
                else ``agi_dnid`` / ``agi_extension``
    start       ``CT_START`` (epoch), else ``CDR(start,u)``
    answer      ``CDR(answer,u)`` (0 when unanswered)
    billsec     ``CDR(billsec)``; duration ``CDR(duration)``
    disposition ``CDR(disposition)``: ANSWERED, NO ANSWER, BUSY, FAILED,
                CONGESTION
    recording   ``CT_RECORDING``, else ``MIXMONITOR_FILENAME``

    The CDR is final (billsec, disposition) when hangup handlers run while
    cdr.conf keeps ``endbeforehexten`` at its default, ``yes``.

Protocol (Asterisk's AGI): Asterisk writes ``agi_name: value`` lines then a
blank line on standard input; the program writes one command per line on
standard output and reads ``200 result=1 (value)`` (``200 result=0``: the
variable is not set). On a hung-up channel, commands that need the channel
answer ``511``; those used here do not. A local AGI receives SIGHUP at
hangup: it is ignored (set ``AGISIGHUP=no`` too).

Requests
    ``POST <webhook_url>`` with the JSON event and the header
    ``X-Call-Tracking-Signature: sha256=<hex HMAC-SHA256 of the body>``;
    then ``POST <webhook_url>/recording/<call id>`` with the raw audio as the
    body, its ``Content-Type`` (audio/wav, audio/mpeg...) and the same
    signature header over the audio bytes. An event the server could not
    take (network error, HTTP 5xx or 429) is kept in ``spool_dir`` and sent
    again by the next run; a refusal (4xx: wrong secret...) is logged to the
    Asterisk console and not retried. The program always exits 0: the
    dialplan never fails because of it.
"""

import configparser
import hashlib
import hmac
import io
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from urllib.parse import quote

DEFAULT_CONFIG = "/etc/asterisk/call_tracking.conf"
SIGNATURE_HEADER = "X-Call-Tracking-Signature"
USER_AGENT = "call-tracking-agi/1.0"
DISPOSITIONS = {
    "ANSWERED": "answered",
    "NO ANSWER": "missed",
    "BUSY": "busy",
    "FAILED": "failed",
    "CONGESTION": "failed",
}
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".wav49": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".gsm": "audio/x-gsm",
    ".sln": "audio/l16",
}
SPOOL_FLUSH_MAX = 20  # spooled events sent again per run


class AgiError(Exception):
    pass


class Agi:
    """Asterisk's side of the conversation: the environment, then one
    command and one answer at a time."""

    def __init__(self, stdin=sys.stdin, stdout=sys.stdout):
        self.stdin = stdin
        self.stdout = stdout
        self.env = {}
        while True:
            line = self.stdin.readline()
            if not line:
                raise AgiError("standard input closed before the AGI environment ended")
            line = line.rstrip("\r\n")
            if not line:
                break
            name, _sep, value = line.partition(":")
            self.env[name.strip()] = value.strip()

    def command(self, text):
        """Send one command; return (code, result, value in parentheses)."""
        self.stdout.write(text + "\n")
        self.stdout.flush()
        while True:
            line = self.stdin.readline()
            if not line:
                raise AgiError(f"no answer to {text!r}")
            line = line.rstrip("\r\n")
            if line == "HANGUP":  # FastAGI's hangup notice: not an answer
                continue
            if line.startswith("520-"):  # usage text, ends with "520 End..."
                while line and not line.startswith("520 "):
                    line = self.stdin.readline().rstrip("\r\n")
                return 520, None, None
            break
        code, _sep, rest = line.partition(" ")
        if not code.isdigit():
            raise AgiError(f"unexpected answer {line!r}")
        result, value = None, None
        if rest.startswith("result="):
            result_text, _sep, tail = rest[len("result=") :].partition(" ")
            result = result_text
            if tail.startswith("(") and ")" in tail:
                value = tail[1 : tail.rindex(")")]
        return int(code), result, value

    def get(self, name):
        """A channel variable (``GET VARIABLE``), or None when unset."""
        code, result, value = self.command(f"GET VARIABLE {name}")
        return value if code == 200 and result == "1" else None

    def get_full(self, expression):
        """An expression (``GET FULL VARIABLE ${CDR(billsec)}``), or None."""
        code, result, value = self.command(f"GET FULL VARIABLE {expression}")
        return value if code == 200 and result == "1" else None

    def verbose(self, message, level=1):
        text = message.replace('"', "'").replace("\n", " ")
        try:
            self.command(f'VERBOSE "call_tracking: {text}" {level}')
        except AgiError:
            pass


def load_config(args):
    """The settings: the config file (first argument ending in .conf, or
    ``config=``, else the default), overridden by ``name=value`` arguments."""
    overrides = {}
    path = DEFAULT_CONFIG
    for arg in args:
        if "=" in arg:
            name, value = arg.split("=", 1)
            overrides[name.strip().lower()] = value.strip()
        elif arg.endswith(".conf"):
            path = arg
    path = overrides.pop("config", path)
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    settings = {}
    if os.path.exists(path):
        parser.read(path)
        if parser.has_section("call_tracking"):
            settings.update(parser.items("call_tracking"))
    settings.update(overrides)
    if "url" in settings and "webhook_url" not in settings:
        settings["webhook_url"] = settings.pop("url")
    return settings


def setting_int(settings, name, default):
    try:
        return int(settings.get(name, default))
    except (TypeError, ValueError):
        return default


def setting_bool(settings, name, default):
    value = str(settings.get(name, default)).strip().lower()
    return value in ("1", "yes", "true", "on")


def sign(secret, body):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def iso(epoch):
    """ISO 8601 UTC of a Unix time (seconds, possibly fractional), or None."""
    try:
        value = float(epoch)
    except (TypeError, ValueError):
        return None
    if value <= 0:
        return None
    return datetime.fromtimestamp(int(value), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_int(value):
    try:
        return max(int(float(value)), 0)
    except (TypeError, ValueError):
        return None


def first(*values):
    for value in values:
        if value not in (None, "", "unknown"):
            return value
    return None


def read_call(agi, mode):
    """The generic JSON event of the call, from the channel variables."""
    env = agi.env
    call_id = first(agi.get("CT_CALL_ID"), agi.get("UNIQUEID"), env.get("agi_uniqueid"))
    caller = first(agi.get_full("${CALLERID(num)}"), env.get("agi_callerid"))
    did = first(
        agi.get("CT_DID"),
        agi.get("FROM_DID"),
        agi.get_full("${CALLERID(dnid)}"),
        env.get("agi_dnid"),
        env.get("agi_extension"),
    )
    start = iso(first(agi.get("CT_START"), agi.get_full("${CDR(start,u)}")))
    event = {"call_id": call_id, "from": caller, "to": did, "start": start}
    if mode in ("start", "answer"):
        event["event"] = "call_start"
        if mode == "answer":
            event["answer"] = iso(time.time())
        return {key: value for key, value in event.items() if value is not None}, None
    answer = iso(agi.get_full("${CDR(answer,u)}"))
    billsec = to_int(agi.get_full("${CDR(billsec)}"))
    duration = to_int(agi.get_full("${CDR(duration)}"))
    disposition = (agi.get_full("${CDR(disposition)}") or "").strip().upper()
    status = DISPOSITIONS.get(disposition)
    if status is None:
        status = "answered" if billsec or answer else "missed"
    if duration is None and start:
        started = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        duration = max(int(time.time() - started.timestamp()), 0)
    event.update(
        event="call_end",
        answer=answer,
        duration=duration,
        talk_duration=billsec if status == "answered" else 0,
        status=status,
    )
    recording = first(agi.get("CT_RECORDING"), agi.get("MIXMONITOR_FILENAME"))
    return {key: value for key, value in event.items() if value is not None}, recording


class Poster:
    def __init__(self, settings, log):
        self.url = (settings.get("webhook_url") or "").rstrip("/")
        self.secret = settings.get("secret") or ""
        self.timeout = setting_int(settings, "timeout", 10)
        self.log = log

    def post(self, url, body, content_type):
        """POST ``body``: ``"ok"``, ``"retry"`` (worth sending again) or
        ``"refused"``."""
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": content_type,
                "User-Agent": USER_AGENT,
                SIGNATURE_HEADER: sign(self.secret, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(65536)
                return "ok"
        except urllib.error.HTTPError as exc:
            reason = exc.read(2048).decode("utf-8", "replace").strip()
            self.log(f"{url.rsplit('/', 1)[-1][:12]}...: HTTP {exc.code} {reason[:300]}")
            return "retry" if exc.code == 429 or exc.code >= 500 else "refused"
        except (urllib.error.URLError, OSError) as exc:
            self.log(f"cannot reach the webhook: {exc}")
            return "retry"


def content_type_of(path):
    return AUDIO_TYPES.get(os.path.splitext(path)[1].lower())


def wait_for_file(path, seconds):
    """Wait (at most ``seconds``) until MixMonitor stops writing ``path``."""
    deadline = time.monotonic() + seconds
    last = -1
    while True:
        try:
            size = os.path.getsize(path)
        except OSError:
            size = -1
        if size == last and size > 0:
            return True
        if time.monotonic() >= deadline:
            return size > 0
        last = size
        time.sleep(0.5)


def upload_recording(poster, settings, call_id, path, log):
    if not path or not setting_bool(settings, "upload_recordings", "yes"):
        return "ok"
    content_type = content_type_of(path)
    if not content_type:
        log(f"recording {path} skipped: not a known audio file type")
        return "refused"
    if not wait_for_file(path, setting_int(settings, "recording_wait", 3)):
        log(f"recording {path} not found or empty")
        return "refused"
    max_bytes = setting_int(settings, "max_recording_mb", 50) * 1024 * 1024
    if os.path.getsize(path) > max_bytes:
        log(f"recording {path} skipped: larger than max_recording_mb")
        return "refused"
    with open(path, "rb") as audio:
        body = audio.read()
    url = f"{poster.url}/recording/{quote(call_id, safe='')}"
    return poster.post(url, body, content_type)


def spool(settings, item, log):
    directory = settings.get("spool_dir") or "/var/spool/asterisk/call_tracking"
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = os.path.join(directory, f"{time.time():.6f}-{uuid.uuid4().hex}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(item, handle)
        os.replace(path + ".tmp", path)
        log(f"kept for a later try: {path}")
    except OSError as exc:
        log(f"cannot spool the event: {exc}")


def flush_spool(poster, settings, log):
    """Send again the events earlier runs could not deliver."""
    directory = settings.get("spool_dir") or "/var/spool/asterisk/call_tracking"
    try:
        names = sorted(name for name in os.listdir(directory) if name.endswith(".json"))
    except OSError:
        return
    for name in names[:SPOOL_FLUSH_MAX]:
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8") as handle:
                item = json.load(handle)
        except (OSError, ValueError):
            continue
        outcome = deliver(poster, settings, item, log, respool=False)
        if outcome == "retry":
            break  # still down: keep the rest for later
        try:
            os.remove(path)
        except OSError:
            pass


def deliver(poster, settings, item, log, respool=True):
    """Post the event, then upload its recording; spool what must be retried."""
    body = json.dumps(item["event"], separators=(",", ":")).encode()
    outcome = poster.post(poster.url, body, "application/json")
    if outcome == "ok" and item.get("recording"):
        outcome = upload_recording(
            poster, settings, item["event"]["call_id"], item["recording"], log
        )
    if outcome == "retry" and respool:
        spool(settings, item, log)
    return outcome


def main(argv=None):
    # a local AGI gets SIGHUP when the channel hangs up: the call is
    # reported all the same
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    argv = sys.argv[1:] if argv is None else argv
    try:
        # caller names may carry any bytes: never a decoding crash
        stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        agi = Agi(stdin=stdin, stdout=sys.stdout)
    except AgiError as exc:
        sys.stderr.write(f"call_tracking: {exc}\n")
        return 0
    try:
        return run(agi, argv)
    except Exception as exc:  # noqa: BLE001 - the dialplan must never fail because of us
        sys.stderr.write(f"call_tracking: unexpected error: {exc!r}\n")
        return 0


def run(agi, argv):
    # Asterisk gives the arguments both as argv and as agi_arg_1, agi_arg_2...
    numbered = [key for key in agi.env if key[8:].isdigit() and key.startswith("agi_arg_")]
    args = argv or [agi.env[key] for key in sorted(numbered, key=lambda k: int(k[8:]))]
    args = [arg for arg in args if arg]
    mode = (args[0] if args else "end").strip().lower()
    settings = load_config(args[1:])
    log = agi.verbose
    if mode not in ("start", "answer", "end"):
        log(f"unknown mode {mode!r}: use start, answer or end")
        return 0
    if not settings.get("webhook_url") or not settings.get("secret"):
        log("webhook_url and secret are not configured")
        return 0
    try:
        event, recording = read_call(agi, mode)
    except AgiError as exc:
        sys.stderr.write(f"call_tracking: {exc}\n")
        return 0
    if not event.get("call_id"):
        log("no call id (UNIQUEID) on the channel")
        return 0
    poster = Poster(settings, log)
    outcome = deliver(poster, settings, {"event": event, "recording": recording}, log)
    if outcome == "ok":
        log(f"{event['event']} of {event['call_id']} sent")
        flush_spool(poster, settings, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
