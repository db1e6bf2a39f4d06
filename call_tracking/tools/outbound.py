"""The one way the server sends an HTTP request: :func:`request`.

Ad platforms, audiences, recordings, provider APIs and reconciliation all
call it, so that no setting a user can write makes the server contact the
company's internal network (SSRF) or leak a credential into a stored text:

* the host is resolved once and **every** address it resolves to must be a
  public one: loopback, private, link-local (cloud metadata services such
  as ``169.254.169.254``), shared, multicast, reserved and unspecified
  addresses are refused, unless the system parameter
  ``call_tracking.outbound_allowed_networks`` (comma-separated networks,
  e.g. ``127.0.0.0/8``, for the tests' loopback stand-ins) lists them;
* the connection goes to the address that was checked (the host name is
  kept for TLS and the ``Host`` header), so a second DNS answer cannot
  swap in an internal address;
* redirects are followed only for GET and HEAD, at most
  :data:`MAX_REDIRECTS`, each hop checked again; a redirect of any other
  method is an error (a POST's body and credentials never go elsewhere);
* environment proxies are ignored (a proxy would connect by name);
* the answer is read up to ``max_bytes`` and refused past it;
* every failure raises :class:`OutboundError` whose ``message`` names the
  host and the kind of failure, never a URL's query string, an exception's
  raw text or a raw answer body, and has ``secrets`` replaced by ``***``.
  A non-2xx answer keeps the response on the error (``exc.response``) for
  the caller's own parsing; its ``message`` carries only the status and the
  platform's parsed error (:func:`parsed_error`).
"""

import ipaddress
import json
import logging
import re
import socket
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

_logger = logging.getLogger(__name__)

ALLOWED_NETWORKS_PARAM = "call_tracking.outbound_allowed_networks"
DEFAULT_TIMEOUT = 10
DEFAULT_MAX_BYTES = 2_000_000
MAX_REDIRECTS = 3
REDIRECT_CODES = frozenset((301, 302, 303, 307, 308))
ERROR_TEXT_MAX = 300
_CHUNK = 65536


class OutboundError(Exception):
    """A request that failed: ``message`` (redacted, safe to store and
    show), ``retry`` (worth trying again later: timeouts, connection
    errors, 429 and 5xx), ``status`` (the HTTP status, if one came back)
    and ``response`` (the capped response of a non-2xx answer)."""

    def __init__(self, message, retry=False, status=None, response=None):
        super().__init__(message)
        self.message = message
        self.retry = retry
        self.status = status
        self.response = response


class ForbiddenDestination(OutboundError):
    """The URL is not one the server may contact (never worth a retry)."""

    def __init__(self, message):
        super().__init__(message, retry=False)


def redact(text, secrets=()):
    """``text`` with every non-empty secret replaced by ``***``."""
    text = text or ""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(str(secret), "***")
    return text


def allowed_networks(env):
    """The networks the system parameter opens despite being internal."""
    value = env["ir.config_parameter"].sudo().get_param(ALLOWED_NETWORKS_PARAM) or ""
    networks = []
    for item in value.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            _logger.warning("%s: %r is not a network, ignored", ALLOWED_NETWORKS_PARAM, item)
    return tuple(networks)


def is_internal(address):
    """Whether an IP address is not a public internet address."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_unspecified
    )


def _split(url):
    """``(scheme, host, port)`` of an http(s) URL, or ForbiddenDestination."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        raise ForbiddenDestination("the URL cannot be read") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ForbiddenDestination("only http and https URLs are allowed")
    host = parts.hostname
    if not host:
        raise ForbiddenDestination("the URL has no host")
    if parts.username or parts.password:
        raise ForbiddenDestination("credentials in the URL are not allowed")
    return scheme, host, port or (443 if scheme == "https" else 80)


def resolve(env, url, networks=None):
    """Check ``url`` and return ``(scheme, host, port, address)``: the
    address to connect to. Raise ForbiddenDestination for a URL the server
    may not contact, OutboundError (retry) when the name does not resolve."""
    scheme, host, port = _split(url)
    if networks is None:
        networks = allowed_networks(env)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise OutboundError(f"{host}: host name not found", retry=True) from None
    addresses = list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))
    if not addresses:
        raise OutboundError(f"{host}: host name not found", retry=True)
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if is_internal(address) and not any(ip in network for network in networks):
            _logger.warning("outbound request to %s refused: internal address %s", host, address)
            raise ForbiddenDestination(
                f"{host}: internal address {address} refused (the server only contacts "
                "public internet addresses)"
            )
    return scheme, host, port, addresses[0]


def check_url(env, url):
    """Raise ForbiddenDestination (or OutboundError when it does not
    resolve) unless the server may contact ``url``; for settings checks."""
    resolve(env, url)


class _PinnedAdapter(HTTPAdapter):
    """Connects to the checked address, keeping the host name for TLS."""

    def __init__(self, address, host):
        self._address = address
        self._host = host
        super().__init__(max_retries=0)

    def get_connection(self, url, proxies=None):
        scheme, _host, port = _split(url)
        pool_kwargs = {}
        if scheme == "https":
            pool_kwargs = {"server_hostname": self._host, "assert_hostname": self._host}
        return self.poolmanager.connection_from_host(
            self._address, port=port, scheme=scheme, pool_kwargs=pool_kwargs
        )


def _host_header(scheme, host, port):
    default = 443 if scheme == "https" else 80
    name = f"[{host}]" if ":" in host else host
    return name if port == default else f"{name}:{port}"


def _read_capped(response, max_bytes, host):
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        response.close()
        raise OutboundError(f"{host}: answer larger than the limit ({max_bytes} bytes)")
    chunks, size = [], 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            response.close()
            raise OutboundError(f"{host}: answer larger than the limit ({max_bytes} bytes)")
        chunks.append(chunk)
    response._content = b"".join(chunks)  # what requests does on .content
    response._content_consumed = True
    return response


def _failure(exc, host, timeout):
    """A safe message for a requests exception (its text may hold the URL)."""
    if isinstance(exc, requests.Timeout):
        return OutboundError(f"{host}: no answer within {timeout} s (timeout)", retry=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return OutboundError(f"{host}: TLS error (certificate or handshake)", retry=True)
    if isinstance(exc, requests.ConnectionError):
        return OutboundError(f"{host}: connection refused or reset", retry=True)
    return OutboundError(f"{host}: request failed ({type(exc).__name__})", retry=True)


def parsed_error(response, secrets=()):
    """The error message of a platform's JSON answer (common shapes:
    ``{"error": {"message"}}``, ``{"error_description"}``, ``{"message"}``,
    ``{"errors": [{"message"|"detail"}]}``), cut and redacted; '' for any
    other answer: a raw body is never shown."""
    try:
        data = json.loads(response.content or b"")
    except (ValueError, UnicodeDecodeError):
        return ""
    text = _find_message(data)
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    return redact(text, secrets)[:ERROR_TEXT_MAX]


def _find_message(data, depth=0):
    if depth > 3:
        return ""
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return "; ".join(filter(None, (_find_message(item, depth + 1) for item in data[:3])))
    if not isinstance(data, dict):
        return ""
    for key in ("error_description", "message", "detail", "error_message", "error", "errors"):
        if data.get(key):
            return _find_message(data[key], depth + 1)
    return ""


def request(
    env,
    method,
    url,
    *,
    params=None,
    data=None,
    json=None,
    files=None,
    headers=None,
    auth=None,
    timeout=DEFAULT_TIMEOUT,
    max_bytes=DEFAULT_MAX_BYTES,
    secrets=(),
):
    """Send one request through the guard; return the response (2xx, its
    content read) or raise OutboundError / ForbiddenDestination."""
    method = method.upper()
    networks = allowed_networks(env)
    secrets = tuple(s for s in secrets if s)
    host = "?"
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            scheme, host, port, address = resolve(env, url, networks)
            response = _send(
                method,
                url,
                (scheme, host, port, address),
                params=params,
                data=data,
                json=json,
                files=files,
                headers=headers,
                auth=auth,
                timeout=timeout,
                max_bytes=max_bytes,
            )
            if response.status_code not in REDIRECT_CODES:
                break
            location = response.headers.get("Location")
            if not location:
                break
            if method not in ("GET", "HEAD"):
                raise OutboundError(
                    f"{host}: redirected (HTTP {response.status_code}); a {method} request "
                    "is not followed to another address",
                    status=response.status_code,
                )
            next_url = urljoin(response.url or url, location)
            if _split(next_url)[1] != host:
                # credentials never follow to another host
                auth = None
                headers = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
            url, params = next_url, None
        else:
            raise OutboundError(f"{host}: more than {MAX_REDIRECTS} redirects")
    except OutboundError as exc:
        exc.message = redact(exc.message, secrets)
        exc.args = (exc.message,)
        raise
    if not 200 <= response.status_code < 300:
        detail = parsed_error(response, secrets)
        reason = redact(response.reason or "", secrets)
        message = f"{host}: HTTP {response.status_code} {reason}".rstrip()
        if detail:
            message = f"{message}: {detail}"
        status = response.status_code
        raise OutboundError(
            message, retry=status == 429 or status >= 500, status=status, response=response
        )
    return response


def _send(method, url, target, *, params, data, json, files, headers, auth, timeout, max_bytes):
    scheme, host, port, address = target
    session = requests.Session()
    session.trust_env = False  # no environment proxies: they connect by name
    adapter = _PinnedAdapter(address, host)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    all_headers = {"Host": _host_header(scheme, host, port)}
    all_headers.update(headers or {})
    try:
        with session:
            response = session.request(
                method,
                url,
                params=params,
                data=data,
                json=json,
                files=files,
                headers=all_headers,
                auth=auth,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
            return _read_capped(response, max_bytes, host)
    except requests.RequestException as exc:
        raise _failure(exc, host, timeout) from None
    except OSError as exc:  # read errors of the raw stream
        raise OutboundError(
            f"{host}: connection error ({type(exc).__name__})", retry=True
        ) from None
