"""The Asterisk AGI program (deploy/asterisk/call_tracking_agi.py) run as
Asterisk runs it: a subprocess given the AGI environment on standard input
(``agi_*`` lines, then a blank line), whose commands (one per line on its
standard output) are answered as Asterisk answers them (``200 result=1
(value)``, ``200 result=0`` for an unset variable), against the live test
server; the recording upload against a loopback HTTP server."""

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from webhook_helpers import DEMO_GENERIC_SECRET, provider_token

ROOT = Path(__file__).resolve().parent.parent
AGI_PROGRAM = ROOT / "deploy" / "asterisk" / "call_tracking_agi.py"
UNKNOWN_NUMBER = "+380449990002"


def agi_environment(uniqueid, caller, did, args):
    """What Asterisk writes first (see Asterisk's AGI documentation)."""
    env = {
        "agi_request": "call_tracking_agi.py",
        "agi_channel": f"PJSIP/trunk-{uniqueid.replace('.', '')}",
        "agi_language": "en",
        "agi_type": "PJSIP",
        "agi_uniqueid": uniqueid,
        "agi_version": "20.5.0",
        "agi_callerid": caller,
        "agi_calleridname": "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": did,
        "agi_rdnis": "unknown",
        "agi_context": "call-tracking-hangup",
        "agi_extension": "s",
        "agi_priority": "2",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": "140045105510144",
    }
    for index, arg in enumerate(args, 1):
        env[f"agi_arg_{index}"] = arg
    return "".join(f"{name}: {value}\n" for name, value in env.items()) + "\n"


def run_agi(args, variables, env_args=None, timeout=60):
    """Run the program as Asterisk does; answer its commands from
    ``variables`` (name or ``${expression}`` -> value). Return the
    commands it sent and the VERBOSE messages."""
    uniqueid = variables.get("UNIQUEID", "1700000000.1")
    process = subprocess.Popen(
        [sys.executable, str(AGI_PROGRAM), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    process.stdin.write(
        agi_environment(
            uniqueid,
            variables.get("${CALLERID(num)}", "unknown"),
            variables.get("${CALLERID(dnid)}", "unknown"),
            env_args if env_args is not None else args,
        )
    )
    process.stdin.flush()
    commands, messages = [], []
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        command = line.rstrip("\n")
        commands.append(command)
        if command.startswith("GET VARIABLE "):
            value = variables.get(command[len("GET VARIABLE ") :])
        elif command.startswith("GET FULL VARIABLE "):
            value = variables.get(command[len("GET FULL VARIABLE ") :])
        elif command.startswith("VERBOSE "):
            messages.append(command)
            value = ""
        else:
            process.stdin.write("510 Invalid or unknown command\n")
            process.stdin.flush()
            continue
        answer = "200 result=0\n" if value is None else f"200 result=1 ({value})\n"
        if command.startswith("VERBOSE "):
            answer = "200 result=1\n"
        process.stdin.write(answer)
        process.stdin.flush()
        assert time.monotonic() < deadline, "the AGI program did not finish"
    process.stdin.close()
    assert process.wait(timeout=timeout) == 0
    stderr = process.stderr.read()
    process.stderr.close()
    process.stdout.close()
    assert not stderr, stderr
    return commands, messages


def channel(uniqueid, caller, did, answered=True, billsec=80, recording=None, **extra):
    now = time.time()
    variables = {
        "UNIQUEID": uniqueid,
        "CT_CALL_ID": uniqueid,
        "CT_DID": did,
        "${CALLERID(num)}": caller,
        "${CALLERID(dnid)}": did,
        "${CDR(start,u)}": f"{now - billsec - 10:.6f}",
        "${CDR(answer,u)}": f"{now - billsec:.6f}" if answered else "0.000000",
        "${CDR(billsec)}": str(billsec if answered else 0),
        "${CDR(duration)}": str(billsec + 10 if answered else 10),
        "${CDR(disposition)}": "ANSWERED" if answered else "NO ANSWER",
    }
    if recording:
        variables["MIXMONITOR_FILENAME"] = str(recording)
    variables.update(extra)
    return variables


def caller_number():
    return "+38050" + str(uuid.uuid4().int % 10**7).zfill(7)


def unique_id():
    return f"{int(time.time())}.{uuid.uuid4().int % 10**6}"


@pytest.fixture(scope="module")
def generic(rpc):
    return provider_token(rpc)


def _calls(rpc, provider_id, call_id):
    return rpc(
        "call.tracking.call",
        "search_read",
        [("provider_id", "=", provider_id), ("provider_call_id", "=", call_id)],
        fields=["status", "duration", "talk_duration", "caller_number", "called_number",
                "lead_id", "answer_at", "start_at"],
    )  # fmt: skip


def test_hangup_handler_reports_the_call(base_url, rpc, generic, tmp_path):
    """A call ending on the PBX: the program reads the channel variables
    over AGI and the call, with its lead, exists in Odoo."""
    provider_id, token = generic
    uniqueid, caller = unique_id(), caller_number()
    args = ["end", f"url={base_url}/call_tracking/webhook/{token}",
            f"secret={DEMO_GENERIC_SECRET}", f"spool_dir={tmp_path}"]  # fmt: skip
    commands, messages = run_agi(args, channel(uniqueid, caller, UNKNOWN_NUMBER, billsec=80))
    assert "GET VARIABLE CT_CALL_ID" in commands
    assert "GET FULL VARIABLE ${CDR(billsec)}" in commands
    assert any("call_end of" in message for message in messages), messages
    calls = _calls(rpc, provider_id, uniqueid)
    assert len(calls) == 1
    call = calls[0]
    assert call["status"] == "answered"
    assert call["talk_duration"] == 80
    assert call["duration"] == 90
    assert call["caller_number"] == caller
    assert call["called_number"] == UNKNOWN_NUMBER
    assert call["answer_at"]
    assert call["lead_id"], "the call has its lead"


def test_start_then_end_and_missed(base_url, rpc, generic, tmp_path):
    """The call_start option makes the call and its lead during the call;
    the hangup completes the same call. A call nobody answered is missed.
    The arguments may also come from the config file."""
    provider_id, token = generic
    config = tmp_path / "call_tracking.conf"
    config.write_text(
        "[call_tracking]\n"
        f"webhook_url = {base_url}/call_tracking/webhook/{token}\n"
        f"secret = {DEMO_GENERIC_SECRET}   ; the provider's secret\n"
        f"spool_dir = {tmp_path / 'spool'}\n"
    )
    uniqueid, caller = unique_id(), caller_number()
    variables = channel(uniqueid, caller, UNKNOWN_NUMBER, billsec=30)
    # as the answered leg runs it (Dial's U()): the inherited call id
    answered_leg = {**variables, "UNIQUEID": uniqueid + "9"}
    run_agi(["answer", str(config)], answered_leg)
    calls = _calls(rpc, provider_id, uniqueid)
    assert len(calls) == 1 and calls[0]["lead_id"]
    assert calls[0]["answer_at"]
    lead = calls[0]["lead_id"][0]
    # the arguments read from the agi_arg_N lines alone
    run_agi([], variables, env_args=["end", f"config={config}"])
    calls = _calls(rpc, provider_id, uniqueid)
    assert len(calls) == 1
    assert calls[0]["status"] == "answered"
    assert calls[0]["lead_id"][0] == lead
    missed_id = unique_id()
    run_agi(
        ["end", str(config)], channel(missed_id, caller_number(), UNKNOWN_NUMBER, answered=False)
    )
    missed = _calls(rpc, provider_id, missed_id)
    assert missed[0]["status"] == "missed"
    assert missed[0]["talk_duration"] == 0


def test_wrong_secret_is_refused_and_kept(base_url, rpc, generic, tmp_path):
    """A post signed with a wrong secret: 403, logged on the Asterisk
    console, kept in the inbox as rejected, no call; not spooled."""
    provider_id, token = generic
    domain = [("provider_id", "=", provider_id), ("state", "=", "rejected")]
    rejected_before = rpc("call.tracking.webhook.event", "search_count", domain)
    uniqueid = unique_id()
    args = ["end", f"url={base_url}/call_tracking/webhook/{token}", "secret=wrong-secret",
            f"spool_dir={tmp_path}"]  # fmt: skip
    _commands, messages = run_agi(args, channel(uniqueid, caller_number(), UNKNOWN_NUMBER))
    assert any("HTTP 403" in message for message in messages), messages
    assert not _calls(rpc, provider_id, uniqueid)
    assert rpc("call.tracking.webhook.event", "search_count", domain) == rejected_before + 1
    assert not list(tmp_path.iterdir()), "a refusal is not retried"


class WebhookStandIn:
    """A loopback stand-in of the webhook and its recording route: records
    each request; answers with the queued statuses, else 200."""

    def __init__(self):
        self.requests = []
        self.statuses = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                standin.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                status = standin.statuses.pop(0) if standin.statuses else 200
                data = b'{"status": "ok"}' if status == 200 else b'{"error": "down"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def standin():
    server = WebhookStandIn()
    yield server
    server.stop()


def _signed(request, secret):
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return request["headers"]["X-Call-Tracking-Signature"] == expected


def test_recording_upload_and_spool(standin, tmp_path):
    """The event, then the recorded file to <webhook>/recording/<call id>,
    raw audio with its content type, both signed with the secret; when the
    webhook is down the event is spooled and sent by the next run."""
    token = "tok" + uuid.uuid4().hex
    secret = "agi-secret"
    recording = tmp_path / "1700000000.42.wav"
    recording.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64)
    spool_dir = tmp_path / "spool"
    args = ["end", f"url={standin.url}/call_tracking/webhook/{token}", f"secret={secret}",
            f"spool_dir={spool_dir}", "recording_wait=1"]  # fmt: skip
    variables = channel("1700000000.42", "+380501112233", "+380441234567", recording=recording)
    run_agi(args, variables)
    event_request, upload = standin.requests
    assert event_request["path"] == f"/call_tracking/webhook/{token}"
    assert event_request["headers"]["Content-Type"] == "application/json"
    assert _signed(event_request, secret)
    event = json.loads(event_request["body"])
    assert event["event"] == "call_end"
    assert event["call_id"] == "1700000000.42"
    assert event["status"] == "answered"
    assert upload["path"] == f"/call_tracking/webhook/{token}/recording/1700000000.42"
    assert upload["headers"]["Content-Type"] == "audio/wav"
    assert upload["body"] == recording.read_bytes()
    assert _signed(upload, secret)

    # the webhook is down (503): kept in the spool, nothing lost
    standin.requests.clear()
    standin.statuses = [503]
    other = channel("1700000000.43", "+380501112244", "+380441234567")
    _commands, messages = run_agi(args, other)
    assert any("HTTP 503" in message for message in messages)
    assert len(list(spool_dir.glob("*.json"))) == 1
    # the next call's run sends it again
    standin.requests.clear()
    run_agi(args, channel("1700000000.44", "+380501112255", "+380441234567"))
    sent = [json.loads(request["body"])["call_id"] for request in standin.requests]
    assert sent == ["1700000000.44", "1700000000.43"]
    assert not list(spool_dir.glob("*.json"))


def test_not_configured_never_fails_the_dialplan(tmp_path):
    """No URL or secret: a console message, exit 0, no request."""
    _commands, messages = run_agi(
        ["end", str(tmp_path / "missing.conf")], channel(unique_id(), caller_number(), "100")
    )
    assert any("not configured" in message for message in messages)
