"""A real HTTP server on loopback standing in for an ad platform.

Each request is recorded (method, path, query, headers, body); the answers
are queued by the test: ``(status, body)``, ``(status, body, delay)``
(seconds to wait first: a slow platform) or ``(status, body, delay,
headers)``. Without a queued answer it
answers 200 with ``default_body``.
"""

import json
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class StandIn:
    def __init__(self, default_body="{}"):
        self.requests = []
        self.answers = []
        self.default_body = default_body
        self.lock = threading.Lock()
        # a test holds its first ``hold`` requests until it sets ``gate``
        self.gate = threading.Event()
        self.hold = 0
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                with standin.lock:
                    standin.requests.append(
                        {
                            "method": self.command,
                            "path": split.path,
                            "query": parse_qs(split.query),
                            "headers": dict(self.headers.items()),
                            "body": body,
                        }
                    )
                    answer = standin.answers.pop(0) if standin.answers else None
                    held = standin.hold > 0
                    standin.hold -= held
                if held:
                    standin.gate.wait(30)
                answer = answer or (200, standin.default_body)
                status, text, delay, headers = answer + (0, {})[len(answer) - 2 :]
                if delay:
                    time.sleep(delay)
                data = text.encode() if isinstance(text, str) else text
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    # the client gave up (timeout)
                    self.close_connection = True

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, *answers):
        with self.lock:
            self.answers.extend(answers)

    def stop(self):
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def json_of(request):
        return json.loads(request["body"])

    @staticmethod
    def multipart(request):
        """{name: (filename, content type, bytes)} of a multipart/form-data body."""
        head = f"Content-Type: {request['headers']['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + request["body"])
        assert message.is_multipart(), "not a multipart body"
        parts = {}
        for part in message.iter_parts():
            parts[part.get_param("name", header="content-disposition")] = (
                part.get_filename(),
                part.get_content_type(),
                part.get_payload(decode=True),
            )
        return parts
