"""Serving the app with hypercorn under the node's nursery."""

from __future__ import annotations

import logging

import trio
from hypercorn.config import Config as HyperConfig
from hypercorn.trio import serve

from .app import create_app

log = logging.getLogger(__name__)


def hyper_config(bind: str) -> HyperConfig:
    cfg = HyperConfig()
    cfg.bind = [bind]
    cfg.accesslog = None
    cfg.errorlog = logging.getLogger("hypercorn.error")
    cfg.graceful_timeout = 2.0
    cfg.keep_alive_timeout = 30
    cfg.h11_max_incomplete_size = 64 * 1024
    cfg.include_server_header = False
    return cfg


async def run_http(node, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    app = create_app(node)
    node.app = app
    from ..store import users as users_store

    if await node.store.read(users_store.count) == 0:
        log.warning(
                "no users yet: open the web app from this machine to create the owner, "
                "or use the one-time setup token %s (or `sonantica user add NAME`)", app.setup_token)
    await serve(app, hyper_config(node.config.bind), task_status=task_status)
