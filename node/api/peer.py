"""The peer API: what members of the federation ask of this node, on ``--peer-bind`` over TLS.

Every route but ``/peer/v1/join`` requires a request signed by a current member
(protocol §11: node id, time, nonce, signature over method, path and body);
``join`` carries its own signed JoinRequest. Content is served only for files
of shared folders, with a per-peer concurrency limit; bytes served are counted
per peer. ``/peer/v1/cover/{file_id}`` gives the cover of a shared track (see
``federation/covers.py``).
"""

from __future__ import annotations

import json
import logging
import os

import trio
from quart import Response, request
from quart_trio import QuartTrio

from sonantica.protocol import CHUNK_SIZE, RemoteProtocolError
from sonantica.protocol.chunks import chunk_count_for_size, leaf_page_count, parse_file_id
from sonantica.protocol.limits import MAX_CHUNKS_PER_REQUEST, MAX_MESSAGE_BYTES

from ..federation import catalogue, covers
from ..federation import artist_info as member_artist_info
from ..federation import lyrics as member_lyrics
from ..federation.client import now_ms
from ..federation.leaves import LeafStore, Pending, leaves_dir
from ..library import artwork
from ..store import peers as peers_store
from .keepalive import complete_body_first

log = logging.getLogger(__name__)

RATE_PER_S = 200.0  # signed requests per second per member (gossip is ~2/s when idle)
RATE_BURST = 400.0


class TokenBucket:
    """Requests per member: ``RATE_PER_S`` on average, bursts up to ``RATE_BURST``."""

    def __init__(self, rate: float = RATE_PER_S, burst: float = RATE_BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float) -> bool:
        tokens, last = self.tokens.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self.tokens[key] = (tokens, now)
            return False
        self.tokens[key] = (tokens - 1, now)
        return True
PER_PEER_UPLOADS = 64  # transfers at once per requesting node (its whole household)
PER_PEER_COVERS = 8  # cover reads at once per requesting node


def _error(status: int, code: str, message: str) -> Response:
    resp = Response(json.dumps({"error": {"status": status, "code": code, "message": message}}),
                    status=status, mimetype="application/json")
    return resp


def create_peer_app(node, federation) -> QuartTrio:
    app = QuartTrio(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_MESSAGE_BYTES + 4096
    app.config["RESPONSE_TIMEOUT"] = None
    app.asgi_app = complete_body_first(app.asgi_app)  # early answers must not wedge keep-alive connections
    leaf_store = LeafStore(leaves_dir(node.data))
    limits: dict[str, trio.Semaphore] = {}
    bucket = TokenBucket()

    async def authenticate(body: bytes):
        if federation.verifier is None:
            raise RemoteProtocolError("not_member", "this node is not in a federation")
        path = request.path + (("?" + request.query_string.decode()) if request.query_string else "")
        sender = federation.verifier.verify(request.method, path, dict(request.headers), body, now_ms())
        if not bucket.take(str(sender), trio.current_time()):
            raise RateLimited()
        return sender

    class RateLimited(Exception):
        pass

    @app.errorhandler(RateLimited)
    async def rate_limited(exc):
        resp = _error(429, "rate_limited", "too many requests from your node: slow down")
        resp.headers["Retry-After"] = "1"
        return resp

    @app.errorhandler(RemoteProtocolError)
    async def refused(exc: RemoteProtocolError):
        log.debug("peer request refused: %s %s", exc.code, exc)
        return _error(exc.status, exc.code, str(exc))

    @app.post("/peer/v1/gossip")
    async def gossip():
        body = await request.get_data()
        sender = await authenticate(body)
        await federation.receive(sender, body)
        return Response(b"", status=204)

    @app.post("/peer/v1/join")
    async def join():
        body = await request.get_data()
        from ..federation.invites import redeem

        try:
            answer = await redeem(node, federation, json.loads(body))
        except ValueError:
            raise RemoteProtocolError("malformed", "the join request is not JSON") from None
        return Response(json.dumps(answer), mimetype="application/json")

    @app.get("/peer/v1/hello")
    async def hello():
        await authenticate(b"")
        tracks = await node.store.read(peers_store.published_count)
        return Response(json.dumps(federation.hello_info(tracks)), mimetype="application/json")

    async def shared_path(file_id: str) -> tuple[str, int]:
        path = await node.store.read(_shared_path_for, file_id, node.config.share, node.config.share_folders)
        if path is None:
            raise RemoteProtocolError("unknown_log", f"this node does not share {file_id}")
        return path

    cover_limits: dict[str, trio.Semaphore] = {}

    @app.get("/peer/v1/cover/<file_id>")
    async def cover(file_id: str):
        """The cover of a shared track (≤ covers.MAX_COVER_BYTES); members verify it against its content id."""
        sender = await authenticate(b"")
        parse_file_id(file_id)
        sem = cover_limits.setdefault(str(sender), trio.Semaphore(PER_PEER_COVERS))
        if sem.value == 0:
            return _error(429, "busy", "too many cover requests from your node at once")
        async with sem:
            data = await covers.shared_cover(node, file_id)
        if data is None:
            return _error(404, "not_found", f"this node shares no cover for {file_id}")
        await node.store.write(peers_store.add_peer_bytes, str(sender), len(data), 0)
        return Response(data, mimetype=artwork._sniff(data), headers={"Cache-Control": "no-store"})

    @app.get("/peer/v1/lyrics/<file_id>")
    async def lyrics(file_id: str):
        """The lyrics this node fetched for a shared track (≤ MAX_LYRICS_BYTES of UTF-8); members verify
        them against the record's ``lyrics`` content id."""
        return await side_document(file_id, member_lyrics.shared_lyrics, "lyrics", "text/plain; charset=utf-8")

    @app.get("/peer/v1/artist-info/<file_id>")
    async def artist_info(file_id: str):
        """The biography this node fetched for the artist of a shared track (protocol
        ``encode_artist_info``); members verify it against the record's ``artist_info`` content id."""
        return await side_document(file_id, member_artist_info.shared_document, "artist biography",
                                   "application/json")

    async def side_document(file_id: str, read, what: str, mimetype: str):
        """A document a member verifies against a content id of a shared track's record, counted as
        bytes sent to the asking member."""
        sender = await authenticate(b"")
        parse_file_id(file_id)
        data = await read(node, file_id)
        if data is None:
            return _error(404, "not_found", f"this node shares no {what} for {file_id}")
        await node.store.write(peers_store.add_peer_bytes, str(sender), len(data), 0)
        return Response(data, mimetype=mimetype, headers={"Cache-Control": "no-store"})

    @app.get("/peer/v1/content/<file_id>/leaves")
    async def leaves(file_id: str):
        """Leaf page ``page`` (protocol §4) from the stored leaves; 202 + progress while hashing them."""
        await authenticate(b"")
        path, size = await shared_path(file_id)
        try:
            page = int(request.args.get("page", "0"))
        except ValueError:
            raise RemoteProtocolError("malformed", "page must be an integer") from None
        pages = leaf_page_count(chunk_count_for_size(size))
        if not 0 <= page < pages:
            raise RemoteProtocolError("bad_field", f"page must be 0..{pages - 1}")
        body = await leaf_store.page(file_id, path, size, page, app.add_background_task)
        if isinstance(body, Pending):
            resp = Response(json.dumps({"pending": {"hashed": body.hashed, "size": body.size}}), status=202,
                            mimetype="application/json")
            resp.headers["Retry-After"] = "1"
            return resp
        return Response(body, mimetype="application/octet-stream")

    @app.get("/peer/v1/content/<file_id>")
    async def content(file_id: str):
        sender = await authenticate(b"")
        try:
            first = int(request.args.get("first", "0"))
            count = int(request.args.get("count", "1"))
        except ValueError:
            raise RemoteProtocolError("malformed", "first and count must be integers") from None
        if first < 0 or not 1 <= count <= MAX_CHUNKS_PER_REQUEST:
            raise RemoteProtocolError("bad_field", f"count must be 1..{MAX_CHUNKS_PER_REQUEST}")
        path, size = await shared_path(file_id)
        start = first * CHUNK_SIZE
        if start >= size and size > 0:
            raise RemoteProtocolError("bad_field", "first is past the end of the file")
        end = min(size, (first + count) * CHUNK_SIZE)
        sem = limits.setdefault(str(sender), trio.Semaphore(PER_PEER_UPLOADS))
        if sem.value == 0:
            return _error(429, "busy", "too many transfers from your node at once: try another holder")
        return Response(_file_body(path, start, end, sem, str(sender)), mimetype="application/octet-stream",
                        headers={"Content-Length": str(end - start)})

    async def _file_body(path: str, start: int, end: int, sem: trio.Semaphore, peer: str):
        sent = 0
        async with sem:
            federation.active_uploads += 1
            try:
                fd = await trio.to_thread.run_sync(os.open, path, os.O_RDONLY)
                try:
                    pos = start
                    while pos < end:
                        n = min(128 * 1024, end - pos)
                        data = await trio.to_thread.run_sync(os.pread, fd, n, pos)
                        if not data:
                            break
                        pos += len(data)
                        sent += len(data)
                        yield data
                finally:
                    os.close(fd)
            finally:
                federation.active_uploads -= 1
                with trio.CancelScope(shield=True):
                    await node.store.write(peers_store.add_peer_bytes, peer, sent, 0)

    return app


def _shared_path_for(db, file_id: str, share: str, share_folders) -> tuple[str, int] | None:
    import posixpath

    from ..store import tracks as tracks_store

    folders = tracks_store.folders(db)
    allowed = catalogue.shared_folder_ids(folders, share, share_folders)
    paths = {f["id"]: f["path"] for f in folders}
    for folder_id, rel, size in db.conn.execute("SELECT folder_id, path, size FROM track WHERE file_id = ?", (file_id,)):
        if folder_id in allowed:
            from ..library.paths import OutsideLibrary, confine

            try:
                return confine(paths[folder_id], rel), size
            except OutsideLibrary:
                continue
    del posixpath
    return None
