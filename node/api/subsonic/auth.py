"""Who calls: Subsonic credentials (``p``, ``enc:``, token + salt, ``apiKey``) and app passwords.

Token auth (``t = md5(password + s)``) needs the password itself, which an
argon2id hash cannot give back. So each user may have a *Subsonic app
password*: random, shown to its owner, and stored encrypted with AES-GCM
under a key derived (HKDF-SHA256) from the node's Ed25519 seed, which never
leaves the data folder. The login hash stays argon2id; a stolen database
alone reveals no app password. ``p=`` accepts the app password and also the
account's login password (checked with argon2id in a worker thread).
API keys (``apiKey``, the apiKeyAuthentication extension) are the node's
own API keys. A wrong secret answers error 40 (44 for a bad API key); password
and token tries go through the app's LoginGuard (node/api/ratelimit.py), like web
sign-ins: throttled per (account, address), answered HTTP 429 + error 0 "rate
limited, retry in N s" while throttled, never 40 for credentials that verify.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from functools import lru_cache

import trio
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from quart import current_app, g, request

from ...identity import load_seed
from ...store import subsonic_queries as sq
from ...store import users as users_store
from .. import proxyauth
from ..app import request_address
from ..ratelimit import RateLimited
from .envelope import (
    CONFLICTING_AUTH,
    GENERIC,
    INVALID_API_KEY,
    MISSING_PARAMETER,
    WRONG_CREDENTIALS,
    SubsonicError,
)

log = logging.getLogger(__name__)

# how the caller proved who they are (``g.subsonic_auth``): changing one's own password needs LOGIN_PASSWORD
LOGIN_PASSWORD, APP_PASSWORD, TOKEN, API_KEY, PROXY = "login password", "app password", "token", "api key", "proxy"

HKDF_INFO = b"sonantica subsonic app password v1"
APP_PASSWORD_BYTES = 18  # 24 url-safe characters
MAX_APP_PASSWORD = 128


@lru_cache(maxsize=8)
def _key_for(key_path: str) -> bytes:
    seed = load_seed(key_path)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(seed)


def node_key() -> bytes:
    return _key_for(str(current_app.node.data.key_path))


def seal(key: bytes, user_id: str, password: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, password.encode(), user_id.encode())


def unseal(key: bytes, user_id: str, blob: bytes) -> str | None:
    try:
        return AESGCM(key).decrypt(bytes(blob[:12]), bytes(blob[12:]), user_id.encode()).decode()
    except Exception:  # wrong key (restored elsewhere) or damaged: as if unset
        log.warning("the Subsonic app password of %s cannot be decrypted; set a new one", user_id)
        return None


def new_app_password() -> str:
    return secrets.token_urlsafe(APP_PASSWORD_BYTES)


def decode_password(p: str) -> str:
    if p.startswith("enc:"):
        try:
            return bytes.fromhex(p[4:]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise SubsonicError(WRONG_CREDENTIALS, "wrong username or password") from None
    return p


async def app_password_of(user_id: str, blob: bytes | None) -> str | None:
    return unseal(node_key(), user_id, blob) if blob else None


async def authenticate(params) -> dict:
    """The calling user, or SubsonicError (40/41/43/44/10)."""
    try:  # a trusted sign-in proxy's header (docs/proxy-login.md): that user; a u= must name them
        proxied = await proxyauth.proxy_user()
    except proxyauth.ProxyUserRefused as exc:
        raise SubsonicError(WRONG_CREDENTIALS, str(exc)) from None
    if proxied is not None:
        name = params.get("u")
        if name and name.casefold() != proxied["name"].casefold():
            raise SubsonicError(WRONG_CREDENTIALS, "u names another user than the sign-in proxy does")
        g.subsonic_auth = PROXY
        return proxied
    api_key = params.get("apiKey")
    name = params.get("u")
    if api_key is not None:
        if name is not None or params.get("p") is not None or params.get("t") is not None:
            raise SubsonicError(CONFLICTING_AUTH, "multiple conflicting authentication mechanisms provided")
        return await _by_api_key(api_key)
    if not name:
        raise SubsonicError(MISSING_PARAMETER, "required parameter 'u' (or 'apiKey') is missing")
    if params.get("t") is not None and params.get("p") is not None:
        raise SubsonicError(CONFLICTING_AUTH, "multiple conflicting authentication mechanisms provided")
    if params.get("t") is None and params.get("p") is None:
        raise SubsonicError(MISSING_PARAMETER, "required parameter 'p' or 't' and 's' is missing")
    if params.get("t") is not None and not params.get("s"):
        raise SubsonicError(MISSING_PARAMETER, "token authentication needs the salt 's'")
    return await _by_password(name[:64], params)


async def _by_api_key(key: str) -> dict:
    """API keys are 256-bit random: a wrong one is answered 44 at once, never throttled, and
    never makes anyone else wait."""
    user = None
    if key.startswith("son_") and len(key) <= 200:
        user = await current_app.node.store.write(users_store.user_for_api_key, key)
    if user is None:
        log.warning("invalid Subsonic API key from %s", request_address())
        raise SubsonicError(INVALID_API_KEY, "invalid API key")
    g.subsonic_auth = API_KEY
    return user


async def _by_password(name: str, params) -> dict:
    """The user of ``u`` with ``p``/``enc:`` or ``t``+``s``, through the app's LoginGuard: a wrong
    secret is error 40, a throttled (account, address) pair is HTTP 429 with error 0 "rate limited"
    (apps must not take it for a wrong password and forget the server)."""
    store = current_app.node.store
    guard, address = current_app.login_guard, request_address()
    found = await store.read(sq.secret_of, name)
    blob = bytes(found[1]) if found and found[1] else b""
    if params.get("t") is not None:
        fingerprint = guard.fingerprint("token", found[0] if found else "", blob, params["t"], params["s"])

        async def verify() -> bool:
            return await _token_ok(found, params["t"], params["s"])
    else:
        password = decode_password(params["p"])
        stored = await store.read(users_store.password_hash_of, name)
        fingerprint = guard.fingerprint("p", found[0] if found else "", blob, stored[1] if stored else "", password)

        async def verify() -> bool:
            return await _password_ok(found, stored, password)
    try:
        ok = await guard.attempt(name, address, fingerprint, verify)
    except RateLimited as exc:
        log.warning("Subsonic sign-in for %r from %s: rate limited for %d s", name, address, exc.retry_after)
        raise SubsonicError(GENERIC, str(exc), status=429, headers={"Retry-After": str(exc.retry_after)}) from None
    if not ok or found is None:
        log.warning("failed Subsonic sign-in for %r from %s", name, address)
        raise SubsonicError(WRONG_CREDENTIALS, "wrong username or password")
    return await store.read(users_store.get, found[0])


async def _token_ok(found: tuple | None, token: str, salt: str) -> bool:
    app_password = await app_password_of(found[0], found[1]) if found else None
    if app_password is None:
        return False
    expected = hashlib.md5((app_password + salt).encode()).hexdigest()
    g.subsonic_auth = TOKEN
    return hmac.compare_digest(expected.encode(), token.strip().lower().encode())


async def _password_ok(found: tuple | None, stored: tuple | None, password: str) -> bool:
    limiter = current_app.login_guard.cpu
    if found is None:
        # spend the same argon2id time as for a real user, so timing tells nothing
        dummy = await trio.to_thread.run_sync(_dummy_hash)
        await trio.to_thread.run_sync(users_store.verify_password, dummy, password, limiter=limiter)
        return False
    user_id, blob = found
    app_password = await app_password_of(user_id, blob)
    if app_password is not None and hmac.compare_digest(app_password.encode(), password.encode()):
        g.subsonic_auth = APP_PASSWORD
        return True
    g.subsonic_auth = LOGIN_PASSWORD
    return await _login_password_ok(user_id, stored, password)


# Apps that send p= repeat it on every request; argon2id costs ~0.5 s and 128 MiB each
# time, so a successful check is remembered as an HMAC (under the node key) of the password,
# keyed by the stored hash: changing the login password forgets it.
_VERIFIED: dict[tuple[str, str], bytes] = {}
MAX_VERIFIED = 1000


async def _login_password_ok(user_id: str, stored: tuple | None, password: str) -> bool:
    if not stored or stored[0] != user_id:
        return False
    key = (user_id, stored[1])
    mac = hmac.new(node_key(), password.encode(), hashlib.sha256).digest()
    remembered = _VERIFIED.get(key)
    if remembered is not None and hmac.compare_digest(remembered, mac):
        return True
    if not await trio.to_thread.run_sync(users_store.verify_password, stored[1], password,
                                         limiter=current_app.login_guard.cpu):
        return False
    if len(_VERIFIED) >= MAX_VERIFIED:
        _VERIFIED.clear()
    _VERIFIED[key] = mac
    return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return users_store.hash_password("dummy password for timing")
