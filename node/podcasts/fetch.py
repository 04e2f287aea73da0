"""Fetching from podcast hosts: http(s) only, redirects followed by hand and bounded, bodies bounded.

Every URL a feed names is untrusted. A request goes only to ``http``/``https`` URLs (``file:``,
``ftp:``, ``data:``… are refused before any I/O), follows at most :data:`MAX_REDIRECTS` redirects,
each checked like the first URL, and reads at most the caller's byte bound. Two redirect rules:

- the **feed** itself may move only within its host (``http`` → ``https`` included): a feed that
  redirects to another host is refused with the new address, for a person to subscribe to it if
  they trust it (a hijacked feed cannot silently swap itself for another);
- **enclosures and images** may live on, and redirect to, other hosts (podcast hosts send them
  through tracking and CDN hosts), but never more inward than the feed: a feed on a public address
  cannot make the node fetch from a private, link-local or loopback one (its own LAN, or itself),
  neither by naming it nor by a redirect (see :func:`redirect_allowed`). A feed the owner put on
  the LAN may name LAN addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urljoin, urlsplit

import httpx
import trio

MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "Sonantica/0.1 (podcasts; +https://github.com/sonantica)"
# address classes, from the most public; a redirect may not go to a later one than where it started
CLASSES = ("public", "private", "loopback")


class FetchError(Exception):
    """A fetch refused or failed; the message is for a person (the URL and the reason). ``transient``:
    worth trying again later (the connection failed or dropped, the host is busy), not a refusal."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host; FetchError otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise FetchError(f"{url[:200]!r} is not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https addresses are fetched, not {parts.scheme or 'a relative'}: {url[:200]}")
    if not parts.hostname or len(url) > 2000:
        raise FetchError(f"{url[:200]!r} has no host")
    return url


def address_class(ip: str) -> str:
    """``public``, ``private`` (RFC 1918, ULA, link-local, CGNAT, unspecified) or ``loopback``."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return "loopback"
    if addr.is_private or addr.is_link_local or addr.is_reserved or addr.is_unspecified or addr.is_multicast \
            or addr in ipaddress.ip_network("100.64.0.0/10"):
        return "private"
    return "public"


def redirect_allowed(origin: str, target: str) -> bool:
    """A redirect from an address of class ``origin`` to one of class ``target``: never more inward."""
    return CLASSES.index(target) <= CLASSES.index(origin)


async def host_class(host: str) -> str:
    """The most inward class among the addresses ``host`` resolves to (a name resolving to both a public
    and a loopback address counts as loopback)."""
    try:
        return address_class(host)
    except ValueError:
        pass
    try:
        infos = await trio.socket.getaddrinfo(host, None)
    except OSError as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    classes = {address_class(info[4][0]) for info in infos}
    return max(classes, key=CLASSES.index) if classes else "public"


@asynccontextmanager
async def get(client: httpx.AsyncClient, url: str, *, same_host: bool, headers: dict | None = None,
              within: str | None = None) -> AsyncIterator[httpx.Response]:
    """The response to GET ``url`` after the allowed redirects, body not read yet (stream it).
    ``within``: the URL that named this one (a feed naming an enclosure): ``url`` may not be more inward."""
    url = check_url(url)
    origin = urlsplit(url).hostname
    origin_class = await host_class(origin)
    if within is not None:
        feed_class = await host_class(urlsplit(check_url(within)).hostname)
        if not redirect_allowed(feed_class, origin_class):
            raise FetchError(f"a feed on a {feed_class} address names a {origin_class} one ({origin}), refused")
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            request = client.build_request("GET", url, headers={"User-Agent": USER_AGENT, **(headers or {})})
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise FetchError(f"{_short(url)}: {type(exc).__name__} {exc}".rstrip(), transient=True) from None
        if not response.is_redirect:
            try:
                yield response
            finally:
                await response.aclose()
            return
        await response.aclose()
        target = urljoin(url, response.headers.get("location", ""))
        url = await _next_hop(url, target, origin, origin_class, same_host)
    raise FetchError(f"more than {MAX_REDIRECTS} redirects from {_short(url)}")


async def _next_hop(url: str, target: str, origin: str, origin_class: str, same_host: bool) -> str:
    check_url(target)
    host = urlsplit(target).hostname
    if same_host and host != origin:
        raise FetchError(f"the feed at {_short(url)} redirects to another host: {_short(target)} "
                         "(subscribe to that address if you trust it)")
    if not redirect_allowed(origin_class, await host_class(host)):
        raise FetchError(f"{_short(url)} redirects to a {await host_class(host)} address ({host}), refused")
    return target


async def read_bounded(response: httpx.Response, limit: int, what: str) -> bytes:
    """The whole body, refused as soon as it passes ``limit`` bytes (announced or not)."""
    announced = response.headers.get("content-length")
    if announced and announced.isdigit() and int(announced) > limit:
        raise FetchError(f"{what} is {int(announced) // 1024} KB, over the {limit // 1024} KB this node accepts")
    chunks, size = [], 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{what} is over the {limit // 1024} KB this node accepts")
            chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise FetchError(f"{what}: {type(exc).__name__} {exc}".rstrip(), transient=True) from None
    return b"".join(chunks)


def _short(url: str) -> str:
    return url if len(url) <= 200 else url[:199] + "…"


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()
