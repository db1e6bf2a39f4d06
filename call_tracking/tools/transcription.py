"""Speech to text on the company's own server, and phrase matching.

Plain functions and small engine classes with no database: the models hand
them audio bytes and settings, and store what they return.

- :func:`decode_audio` turns any recording (WAV, MP3, OGG, ...) into 16 kHz
  mono signed 16-bit PCM, what both engines read, with PyAV (FFmpeg's
  libraries, the package faster-whisper itself decodes with);
- :class:`PocketsphinxEngine` (CMU PocketSphinx, the US English model its
  wheel ships) and :class:`FasterWhisperEngine` (CTranslate2 Whisper from a
  model directory the administrator downloads once; language detected per
  call) both answer :meth:`transcribe` with a :class:`Transcript`;
- :func:`find_phrases` finds dictionary phrases in a transcript, word by word.

Engines are imported lazily: the module installs and runs without
faster-whisper, and :meth:`check` says what to install when it is missing.
"""

import os
import re
import unicodedata
from collections import namedtuple

SAMPLE_RATE = 16000
# s16 mono: two bytes per sample
BYTES_PER_SECOND = SAMPLE_RATE * 2

Segment = namedtuple("Segment", "start end text")
Transcript = namedtuple("Transcript", "text lang segments duration")


class TranscriptionError(Exception):
    """A recording that cannot be transcribed, with a reason for people."""


class EngineUnavailable(TranscriptionError):
    """The engine or its model is not installed; the message says what to install."""


def decode_audio(data):
    """16 kHz mono s16le PCM bytes of an encoded recording (any format FFmpeg reads).

    Raises :class:`TranscriptionError` for bytes that are no audio.
    """
    try:
        import av
    except ImportError as error:
        raise EngineUnavailable(
            "The Python package 'av' (PyAV) is missing: pip install av"
        ) from error
    import io

    chunks = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise TranscriptionError("The recording has no audio stream.")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(audio=0):
                chunks.extend(f.to_ndarray().tobytes() for f in resampler.resample(frame))
            chunks.extend(f.to_ndarray().tobytes() for f in resampler.resample(None))
    except av.error.FFmpegError as error:
        raise TranscriptionError(f"The recording cannot be decoded: {error}") from error
    pcm = b"".join(chunks)
    if not pcm:
        raise TranscriptionError("The recording holds no sound.")
    return pcm


class Engine:
    """One speech-to-text engine; subclasses set ``code`` and implement the two methods."""

    code = None

    def check(self):
        """Raise :class:`EngineUnavailable` saying what to install when the engine cannot run."""
        raise NotImplementedError

    def transcribe(self, pcm):
        """The :class:`Transcript` of 16 kHz mono s16le ``pcm``."""
        raise NotImplementedError


class PocketsphinxEngine(Engine):
    """CMU PocketSphinx with the US English acoustic and language models of its wheel."""

    code = "pocketsphinx"
    FRAMES_PER_SECOND = 100
    FILLERS = ("<s>", "</s>", "<sil>", "[NOISE]", "<unk>")

    def check(self):
        try:
            import pocketsphinx
        except ImportError as error:
            raise EngineUnavailable(
                "The Python package 'pocketsphinx' is missing: pip install pocketsphinx"
            ) from error
        model = pocketsphinx.get_model_path("en-us")
        if not os.path.isdir(model):
            raise EngineUnavailable(
                f"PocketSphinx's English model is missing ({model}): "
                "reinstall it with pip install --force-reinstall pocketsphinx"
            )

    def transcribe(self, pcm):
        self.check()
        from pocketsphinx import Decoder

        decoder = Decoder()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        segments = []
        words = []
        start = end = None
        for seg in decoder.seg():
            word = re.sub(r"\(\d+\)$", "", seg.word)
            if word in self.FILLERS or word.startswith("["):
                # a pause closes the segment
                if words:
                    segments.append(Segment(start, end, " ".join(words)))
                words = []
                continue
            if not words:
                start = round(seg.start_frame / self.FRAMES_PER_SECOND, 2)
            end = round((seg.end_frame + 1) / self.FRAMES_PER_SECOND, 2)
            words.append(word)
        if words:
            segments.append(Segment(start, end, " ".join(words)))
        text = " ".join(segment.text for segment in segments)
        return Transcript(text, "en", segments, len(pcm) / BYTES_PER_SECOND)


class FasterWhisperEngine(Engine):
    """Whisper through CTranslate2 on the CPU, from a local model directory.

    ``model_dir`` holds a CTranslate2 conversion of a Whisper model
    (``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.*``);
    nothing is ever downloaded at run time.
    """

    code = "faster_whisper"
    # one model per process and directory: loading takes seconds
    _models = {}

    def __init__(self, model_dir, compute_type="int8", threads=1):
        self.model_dir = model_dir
        self.compute_type = compute_type
        self.threads = threads

    def check(self):
        try:
            import faster_whisper  # noqa: F401
        except ImportError as error:
            raise EngineUnavailable(
                "The Python package 'faster-whisper' is missing: pip install faster-whisper"
            ) from error
        if not self.model_dir:
            raise EngineUnavailable(
                "No Whisper model directory is set: download a model once "
                "(see the administrator guide, docs/admin/transcription.rst) and enter its path."
            )
        if not os.path.isfile(os.path.join(self.model_dir, "model.bin")):
            raise EngineUnavailable(
                f"No Whisper model in {self.model_dir} (model.bin is missing): download one "
                "(see the administrator guide, docs/admin/transcription.rst)."
            )

    def _get_model(self):
        key = (self.model_dir, self.compute_type, self.threads)
        model = self._models.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            model = WhisperModel(
                self.model_dir,
                device="cpu",
                compute_type=self.compute_type,
                cpu_threads=self.threads,
                local_files_only=True,
            )
            self._models[key] = model
        return model

    def transcribe(self, pcm):
        self.check()
        import numpy

        audio = numpy.frombuffer(pcm, dtype=numpy.int16).astype(numpy.float32) / 32768.0
        # language=None: detected on the first 30 seconds of each call
        parts, info = self._get_model().transcribe(audio, language=None, beam_size=5)
        segments = [
            Segment(round(part.start, 2), round(part.end, 2), part.text.strip()) for part in parts
        ]
        text = " ".join(segment.text for segment in segments if segment.text)
        return Transcript(text, info.language, segments, len(pcm) / BYTES_PER_SECOND)


def get_engine(code, model_dir=None, threads=1):
    """The engine of ``code`` (``pocketsphinx`` or ``faster_whisper``)."""
    if code == PocketsphinxEngine.code:
        return PocketsphinxEngine()
    if code == FasterWhisperEngine.code:
        return FasterWhisperEngine(model_dir, threads=threads)
    raise EngineUnavailable(f"Unknown transcription engine: {code}")


def normalize_words(text):
    """Lower-case words of ``text``, accents kept, punctuation dropped, apostrophes kept."""
    text = unicodedata.normalize("NFKC", text or "").casefold().replace("’", "'")
    return re.findall(r"\w+(?:'\w+)*", text)


def find_phrases(text, phrases):
    """The phrases of ``phrases`` found in ``text`` as whole words, in order.

    A phrase matches when its words appear consecutively in the text's
    words (case, punctuation and spacing ignored): "price" matches "What's
    the PRICE?", but not "priceless".
    """
    words = normalize_words(text)
    joined = " " + " ".join(words) + " "
    found = []
    for phrase in phrases:
        key = " ".join(normalize_words(phrase))
        if key and f" {key} " in joined:
            found.append(phrase)
    return found
