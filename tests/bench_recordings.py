"""Recordings fetched per second: the fetching cron against a loopback
stand-in serving a WAV file per call (a generic provider whose Recording
API URL is the stand-in), each file checked (size, audio bytes) and stored
as an attachment in the filestore.

    make bench                                  # with the other benchmarks
    pytest -m bench tests/bench_recordings.py -s

The calls are inserted in SQL, pending (the fetch is the subject, not the
webhook). The guard's system parameter opens the loopback for the run and
is restored after. Prints figures; never asserts timings.
"""

import importlib.util
import re
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import devlib

RECORDINGS = 200
SECONDS_OF_AUDIO = 10  # 8 kHz mono 16-bit: 160 KB per file
ALLOWED_PARAM = "call_tracking.outbound_allowed_networks"
LOG_LINE = re.compile(r"call_tracking: (\d+) recordings handled \((\d+) stored\) in ([\d.]+) s")


def _standin_module():
    path = ROOT / "call_tracking" / "tests" / "recording_standin.py"
    spec = importlib.util.spec_from_file_location("recording_standin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(server, recordings=RECORDINGS, echo=print):
    rpc = server.rpc
    module = _standin_module()
    standin = module.RecordingStandIn()
    wav = module.make_wav(SECONDS_OF_AUDIO)
    standin.route("/files/call.wav", 200, "audio/wav", wav)
    previous = rpc("ir.config_parameter", "get_param", ALLOWED_PARAM) or ""
    rpc("ir.config_parameter", "set_param", ALLOWED_PARAM, "127.0.0.0/8")
    try:
        company = rpc("res.users", "read", [rpc.uid], ["company_id"])[0]["company_id"][0]
        provider = rpc(
            "call.tracking.provider",
            "create",
            {"name": "Bench recordings", "recording_base_url": f"{standin.url}/files/"},
        )
        with devlib.pg_cursor(server.db) as cr:
            cr.execute(
                """
                INSERT INTO call_tracking_call
                    (provider_id, provider_call_id, company_id, status, start_at,
                     recording_url, recording_state, recording_attempts,
                     recording_next_try_at, create_date, write_date)
                SELECT %(provider)s, 'bench-rec-' || g, %(company)s, 'answered',
                       now() AT TIME ZONE 'UTC', %(url)s, 'pending', 0,
                       now() AT TIME ZONE 'UTC' - interval '1 minute',
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                  FROM generate_series(1, %(n)s) g
                """,
                {
                    "provider": provider,
                    "company": company,
                    "n": recordings,
                    "url": f"{standin.url}/files/call.wav",
                },
            )
        cron = rpc(
            "ir.model.data",
            "search_read",
            [
                ("module", "=", "call_tracking"),
                ("name", "=", "ir_cron_call_tracking_recording_fetch"),
            ],
            ["res_id"],
        )[0]["res_id"]
        domain = [("provider_id", "=", provider), ("recording_state", "=", "pending")]
        offset = Path(server.log_path).stat().st_size
        started = time.perf_counter()
        runs = 0
        while rpc("call.tracking.call", "search_count", domain) and runs < recordings:
            rpc("ir.cron", "method_direct_trigger", [cron])
            runs += 1
        elapsed = time.perf_counter() - started
        with open(server.log_path, encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            lines = LOG_LINE.findall(log.read())
        stored = rpc(
            "call.tracking.call",
            "search_count",
            [("provider_id", "=", provider), ("recording_state", "=", "done")],
        )
        megabytes = stored * len(wav) / 1e6
        echo(
            f"recordings: {stored}/{recordings} fetched from the loopback stand-in and stored "
            f"({len(wav)} bytes each, {megabytes:.1f} MB) in {elapsed:.2f} s over {runs} cron "
            f"runs: {stored / elapsed:.1f} recordings/s, {megabytes / elapsed:.1f} MB/s",
            flush=True,
        )
        inside = sum(float(s) for _n, _d, s in lines)
        done = sum(int(d) for _n, d, _s in lines)
        if inside:
            echo(
                f"inside the cron method: {done / inside:.1f} recordings/s "
                f"({done} stored in {len(lines)} batches)",
                flush=True,
            )
        return stored, elapsed
    finally:
        rpc("ir.config_parameter", "set_param", ALLOWED_PARAM, previous)
        standin.close()


@pytest.mark.bench
def test_bench_recordings(odoo_server):
    run(odoo_server)
