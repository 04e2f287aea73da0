"""The federation while serving: the runtime (gossip, publishing) and the peer API server.

The peer port is bound at start (binding.py) and its addresses stored, so that
invites and joins made by the CLI at any moment carry them; the peer API is
served only when the node is in a federation or ``peer_bind`` is set. It
serves TLS with the node's pinned certificate (plain HTTP only with the
``federation_insecure_http`` test flag).
"""

from __future__ import annotations

import logging
import socket
import urllib.parse

import trio
from hypercorn.config import Config as HyperConfig
from hypercorn.trio import serve as hyper_serve

from ..errors import NodeError
from ..store import peers as peers_store
from . import discovery
from . import binding
from .invites import advertised_addresses
from .runtime import Federation
from .tls import ensure_certificate

log = logging.getLogger(__name__)


async def run(node, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    federation = Federation(node)
    node.federation = federation
    cert, key, pin = await trio.to_thread.run_sync(ensure_certificate, node.data.root, str(federation.me))
    federation.cert_pin = pin
    from .chunk_cache import ChunkCache

    federation.chunk_cache = ChunkCache(node.data.cache_dir / "peer-chunks", node.config.peer_cache_mb * 1024 * 1024)
    await trio.to_thread.run_sync(federation.chunk_cache.load)
    sock = await _reserve_peer_socket(node, federation)
    async with trio.open_nursery() as nursery:
        await nursery.start(federation.run)
        nursery.start_soon(_peer_server, node, federation, sock, str(cert), str(key))
        task_status.started()


async def _reserve_peer_socket(node, federation: Federation) -> socket.socket:
    """Bind the peer port now and store the addresses it gives, before any invite or join needs them."""
    config = node.config
    stored = await node.store.read(peers_store.addresses)
    previous = _port_of(stored[-1]) if stored else None
    try:
        sock = await trio.to_thread.run_sync(binding.reserve, config.peer_bind, previous)
    except OSError as exc:
        raise NodeError(f"{exc.strerror or exc}; choose another with `serve --peer-bind HOST:PORT`") from exc
    port = sock.getsockname()[1]
    addresses = advertised_addresses(config.peer_bind, config.federation_insecure_http, port, config.peer_advertise)
    federation.addresses = addresses
    await node.store.write(peers_store.set_addresses, addresses)
    return sock


def _port_of(address: str) -> int | None:
    try:
        return urllib.parse.urlsplit(address).port
    except ValueError:
        return None


async def _peer_server(node, federation: Federation, sock: socket.socket, cert: str, key: str) -> None:
    config = node.config
    try:
        while not (config.peer_bind or federation.joined):
            await trio.sleep(0.5)
    except BaseException:
        sock.close()
        raise
    from ..api.peer import create_peer_app

    port = sock.getsockname()[1]
    hyper = HyperConfig()
    hyper.bind = [f"fd://{sock.detach()}"]  # hypercorn owns the socket from here on
    hyper.accesslog = None
    hyper.include_server_header = False
    hyper.graceful_timeout = 1.0
    if not config.federation_insecure_http:
        hyper.certfile, hyper.keyfile = cert, key
    app = create_peer_app(node, federation)
    async with trio.open_nursery() as nursery:
        await nursery.start(hyper_serve, app, hyper)
        log.info("peer API on port %d (advertised as %s)", port, ", ".join(federation.addresses))
        await federation.announce_if_moved()
        if config.discovery:
            nursery.start_soon(discovery.run, federation, port)
