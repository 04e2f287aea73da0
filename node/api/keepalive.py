"""Keep-alive connections survive answers given before the request body is in.

Theory of operation
-------------------
hypercorn's HTTP/1.1 protocol (h11) reuses a connection for the next request
only when both the response and the request body are complete. When an app
answers while the body is still arriving — a 401 from the auth hook, a 404,
405 or 413, all decided from the request line and headers — hypercorn closes
the connection instead, from inside the app's last ``send``. quart-trio
cancels that very task as soon as the request is over, and the close is cut
short at its first checkpoint: the socket stays open, nobody reads it any
more, and the client's next request on it is never answered (hypercorn 0.18,
quart-trio 0.12). Browsers and Subsonic apps reuse connections, so they hang.

:func:`complete_body_first` wraps the ASGI app (``app.asgi_app``) so that an
early answer is sent at once, but its *end* — the message after which
hypercorn decides to recycle or close — waits (bounded by ``DRAIN_BYTES`` and
``DRAIN_SECONDS``) until the request body has arrived. The app reads it anyway
(into ``request.body``). The client, which knows the answer's
``Content-Length``, has the whole answer already and sends the rest of its
body and its next request; the connection is then recycled and serves it.

When waiting is not worth it — an answer without ``Content-Length``, a body
larger than ``DRAIN_BYTES``, one that takes longer than ``DRAIN_SECONDS`` —
the answer carries ``Connection: close`` (when its head has not gone out yet)
and its last message is sent shielded from quart-trio's cancellation, so the
connection is really closed and the client opens a new one instead of waiting.

HTTP/2 streams are independent of each other: they pass through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio

__all__ = ["DRAIN_BYTES", "DRAIN_SECONDS", "complete_body_first"]

DRAIN_BYTES = 1 << 20  # a larger body is not waited for: the answer closes the connection
DRAIN_SECONDS = 5.0  # nor is a body that takes longer than this to arrive

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[dict, Receive, Send], Awaitable[None]]


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The body length a request announces: 0 without a body, None when unknown (chunked)."""
    length = 0
    for name, value in headers:
        name = name.lower()
        if name == b"transfer-encoding" and value.strip().lower() != b"identity":
            return None
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return None  # h11 refuses such a request before it reaches us
    return length


class _Body:
    """How much of one request's body the app has received so far."""

    def __init__(self, expected: int | None) -> None:
        self.expected = expected
        self.received = 0
        self.complete = expected == 0
        self._progress = trio.Event()

    def saw(self, message: Message) -> None:
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete = True
        elif message["type"] == "http.disconnect":
            self.complete = True  # nothing more will come; the connection is gone anyway
        self._progress.set()
        self._progress = trio.Event()

    def worth_waiting(self) -> bool:
        if self.expected is not None and self.expected > DRAIN_BYTES:
            return False
        return self.received <= DRAIN_BYTES

    async def wait_complete(self) -> bool:
        """Wait (bounded) until the whole body is in; False if it is not worth it or too slow."""
        with trio.move_on_after(DRAIN_SECONDS):
            while not self.complete and self.worth_waiting():
                await self._progress.wait()
        return self.complete


def _closing(start: Message) -> Message:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"connection"]
    return {**start, "headers": [*headers, (b"connection", b"close")]}


def _has_length(start: Message) -> bool:
    return any(k.lower() == b"content-length" for k, _ in start.get("headers", []))


def _is_last(message: Message) -> bool:
    return message["type"] == "http.response.body" and not message.get("more_body", False)


def complete_body_first(app: ASGIApp) -> ASGIApp:
    """Wrap an ASGI app so that an early answer never wedges an HTTP/1.1 connection (see above)."""

    async def wrapped(scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("http_version") not in ("1.0", "1.1"):
            await app(scope, receive, send)
            return
        body = _Body(declared_length(scope.get("headers", [])))
        defer_end = close = False

        async def receive_counted() -> Message:
            message = await receive()
            body.saw(message)
            return message

        async def send_after_body(message: Message) -> None:
            nonlocal defer_end, close
            if message["type"] == "http.response.start" and not body.complete:
                defer_end = _has_length(message) and body.worth_waiting()
                if not defer_end:
                    close, message = True, _closing(message)
            elif _is_last(message) and defer_end and not body.complete:
                if message.get("body"):
                    await send({**message, "more_body": True})  # the client gets the whole answer now
                close = not await body.wait_complete()  # then the connection is recycled, or closed
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            if close and _is_last(message):
                with trio.CancelScope(shield=True):  # hypercorn closes inside this send: let it finish
                    await send(message)
                return
            await send(message)

        await app(scope, receive_counted, send_after_body)

    return wrapped
