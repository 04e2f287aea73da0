"""The one door to outside services: polite, bounded, cached.

Every request to a provider goes through :class:`Http`, which

- refuses to send anything while ``metadata = false`` (no request leaves the node);
- names the project, its version and the owner's contact in the User-Agent (MusicBrainz's rule);
- keeps each provider's published pace (MusicBrainz: one request a second), measured from the
  start of one request to the start of the next;
- backs off exponentially on 429 and 503 (honouring a short ``Retry-After``), then gives up
  until the item's next turn;
- reads at most ``max_bytes`` of a body, within a deadline for the whole exchange, and refuses a
  wrong content type;
- follows a redirect only to the same host or to the provider's own image hosts (the Cover Art
  Archive sends images from archive.org, Commons from upload.wikimedia.org);
- caches every answer in SQLite (``meta_answer``): a JSON body, "not found" (with a time after
  which it may be asked again) and failures (asked again sooner), so that a restart or an offline
  node asks nothing twice.

Errors are translated once, here: :class:`Unavailable` (try later; the reason goes to status).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
import trio

from ..store import metadata as meta_store

log = logging.getLogger(__name__)

DAY = 86_400.0


@dataclass
class Settings:
    """Timing and size bounds; tests shorten them (``http.SETTINGS``)."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0  # a whole exchange, redirects and body included
    max_attempts: int = 4  # on 429/503
    backoff_base: float = 2.0  # seconds: 2, 4, 8
    max_retry_after: float = 60.0
    json_max: int = 2 * 1024 * 1024
    image_max: int = 10 * 1024 * 1024
    max_redirects: int = 3
    ok_for: float = 90 * DAY  # a found answer is asked again after this
    missing_for: float = 30 * DAY  # "not found"
    failed_for: float = 3600.0  # a failure (garbage, too big, unreachable)
    spacing: dict[str, float] = field(default_factory=dict)  # provider → seconds, overrides Provider.spacing


SETTINGS = Settings()


class Unavailable(Exception):
    """The provider could not give an answer now (network, refusal, garbage): try this item later."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


class _Refused(Exception):
    """An answer we will not take (too big, wrong type, bad redirect): cached as a failure."""


@dataclass(frozen=True)
class Endpoint:
    """One outside service as the client sees it: name (the cache's and status's key), base URL,
    the pace it asks for, and the extra hosts its redirects may lead to."""

    name: str
    base: str
    spacing: float = 1.0
    redirect_hosts: tuple[str, ...] = ()


def user_agent(contact: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("sonantica")
    except PackageNotFoundError:
        v = "0"
    return f"Sonantica/{v} ( {contact or 'https://github.com/sonantica/sonantica'} )"


class Http:
    """The node's client for outside services (one per worker)."""

    def __init__(self, store, config, *, client: httpx.AsyncClient | None = None) -> None:
        self.store = store
        self.enabled = bool(config.metadata)
        self.settings = SETTINGS
        self._client = client or httpx.AsyncClient(
            follow_redirects=False, trust_env=False,
            timeout=httpx.Timeout(self.settings.read_timeout, connect=self.settings.connect_timeout),
            headers={"User-Agent": user_agent(config.metadata_contact), "Accept-Encoding": "gzip"})
        self._next: dict[str, float] = {}
        self._locks: dict[str, trio.Lock] = {}
        self.sent: list[tuple[str, float]] = []  # (provider, time) of the last requests, for status/tests

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- public -------------------------------------------------------------
    async def json(self, ep: Endpoint, path: str, params: dict | None = None, *, fresh: bool = False) -> dict | None:
        """The provider's JSON object at ``path`` (None: it says not found), through the cache."""
        key = _key(path, params)
        cached = None if fresh else await self.store.read(meta_store.answer, ep.name, key)
        if cached and cached["retry_at"] > time.time():
            if cached["status"] == "ok":
                return json.loads(cached["body"])
            if cached["status"] == "missing":
                return None
            raise Unavailable(ep.name, "failed recently; will ask again later")
        url = _url(ep.base, path, params)
        try:
            status, ctype, body = await self._exchange(ep, url, "application/json", self.settings.json_max)
            if status == 404:
                await self._remember(ep.name, key, "missing", None, self.settings.missing_for)
                return None
            if status != 200:
                raise _Refused(f"HTTP {status}")
            if "json" not in ctype:
                raise _Refused(f"answered {ctype or 'no content type'}, not JSON")
            try:
                value = json.loads(body)
            except ValueError:
                raise _Refused("answered something that is not JSON") from None
            if not isinstance(value, dict):
                raise _Refused("answered JSON that is not an object")
        except (_Refused, Unavailable) as exc:
            reason = exc.reason if isinstance(exc, Unavailable) else str(exc)
            if isinstance(exc, _Refused):
                await self.store.write(meta_store.note_request, ep.name, reason, False)
            await self._remember(ep.name, key, "failed", None, self.settings.failed_for, reason)
            raise Unavailable(ep.name, reason) from None
        await self._remember(ep.name, key, "ok", body, self.settings.ok_for)
        return value

    async def image(self, ep: Endpoint, url: str) -> bytes | None:
        """The bytes of an image at an absolute URL the provider gave (None: not found).

        The URL's host must be the provider's own or one of its image hosts."""
        if not _allowed(ep, url):
            raise Unavailable(ep.name, f"image address {urlsplit(url).hostname!r} is not the provider's")
        try:
            status, ctype, body = await self._exchange(ep, url, "image/*", self.settings.image_max)
            if status == 404:
                return None
            if status != 200:
                raise _Refused(f"HTTP {status}")
            if not ctype.startswith("image/"):
                raise _Refused(f"answered {ctype or 'no content type'}, not an image")
        except _Refused as exc:
            await self.store.write(meta_store.note_request, ep.name, str(exc), False)
            raise Unavailable(ep.name, str(exc)) from None
        return body

    # -- the exchange ---------------------------------------------------------
    async def _exchange(self, ep: Endpoint, url: str, accept: str, max_bytes: int) -> tuple[int, str, bytes]:
        """(status, content type, body) after redirects and back-off; Unavailable if none came."""
        if not self.enabled:
            raise Unavailable(ep.name, "external metadata is turned off (metadata = false)")
        s = self.settings
        for attempt in range(s.max_attempts):
            with trio.move_on_after(s.total_timeout) as scope:
                try:
                    status, headers, body = await self._follow(ep, url, accept, max_bytes)
                except httpx.HTTPError as exc:
                    await self.store.write(meta_store.note_request, ep.name, _describe(exc))
                    raise Unavailable(ep.name, _describe(exc)) from None
            if scope.cancelled_caught:
                await self.store.write(meta_store.note_request, ep.name, "no answer in time")
                raise Unavailable(ep.name, f"no answer within {s.total_timeout:g} s")
            if status in (429, 503):
                await self.store.write(meta_store.note_request, ep.name, f"HTTP {status} (busy)")
                if attempt + 1 < s.max_attempts:
                    await trio.sleep(_retry_after(headers, s.backoff_base * 2 ** attempt, s.max_retry_after))
                    continue
                raise Unavailable(ep.name, f"busy (HTTP {status}) after {s.max_attempts} tries")
            await self.store.write(meta_store.note_request, ep.name, None)
            return status, headers.get("content-type", "").lower(), body
        raise AssertionError("unreachable")

    async def _follow(self, ep: Endpoint, url: str, accept: str, max_bytes: int):
        for _ in range(self.settings.max_redirects + 1):
            await self._pace(ep)
            async with self._client.stream("GET", url, headers={"Accept": accept}) as resp:
                if resp.status_code in (301, 302, 303, 307, 308):
                    target = urljoin(url, resp.headers.get("location", ""))
                    if not _allowed(ep, target, origin=url):
                        raise _Refused(f"redirected to another host ({urlsplit(target).hostname})")
                    url = target
                    continue
                return resp.status_code, resp.headers, await _read_bounded(resp, max_bytes)
        raise _Refused("too many redirects")

    async def _pace(self, ep: Endpoint) -> None:
        """Wait for the provider's turn: requests start at least ``spacing`` seconds apart."""
        lock = self._locks.setdefault(ep.name, trio.Lock())
        async with lock:
            spacing = self.settings.spacing.get(ep.name, ep.spacing)
            now = trio.current_time()
            wait = self._next.get(ep.name, 0.0) - now
            if wait > 0:
                await trio.sleep(wait)
            self._next[ep.name] = trio.current_time() + spacing
            self.sent.append((ep.name, time.monotonic()))
            del self.sent[:-200]

    async def _remember(self, provider: str, key: str, status: str, body: bytes | None, for_s: float,
                        reason: str | None = None) -> None:
        await self.store.write(meta_store.put_answer, provider, key, status, body, time.time() + for_s)
        if reason:
            log.info("metadata: %s: %s", provider, reason)


async def _read_bounded(resp: httpx.Response, max_bytes: int) -> bytes:
    length = resp.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise _Refused(f"answer too large ({int(length)} bytes, at most {max_bytes})")
    chunks, size = [], 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _Refused(f"answer too large (over {max_bytes} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _allowed(ep: Endpoint, url: str, origin: str | None = None) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    own = {urlsplit(ep.base).hostname or ""} | ({urlsplit(origin).hostname or ""} if origin else set())
    return host in own or any(host == h or host.endswith("." + h) for h in ep.redirect_hosts)


def _retry_after(headers, default: float, cap: float) -> float:
    raw = headers.get("retry-after", "")
    try:
        return max(0.0, min(float(raw), cap))
    except ValueError:
        return min(default, cap)


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    return f"{type(exc).__name__}: {exc}"[:200]


def _key(path: str, params: dict | None) -> str:
    return path + ("?" + urlencode(sorted(params.items())) if params else "")


def _url(base: str, path: str, params: dict | None) -> str:
    return base.rstrip("/") + path + ("?" + urlencode(params) if params else "")
