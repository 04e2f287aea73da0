"""Who calls: Subsonic credentials (``p``, ``enc:``, token + salt, ``apiKey``) and app passwords.

Token auth (``t = md5(password + s)``) needs the password itself, which an
argon2id hash cannot give back. So each user may have a *Subsonic app
password*: random, shown to its owner, and stored encrypted with AES-GCM
under a key derived (HKDF-SHA256) from the node's Ed25519 seed, which never
leaves the data folder. The login hash stays argon2id; a stolen database
alone reveals no app password. ``p=`` accepts the app password and also the
account's login password (checked with argon2id in a worker thread).
API keys (``apiKey``, the apiKeyAuthentication extension) are the node's
own API keys. Every failure answers error 40 (44 for a bad API key) and
counts against the app's login limiter, like a failed web sign-in.
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
from .envelope import (
    CONFLICTING_AUTH,
    INVALID_API_KEY,
    MISSING_PARAMETER,
    WRONG_CREDENTIALS,
    SubsonicError,
)

log = logging.getLogger(__name__)

# how the caller proved who they are (``g.subsonic_auth``): changing one's own password needs LOGIN_PASSWORD
LOGIN_PASSWORD, APP_PASSWORD, TOKEN, API_KEY = "login password", "app password", "token", "api key"

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
    limiter = current_app.login_limiter
    account_key, address_key = f"user:{name[:64].casefold()}", f"addr:{request.remote_addr or '?'}"
    wait = limiter.retry_after(account_key, address_key)
    if wait > 0:
        raise SubsonicError(WRONG_CREDENTIALS, f"too many failed sign-ins: try again in {int(wait) + 1} s")
    user = await _by_password(name[:64], params)
    if user is None:
        limiter.failure(account_key, address_key)
        log.warning("failed Subsonic sign-in for %r from %s", name, request.remote_addr)
        raise SubsonicError(WRONG_CREDENTIALS, "wrong username or password")
    limiter.success(account_key)
    return user


async def _by_api_key(key: str) -> dict:
    limiter = current_app.login_limiter
    address_key = f"addr:{request.remote_addr or '?'}"
    wait = limiter.retry_after(address_key)
    if wait > 0:
        raise SubsonicError(INVALID_API_KEY, f"too many failed sign-ins: try again in {int(wait) + 1} s")
    user = None
    if key.startswith("son_") and len(key) <= 200:
        user = await current_app.node.store.write(users_store.user_for_api_key, key)
    if user is None:
        limiter.failure(address_key)
        raise SubsonicError(INVALID_API_KEY, "invalid API key")
    g.subsonic_auth = API_KEY
    return user


async def _by_password(name: str, params) -> dict | None:
    store = current_app.node.store
    found = await store.read(sq.secret_of, name)
    if found is None:
        # spend the same argon2id time as for a real user, so timing tells nothing
        if params.get("p") is not None:
            dummy = await trio.to_thread.run_sync(_dummy_hash)
            await trio.to_thread.run_sync(users_store.verify_password, dummy, decode_password(params["p"]))
        return None
    user_id, blob = found
    app_password = await app_password_of(user_id, blob)
    if params.get("t") is not None:
        if app_password is None:
            return None
        expected = hashlib.md5((app_password + params["s"]).encode()).hexdigest()
        ok = hmac.compare_digest(expected.encode(), params["t"].strip().lower().encode())
        g.subsonic_auth = TOKEN
    else:
        password = decode_password(params["p"])
        ok = app_password is not None and hmac.compare_digest(app_password.encode(), password.encode())
        g.subsonic_auth = APP_PASSWORD
        if not ok:
            ok = await _login_password_ok(name, user_id, password)
            g.subsonic_auth = LOGIN_PASSWORD
    return await store.read(users_store.get, user_id) if ok else None


# Apps that send p= repeat it on every request; argon2id costs ~0.5 s and 128 MiB each
# time, so a successful check is remembered as an HMAC (under the node key) of the password,
# keyed by the stored hash: changing the login password forgets it.
_VERIFIED: dict[tuple[str, str], bytes] = {}
MAX_VERIFIED = 1000


async def _login_password_ok(name: str, user_id: str, password: str) -> bool:
    stored = await current_app.node.store.read(users_store.password_hash_of, name)
    if not stored or stored[0] != user_id:
        return False
    key = (user_id, stored[1])
    mac = hmac.new(node_key(), password.encode(), hashlib.sha256).digest()
    remembered = _VERIFIED.get(key)
    if remembered is not None and hmac.compare_digest(remembered, mac):
        return True
    if not await trio.to_thread.run_sync(users_store.verify_password, stored[1], password):
        return False
    if len(_VERIFIED) >= MAX_VERIFIED:
        _VERIFIED.clear()
    _VERIFIED[key] = mac
    return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return users_store.hash_password("dummy password for timing")
