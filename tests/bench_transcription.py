"""Transcription speed on this machine: the real-time factor.

espeak-ng says a caller's words (about 15 seconds of speech), PyAV decodes
them to 16 kHz mono PCM and PocketSphinx transcribes them, through the
module's own engine code (``call_tracking/tools/transcription.py``, loaded
without Odoo). The real-time factor is processing time over audio time: 0.1
means a minute of calls takes 6 seconds of one core. faster-whisper is
measured too when a model directory is given (``BENCH_WHISPER_MODEL_DIR``,
see docs/admin/transcription.rst); it is never downloaded here.

    make bench                                        # with the other benchmarks
    pytest -m bench tests/bench_transcription.py -s
    python tests/bench_transcription.py [--rounds 3] [--whisper-model-dir DIR]

Prints figures; never asserts timings.
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import time
from pathlib import Path

try:
    import pytest
except ImportError:  # standalone run without pytest
    pytest = None

TOOLS = Path(__file__).resolve().parent.parent / "call_tracking" / "tools" / "transcription.py"
WORDS = (
    "Good morning, thank you for calling. I would like to know the price of delivery "
    "to Kyiv. We can offer you a discount. I will call you back tomorrow."
)
ROUNDS = int(os.environ.get("BENCH_TRANSCRIPTION_ROUNDS", "3"))
LAST_LINE = "transcription real-time factor:"


def _load_tools():
    spec = importlib.util.spec_from_file_location("ct_transcription", TOOLS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _synthesize(text):
    espeak = shutil.which("espeak-ng")
    if not espeak:
        raise RuntimeError("espeak-ng is missing: apt-get install espeak-ng (scripts/setup.sh)")
    return subprocess.run(
        [espeak, "-v", "en-us+klatt", "-s", "130", "--stdout", text],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout


def _measure(tools, engine, wav, rounds, echo):
    """Best of ``rounds`` (seconds of decoding, seconds of recognition), and the transcript."""
    best = None
    for _round in range(rounds):
        started = time.perf_counter()
        pcm = tools.decode_audio(wav)
        decoded = time.perf_counter()
        result = engine.transcribe(pcm)
        done = time.perf_counter()
        timing = (decoded - started, done - decoded)
        if best is None or sum(timing) < sum(best):
            best = timing
    audio = len(pcm) / tools.BYTES_PER_SECOND
    rtf = sum(best) / audio
    echo(
        f"{engine.code}: {audio:.1f} s of audio, decoding {best[0] * 1000:.0f} ms, "
        f"recognition {best[1]:.2f} s (best of {rounds}): real-time factor {rtf:.3f}"
    )
    echo(f"  heard: {result.text!r} ({len(result.segments)} segments, language {result.lang})")
    return rtf


def run(rounds=ROUNDS, whisper_model_dir=None, echo=print):
    tools = _load_tools()
    wav = _synthesize(WORDS)
    echo(f"CPU cores: {os.cpu_count()}; said: {WORDS!r}")
    rtf = _measure(tools, tools.PocketsphinxEngine(), wav, rounds, echo)
    whisper_model_dir = whisper_model_dir or os.environ.get("BENCH_WHISPER_MODEL_DIR")
    whisper = tools.FasterWhisperEngine(whisper_model_dir)
    try:
        whisper.check()
    except tools.EngineUnavailable as error:
        echo(f"faster_whisper: not measured ({error})")
    else:
        # the first run loads the model: measured apart
        started = time.perf_counter()
        whisper._get_model()
        echo(f"faster_whisper: model loaded in {time.perf_counter() - started:.1f} s")
        _measure(tools, whisper, wav, rounds, echo)
    echo(f"{LAST_LINE} {rtf:.3f} (pocketsphinx, one core)")
    return rtf


if pytest:

    @pytest.mark.bench
    def test_bench_transcription():
        run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--whisper-model-dir")
    args = parser.parse_args()
    run(args.rounds, args.whisper_model_dir)


if __name__ == "__main__":
    main()
