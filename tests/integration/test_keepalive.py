"""A keep-alive connection survives an answer given before the request body has arrived.

Clients reuse connections. When the node answers early (401 from the auth
check, 404, 405, 413) while the request body is still on its way, the
connection must either carry the next request or be closed cleanly after a
``Connection: close`` answer — never sit silent. Real hypercorn on loopback,
a raw trio socket driven by h11 as the client (so the bytes are exactly what a
careful HTTP/1.1 client sends, byte pauses included).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import h11
import pytest
import trio

from tests.support.node import init_node, running_node

PAUSE = 0.3  # the body arrives this long after the headers (a phone on a slow link does far worse)
ANSWER_WITHIN = 5.0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    closes: bool = False  # the server said Connection: close


@dataclass
class Client:
    """One client connection, spoken with h11 (the client half)."""

    stream: trio.SocketStream
    conn: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))

    @classmethod
    async def connect(cls, url: str) -> Client:
        host, port = url.split("//")[1].rsplit(":", 1)
        return cls(await trio.open_tcp_stream(host, int(port)))

    async def send(self, *events) -> None:
        for event in events:
            data = self.conn.send(event)
            if data:
                await self.stream.send_all(data)

    async def answer(self) -> Answer:
        with trio.fail_after(ANSWER_WITHIN):
            answer = None
            while True:
                event = self.conn.next_event()
                if event is h11.NEED_DATA:
                    self.conn.receive_data(await self.stream.receive_some(65536))
                elif isinstance(event, h11.Response):
                    headers = {k.decode().lower(): v.decode() for k, v in event.headers}
                    closes = "close" in headers.get("connection", "").lower()
                    answer = Answer(event.status_code, headers, closes=closes)
                elif isinstance(event, h11.Data):
                    answer.body += bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    return answer
                elif isinstance(event, h11.ConnectionClosed):
                    raise AssertionError("the server closed the connection without an answer")

    async def closed_by_server(self) -> bool:
        """True once the server has closed (EOF or reset) within the deadline; False if it sits silent."""
        with trio.move_on_after(ANSWER_WITHIN):
            while True:
                try:
                    if await self.stream.receive_some(65536) == b"":
                        return True
                except trio.BrokenResourceError:
                    return True
        return False

    async def aclose(self) -> None:
        await self.stream.aclose()


def request(method: str, target: str, length: int | None, content_type: str = "application/json") -> h11.Request:
    headers = [("Host", "node"), ("Content-Type", content_type)]
    headers.append(("Content-Length", str(length)) if length is not None else ("Transfer-Encoding", "chunked"))
    return h11.Request(method=method, target=target, headers=headers)


async def early_answer_then_next_request(url: str, method: str, target: str, body: bytes, *,
                                         before: int = 0, chunked: bool = False,
                                         content_type: str = "application/json") -> tuple[Answer, Answer]:
    """Send the head (and ``before`` bytes of body), read the answer, then the rest of the body and a
    second request; the second is sent on the same connection unless the first said Connection: close."""
    client = await Client.connect(url)
    try:
        await client.send(request(method, target, None if chunked else len(body), content_type))
        if before:
            await client.send(h11.Data(data=body[:before]))
        first = await client.answer()
        await trio.sleep(PAUSE)
        if first.closes:
            assert await client.closed_by_server(), "answered Connection: close but left the connection open"
            await client.aclose()
            client = await Client.connect(url)  # what a client does after Connection: close
        else:
            await client.send(h11.Data(data=body[before:]), h11.EndOfMessage())
            client.conn.start_next_cycle()
        await client.send(h11.Request(method="GET", target="/api/v1/health", headers=[("Host", "node")]),
                          h11.EndOfMessage())
        second = await client.answer()
        return first, second
    finally:
        await client.aclose()


BODY = b'{"name": "Road trip", "track_ids": []}'
BIG = b'{"name": "' + b"x" * (3 << 20) + b'"}'  # larger than any node drains before answering


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def data(tmp_path, music):
    return init_node(tmp_path / "data", music)


EARLY = [
    ("POST", "/api/v1/playlists", 401),  # the auth check answers before the body is read
    ("POST", "/api/v1/nowhere", 404),
    ("PUT", "/api/v1/health", 405),
]
SHAPES = {"late": (0, False), "two parts": (5, False), "chunked": (0, True), "chunked two parts": (5, True)}


async def test_native_api_early_answer_keeps_the_connection_usable(data):
    async with running_node(data) as node:
        wedged = []
        for method, target, status in EARLY:
            for shape, (before, chunked) in SHAPES.items():
                try:
                    first, second = await early_answer_then_next_request(
                        node.url, method, target, BODY, before=before, chunked=chunked)
                except trio.TooSlowError:
                    wedged.append(f"{method} {target} ({shape})")
                    continue
                assert first.status == status and second.status == 200, (method, target, shape)
        assert not wedged, f"no answer to the next request after: {wedged}"


async def test_a_body_too_large_to_wait_for_is_answered_with_connection_close(data):
    async with running_node(data) as node:
        first, second = await early_answer_then_next_request(node.url, "POST", "/api/v1/playlists", BIG, before=100)
        assert first.status in (401, 413) and first.closes
        assert second.status == 200


async def test_subsonic_and_peer_api_early_answers_keep_the_connection_usable(data):
    peer_port = free_port()
    async with running_node(data, peer_bind=f"127.0.0.1:{peer_port}", federation_insecure_http=True) as node:
        # Subsonic reads only form bodies: with a JSON one, an unknown method or a refused sign-in (slow on
        # purpose, so only once) is answered early
        cases = [("/rest/nope.view?f=json", shape) for shape in SHAPES.values()]
        cases.append(("/rest/ping.view?u=ghost&p=nope&f=json", SHAPES["two parts"]))
        for target, (before, chunked) in cases:
            first, second = await early_answer_then_next_request(
                node.url, "POST", target, BODY, before=before, chunked=chunked)
            assert first.status == 200 and b'"failed"' in first.body and second.status == 200
        peer = f"http://127.0.0.1:{peer_port}"
        with trio.fail_after(10):
            while True:
                try:
                    await (await Client.connect(peer)).aclose()
                    break
                except OSError:
                    await trio.sleep(0.05)
        for method, target, status in (("POST", "/peer/v1/nowhere", 404), ("POST", "/peer/v1/hello", 405)):
            for before, chunked in SHAPES.values():
                first, second = await early_answer_then_next_request(peer, method, target, BODY, before=before,
                                                                     chunked=chunked)
                assert first.status == status
                assert second.status == 404  # the next request was read and answered (no /api/v1 here)


async def test_a_body_that_never_comes_ends_in_a_clean_close(data, monkeypatch):
    from sonantica.node.api import keepalive

    monkeypatch.setattr(keepalive, "DRAIN_SECONDS", 0.5)
    async with running_node(data) as node:
        client = await Client.connect(node.url)
        try:
            await client.send(request("POST", "/api/v1/playlists", len(BODY)))
            first = await client.answer()  # answered at once, though the body never comes
            assert first.status == 401
            assert await client.closed_by_server(), "the connection was left open with nobody reading it"
        finally:
            await client.aclose()


def test_declared_length():
    from sonantica.node.api.keepalive import declared_length

    assert declared_length([]) == 0
    assert declared_length([(b"content-length", b"12")]) == 12
    assert declared_length([(b"Transfer-Encoding", b"chunked")]) is None
    assert declared_length([(b"transfer-encoding", b"identity"), (b"content-length", b"3")]) == 3
