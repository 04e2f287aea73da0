"""Trusted-header sign-in: a reverse proxy with an identity provider (Authelia, Authentik, oauth2-proxy)
signs people in, and tells the node who they are in a header (``auth_header``, e.g. ``Remote-User``).

Off by default. The header is believed only on a connection whose TCP peer is one of the
``trusted_proxies`` (the same list that lets those proxies name the client in ``X-Forwarded-For``);
from anywhere else it is ignored, so nobody can claim a name by sending the header themselves. When
it is believed it alone says who calls (a stale session cookie or another user's API key beside it
is ignored): the web app, the native API and Subsonic calls that come through the proxy are that
user. A name the node does not know is refused (401), or, with ``auth_header_create_users``, becomes
a new listener with the owner's default music folders and a random password nobody knows (the
person signs in through the proxy; the owner can set a password for Subsonic apps that bypass it).
See docs/proxy-login.md.
"""

from __future__ import annotations

import logging
import secrets

import trio
from quart import current_app, request

from ..errors import Conflict, InvalidInput
from ..store import users as users_store
from .ratelimit import from_trusted_proxy

log = logging.getLogger(__name__)


class ProxyUserRefused(Exception):
    """The trusted proxy named a user this node will not sign in (unknown, or not a valid name)."""


def _named() -> str | None:
    """The name the trusted proxy gives, or None (header off, absent, or not from a trusted proxy)."""
    config = current_app.node.config
    if not config.auth_header:
        return None
    value = request.headers.get(config.auth_header)
    if value is None:
        return None
    if not from_trusted_proxy(request.remote_addr or "", config.trusted_proxies):
        log.warning("%s header from %s ignored: not one of trusted_proxies", config.auth_header, request.remote_addr)
        return None
    return value.strip()


async def proxy_user() -> dict | None:
    """The user the trusted proxy signed in, or None; ProxyUserRefused for a name not accepted."""
    name = _named()
    if name is None:
        return None
    try:
        users_store.check_name(name)
    except InvalidInput as exc:
        raise ProxyUserRefused(f"the sign-in proxy named no valid user: {exc}") from None
    store = current_app.node.store
    user = await store.read(users_store.by_name, name)
    if user is not None:
        return user
    if not current_app.node.config.auth_header_create_users:
        raise ProxyUserRefused(f"{name!r} has no account on this node: ask its owner to create one "
                               "(or to set auth_header_create_users)")
    return await _create_listener(name)


async def _create_listener(name: str) -> dict:
    password_hash = await trio.to_thread.run_sync(users_store.hash_password, secrets.token_urlsafe(32),
                                                  limiter=current_app.login_guard.cpu)
    store = current_app.node.store
    try:
        user = await store.write(users_store.create, name, password_hash, "listener")
    except Conflict:  # two first requests at once: the other one made it
        user = await store.read(users_store.by_name, name)
    log.info("created listener %r on first sign-in through the proxy", name)
    return user
