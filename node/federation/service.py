"""The federation while serving: the runtime (gossip, publishing) and the peer API server.

The peer API listens only when the node is in a federation or ``peer_bind`` is
set; it serves TLS with the node's pinned certificate (plain HTTP only with the
``federation_insecure_http`` test flag). Its real addresses are stored so that
invites made by the CLI while serving carry them.
"""

from __future__ import annotations

import logging

import trio
from hypercorn.config import Config as HyperConfig
from hypercorn.trio import serve as hyper_serve

from ..store import peers as peers_store
from . import discovery
from .invites import DEFAULT_PEER_PORT, advertised_addresses
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
    async with trio.open_nursery() as nursery:
        await nursery.start(federation.run)
        nursery.start_soon(_peer_server, node, federation, str(cert), str(key))
        task_status.started()


async def _peer_server(node, federation: Federation, cert: str, key: str) -> None:
    config = node.config
    while not (config.peer_bind or federation.joined):
        await trio.sleep(0.5)
    from ..api.peer import create_peer_app

    bind = config.peer_bind or f"0.0.0.0:{DEFAULT_PEER_PORT}"
    hyper = HyperConfig()
    hyper.bind = [bind]
    hyper.accesslog = None
    hyper.include_server_header = False
    hyper.graceful_timeout = 1.0
    if not config.federation_insecure_http:
        hyper.certfile, hyper.keyfile = cert, key
    app = create_peer_app(node, federation)
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(hyper_serve, app, hyper)
        port = int(bound[0].rsplit(":", 1)[1])
        addresses = advertised_addresses(bind, config.federation_insecure_http, port, config.peer_advertise)
        federation.addresses = addresses
        await node.store.write(peers_store.set_addresses, addresses)
        log.info("peer API on %s (advertised as %s)", bind, ", ".join(addresses))
        await federation.announce_if_moved()
        if config.discovery:
            nursery.start_soon(discovery.run, federation, port)
