"""What a recording is, read from its bytes (never from a header alone).

The magic numbers are the maintained ``filetype`` library's
(https://github.com/h2non/filetype.py): WAV (``RIFF....WAVE``), MP3 (``ID3``
or an MPEG frame sync), OGG (``OggS``), FLAC (``fLaC``), M4A (``ftypM4A``),
AMR, AAC (ADTS) and AIFF. MIDI is audio to ``filetype`` but not a
recording: refused.
"""

import filetype

# filetype's MIME type -> (the type served to browsers, file extension)
AUDIO_TYPES = {
    "audio/x-wav": ("audio/wav", "wav"),
    "audio/mpeg": ("audio/mpeg", "mp3"),
    "audio/ogg": ("audio/ogg", "ogg"),
    "audio/x-flac": ("audio/flac", "flac"),
    "audio/mp4": ("audio/mp4", "m4a"),
    "audio/amr": ("audio/amr", "amr"),
    "audio/aac": ("audio/aac", "aac"),
    "audio/x-aiff": ("audio/aiff", "aiff"),
}
# the bytes filetype reads (its own signature window)
SNIFF_BYTES = 8192


def sniff_audio(content):
    """``(mimetype, extension)`` of the audio ``content`` (bytes) is, or
    None when its bytes are not a recording's format."""
    if not content:
        return None
    kind = filetype.audio_match(bytes(content[:SNIFF_BYTES]))
    return AUDIO_TYPES.get(kind.mime) if kind else None


def is_audio_content_type(content_type):
    """Whether a Content-Type header names audio (``audio/*``, or the
    generic ``application/octet-stream`` many servers send for files)."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    return mimetype.startswith("audio/") or mimetype in ("application/octet-stream", "")
