"""Calling peers: httpx over TLS pinned to the member's certificate, every request signed.

Every foreign failure is mapped here, once, to :class:`PeerUnavailable` (retry
later or elsewhere: unreachable, timeout, 5xx, 429, protocol errors marked
retryable) or :class:`PeerRejected` (give up: wrong certificate, refused as
non-member or revoked, bad data). Plain HTTP is used only when the node's
``federation_insecure_http`` test flag is on.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import trio

from sonantica.protocol import NodeIdentity, sign_request

from .errors import PeerRejected, PeerUnavailable
from .tls import fetch_pinned_context

RETRYABLE_CODES = {"gap", "unknown_log", "chunk_mismatch", "clock_skew"}
TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def now_ms() -> int:
    return int(time.time() * 1000)


class PeerClient:
    def __init__(self, identity: NodeIdentity, insecure_http: bool = False) -> None:
        self.identity = identity
        self.insecure = insecure_http
        self._clients: dict[tuple[str, bytes], httpx.AsyncClient] = {}
        self._lock = trio.Lock()

    async def _client(self, address: str, pin: bytes, node: str) -> httpx.AsyncClient:
        key = (address, pin)
        client = self._clients.get(key)
        if client is not None:
            return client
        async with self._lock:
            client = self._clients.get(key)
            if client is not None:
                return client
            url = urllib.parse.urlsplit(address)
            if url.scheme == "https":
                ctx = await trio.to_thread.run_sync(fetch_pinned_context, url.hostname, url.port or 443, pin, node)
                client = httpx.AsyncClient(base_url=address, verify=ctx, timeout=TIMEOUT, http2=False)
            elif url.scheme == "http" and self.insecure:
                client = httpx.AsyncClient(base_url=address, timeout=TIMEOUT)
            else:
                raise PeerRejected(node, f"refusing {address}: peers talk HTTPS (plain HTTP only in test mode)")
            self._clients[key] = client
            return client

    def forget(self, address: str, pin: bytes) -> None:
        client = self._clients.pop((address, pin), None)
        if client is not None:
            # closing is async; let the garbage collector reclaim idle connections
            pass

    def signed_headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        return sign_request(self.identity, method, path, body, now_ms(), os.urandom(16))

    @asynccontextmanager
    async def stream(self, addresses, pin: bytes, node: str, method: str, path: str, body: bytes = b"",
                     timeout: httpx.Timeout | None = None) -> AsyncIterator[httpx.Response]:
        """Open a signed request to the first address that answers; yields the streaming response."""
        last: Exception | None = None
        for address in list(addresses) or []:
            try:
                client = await self._client(address, pin, node)
            except PeerUnavailable as exc:
                last = exc
                continue
            headers = self.signed_headers(method, path, body)
            if body:
                headers["Content-Type"] = "application/json"
            try:
                req = client.build_request(method, path, content=body or None, headers=headers,
                                           timeout=timeout or TIMEOUT)
                response = await client.send(req, stream=True)
            except httpx.HTTPError as exc:
                self._clients.pop((address, pin), None)
                last = PeerUnavailable(node, f"{address}: {type(exc).__name__} {exc}".strip())
                continue
            try:
                await _check(response, node)
                yield response
                return
            finally:
                await response.aclose()
        raise last or PeerUnavailable(node, "no known address")

    async def call(self, addresses, pin: bytes, node: str, method: str, path: str, body: bytes = b"",
                   timeout: httpx.Timeout | None = None) -> bytes:
        async with self.stream(addresses, pin, node, method, path, body, timeout) as response:
            try:
                return await response.aread()
            except httpx.HTTPError as exc:
                raise PeerUnavailable(node, f"connection lost: {exc}") from exc

    async def aclose(self) -> None:
        for client in list(self._clients.values()):
            await client.aclose()
        self._clients.clear()


async def _check(response: httpx.Response, node: str) -> None:
    if response.status_code < 400:
        return
    body = await response.aread()
    code, message = "", body[:200].decode("utf-8", "replace")
    try:
        err = json.loads(body)["error"]
        code, message = err.get("code", ""), err.get("message", message)
    except (ValueError, KeyError, TypeError):
        pass
    reason = f"{response.status_code} {code}: {message}".strip()
    if response.status_code >= 500 or response.status_code == 429 or code in RETRYABLE_CODES:
        raise PeerUnavailable(node, reason)
    raise PeerRejected(node, reason)
