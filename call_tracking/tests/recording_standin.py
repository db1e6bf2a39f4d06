"""A real HTTP server on loopback standing in for providers' recording APIs
(Twilio's Recordings, Zadarma's pbx/record/request and its file links, a
generic recording host).

Each request is recorded (method, path, query, headers); the answers are
looked up by path: ``routes[path] = (status, content_type, body)`` or
``(status, content_type, body, delay)`` (seconds to wait first: a slow
provider). An unknown path answers 404 with a JSON error.
"""

import io
import math
import struct
import threading
import time
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def make_wav(seconds=1.0, rate=8000, frequency=440):
    """A small mono 16-bit WAV of a sine tone (what a call recording is)."""
    frames = int(seconds * rate)
    samples = (
        int(8000 * math.sin(2 * math.pi * frequency * index / rate)) for index in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))
    return buffer.getvalue()


# An MP3 as Twilio serves it starts with an ID3 tag (the bytes are checked,
# not decoded)
MP3_BYTES = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 2000


class RecordingStandIn:
    def __init__(self):
        self.requests = []
        self.routes = {}
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_GET(self):
                split = urlsplit(self.path)
                with standin.lock:
                    standin.requests.append(
                        {
                            "method": self.command,
                            "path": split.path,
                            "query": parse_qs(split.query),
                            "headers": dict(self.headers.items()),
                        }
                    )
                    answer = standin.routes.get(split.path)
                if answer is None:
                    answer = (404, "application/json", b'{"message": "Not found"}')
                status, content_type, body, delay = (*answer, 0)[:4]
                if delay:
                    time.sleep(delay)
                data = body.encode() if isinstance(body, str) else body
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path, status, content_type, body, delay=0):
        with self.lock:
            self.routes[path] = (status, content_type, body, delay)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
