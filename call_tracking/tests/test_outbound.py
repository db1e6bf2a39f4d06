"""The guard of every request the server sends (tools/outbound.py), against
a real HTTP server on loopback."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from odoo.tests.common import TransactionCase, _super_send, tagged

from ..tools import outbound

SECRET = "s3cr3t-api-key-0123456789"


class _Server:
    """Answers by path: /ok, /big, /slow, /html-error, /json-error,
    /redirect?to=URL (302), /loop (302 to itself); records each request."""

    def __init__(self):
        self.seen = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def _answer(self, status, body=b"", headers=()):
                try:
                    self.send_response(status)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.seen.append((self.command, self.path, dict(self.headers.items()), body))
                path, _sep, query = self.path.partition("?")
                if path == "/ok":
                    self._answer(200, b'{"ok": true}', [("Content-Type", "application/json")])
                elif path == "/big":
                    self._answer(200, b"x" * 5000)
                elif path == "/slow":
                    time.sleep(1.5)
                    self._answer(200, b"late")
                elif path == "/html-error":
                    self._answer(500, f"<html>internal {SECRET}</html>".encode())
                elif path == "/json-error":
                    body = json.dumps({"error": {"message": "Invalid conversion action"}})
                    self._answer(400, body.encode(), [("Content-Type", "application/json")])
                elif path == "/redirect":
                    self._answer(302, headers=[("Location", query.removeprefix("to="))])
                elif path == "/loop":
                    self._answer(302, headers=[("Location", "/loop")])
                else:
                    self._answer(404)

            do_GET = _handle
            do_POST = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@tagged("post_install", "-at_install")
class TestOutbound(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = _Server()
        cls.addClassCleanup(cls.server.close)

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's tests block requests to other hosts than localhost and raise
        # short timeouts to 10 s; the guard pins every connection to an
        # address it checked (the loopback here), so let them through as sent.
        return _super_send(s, r, **kw)

    def setUp(self):
        super().setUp()
        self.server.seen.clear()

    def _allow(self, networks):
        self.env["ir.config_parameter"].sudo().set_param(outbound.ALLOWED_NETWORKS_PARAM, networks)

    def _request(self, method, url, **kwargs):
        return outbound.request(self.env, method, url, **kwargs)

    # ------------------------------------------------------------ refusals

    def test_internal_addresses_refused(self):
        self._allow("")
        for url in (
            "http://169.254.169.254/latest/meta-data/#",
            "http://127.0.0.1:8069/web/health?x=",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://172.16.0.1/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://224.0.0.1/",
            "http://localhost/",
        ):
            with self.subTest(url=url), self.assertRaises(outbound.ForbiddenDestination) as ctx:
                self._request("GET", url)
            self.assertIn("refused", ctx.exception.message)
            self.assertFalse(ctx.exception.retry)
        self.assertEqual(self.server.seen, [], "no refused request reached the server")

    def test_name_resolving_to_internal_address_refused(self):
        """A public-looking name is judged by the addresses it resolves to,
        every one of them."""
        self._allow("")
        answer = [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443)),
        ]
        with (
            patch.object(outbound.socket, "getaddrinfo", return_value=answer),
            self.assertRaises(outbound.ForbiddenDestination) as ctx,
        ):
            self._request("GET", "https://platform.example/collect")
        self.assertIn("10.0.0.7", ctx.exception.message)

    def test_other_schemes_and_credentials_refused(self):
        for url in ("file:///etc/passwd", "gopher://example.com/", "ftp://example.com/"):
            with self.subTest(url=url), self.assertRaises(outbound.ForbiddenDestination):
                self._request("GET", url)
        with self.assertRaises(outbound.ForbiddenDestination):
            self._request("GET", "http://user:pw@example.com/")

    def test_allowed_network_opens_the_loopback(self):
        self._allow("127.0.0.0/8")
        response = self._request("GET", f"{self.server.url}/ok", params={"a": "1"})
        self.assertEqual(response.json(), {"ok": True})
        method, path, headers, _body = self.server.seen[-1]
        self.assertEqual((method, path), ("GET", "/ok?a=1"))
        self.assertEqual(headers["Host"], f"127.0.0.1:{self.server.port}")

    def test_multipart_files(self):
        self._allow("127.0.0.0/8")
        self._request("POST", f"{self.server.url}/ok", files={"file": ("a.csv", b"phone\nabc\n")})
        _method, _path, headers, body = self.server.seen[-1]
        self.assertIn("multipart/form-data", headers["Content-Type"])
        self.assertIn(b'filename="a.csv"', body)
        self.assertIn(b"phone\nabc\n", body)

    def test_host_header_keeps_the_name(self):
        """The connection goes to the checked address; the server still sees
        the host name it was asked for."""
        self._allow("127.0.0.0/8")
        answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", self.server.port))]
        with patch.object(outbound.socket, "getaddrinfo", return_value=answer):
            self._request("POST", f"http://platform.example:{self.server.port}/ok", json={"a": 1})
        _method, _path, headers, body = self.server.seen[-1]
        self.assertEqual(headers["Host"], f"platform.example:{self.server.port}")
        self.assertEqual(json.loads(body), {"a": 1})

    # ------------------------------------------------------------ redirects

    def test_redirect_to_internal_address_refused(self):
        self._allow("127.0.0.1/32")
        target = "http://169.254.169.254/latest/meta-data/"
        with self.assertRaises(outbound.ForbiddenDestination):
            self._request("GET", f"{self.server.url}/redirect?to={target}")
        self.assertEqual(len(self.server.seen), 1)

    def test_redirect_followed_for_get_and_checked(self):
        self._allow("127.0.0.0/8")
        response = self._request(
            "GET",
            f"{self.server.url}/redirect?to={self.server.url}/ok",
            headers={"Authorization": "Bearer " + SECRET},
        )
        self.assertEqual(response.json(), {"ok": True})
        self.assertEqual(
            [seen[1] for seen in self.server.seen],
            ["/redirect?to=" + self.server.url + "/ok", "/ok"],
        )

    def test_redirect_drops_credentials_for_another_host(self):
        self._allow("127.0.0.0/8")
        real_getaddrinfo = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host == "other.example":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            return real_getaddrinfo(host, port, *args, **kwargs)

        other = f"http://other.example:{self.server.port}/ok"
        with patch.object(outbound.socket, "getaddrinfo", side_effect=getaddrinfo):
            self._request(
                "GET",
                f"{self.server.url}/redirect?to={other}",
                headers={"Authorization": "Bearer " + SECRET},
            )
        self.assertIn("Authorization", self.server.seen[0][2])
        self.assertEqual(self.server.seen[1][2]["Host"], f"other.example:{self.server.port}")
        self.assertNotIn("Authorization", self.server.seen[1][2])

    def test_redirect_of_a_post_not_followed(self):
        self._allow("127.0.0.0/8")
        with self.assertRaises(outbound.OutboundError) as ctx:
            self._request("POST", f"{self.server.url}/redirect?to=/ok", data=b"payload")
        self.assertIn("not followed", ctx.exception.message)
        self.assertEqual(len(self.server.seen), 1)

    def test_redirect_loop_stops(self):
        self._allow("127.0.0.0/8")
        with self.assertRaises(outbound.OutboundError) as ctx:
            self._request("GET", f"{self.server.url}/loop")
        self.assertIn("redirects", ctx.exception.message)
        self.assertEqual(len(self.server.seen), outbound.MAX_REDIRECTS + 1)

    # ------------------------------------------------------------ answers

    def test_answer_size_capped(self):
        self._allow("127.0.0.0/8")
        with self.assertRaises(outbound.OutboundError) as ctx:
            self._request("GET", f"{self.server.url}/big", max_bytes=1000)
        self.assertIn("larger than the limit", ctx.exception.message)
        self.assertEqual(len(self._request("GET", f"{self.server.url}/big").content), 5000)

    def test_error_answer_parsed_never_raw(self):
        self._allow("127.0.0.0/8")
        with self.assertRaises(outbound.OutboundError) as ctx:
            self._request("GET", f"{self.server.url}/json-error")
        self.assertEqual(ctx.exception.status, 400)
        self.assertFalse(ctx.exception.retry)
        self.assertIn("Invalid conversion action", ctx.exception.message)
        with self.assertRaises(outbound.OutboundError) as ctx:
            self._request("GET", f"{self.server.url}/html-error")
        self.assertEqual(ctx.exception.status, 500)
        self.assertTrue(ctx.exception.retry)
        self.assertNotIn("html", ctx.exception.message)
        self.assertNotIn(SECRET, ctx.exception.message)

    # ------------------------------------------------------------ failures

    def test_failures_name_no_secret(self):
        """Connection refused, DNS failure and timeout: the message says
        which, names the host, and holds no secret of the URL."""
        self._allow("127.0.0.0/8")
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
        closed.close()
        cases = (
            (f"http://127.0.0.1:{closed_port}/mp/collect?api_secret={SECRET}", "refused", {}),
            (f"http://no-such-host.invalid/mp/collect?api_secret={SECRET}", "not found", {}),
            (f"{self.server.url}/slow?api_secret={SECRET}", "timeout", {"timeout": 0.3}),
        )
        for url, word, kwargs in cases:
            with self.subTest(word=word), self.assertRaises(outbound.OutboundError) as ctx:
                self._request("GET", url, secrets=(SECRET,), **kwargs)
            self.assertIn(word, ctx.exception.message)
            self.assertTrue(ctx.exception.retry)
            self.assertNotIn(SECRET, ctx.exception.message)
            self.assertNotIn(SECRET, str(ctx.exception))
            self.assertNotIn("api_secret", ctx.exception.message)

    def test_redact(self):
        self.assertEqual(outbound.redact(f"key={SECRET}&x", (SECRET, "", None)), "key=***&x")
        self.assertEqual(outbound.redact(None, (SECRET,)), "")

    def test_allowed_networks_parameter_ignores_junk(self):
        self._allow("127.0.0.0/8, not-a-network ,::1")
        self.assertEqual(
            [str(n) for n in outbound.allowed_networks(self.env)], ["127.0.0.0/8", "::1/128"]
        )
