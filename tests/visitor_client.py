"""HTTP clients that look like distinct website visitors to the number
endpoint: a desktop browser's user agent (HTTP libraries are automated
clients and get no lease) and, when asked, a source address of their own on
the loopback network (127.0.0.0/8), so that the caps of live leases per
client address and per /24 network see distinct clients."""

import random

import requests
from requests.adapters import HTTPAdapter

BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
_random = random.Random()


class SourceAddressAdapter(HTTPAdapter):
    """Connections bound to one local source address."""

    def __init__(self, source, **kwargs):
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def loopback_address(network=None, host=None):
    """A loopback address: in ``network`` (``"127.a.b"``) when given, else in
    a random /24 other than 127.0.0.0/24 (where the plain clients are)."""
    if network is None:
        network = f"127.{_random.randint(1, 254)}.{_random.randint(0, 255)}"
    return f"{network}.{host or _random.randint(1, 254)}"


def browser_session(source=None, user_agent=BROWSER_UA):
    """A ``requests`` session with a browser's user agent, its connections
    bound to ``source`` (an address, or True for a random loopback one)."""
    session = requests.Session()
    if user_agent:
        session.headers["User-Agent"] = user_agent
    else:
        # no User-Agent header at all
        session.headers.pop("User-Agent", None)
    if source:
        adapter = SourceAddressAdapter(loopback_address() if source is True else source)
        session.mount("http://", adapter)
    return session
