"""Sign-in, first-run owner creation, users and API keys (native API)."""

from __future__ import annotations

import hmac
import ipaddress
import logging

from quart import Blueprint, current_app, g, jsonify, request

from .. import accounts
from ..store import users as users_store
from .access import ADMIN, OWNER, PUBLIC, USER, access
from .app import SESSION_COOKIE, current_user, json_body, request_address
from .errors import ApiError, forbidden
from .ratelimit import RateLimited

log = logging.getLogger(__name__)
bp = Blueprint("users", __name__, url_prefix="/api/v1")


def _is_loopback() -> bool:
    try:
        return ipaddress.ip_address((request.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


@bp.get("/setup")
@access(PUBLIC)
async def setup_status():
    empty = await current_app.node.store.read(users_store.count) == 0
    # signed_in: the request already names a user (a sign-in proxy's header, a session): no sign-in form
    return jsonify({"needed": empty, "loopback": _is_loopback(), "name": current_app.node.config.name,
                    "signed_in": g.user is not None})


@bp.post("/setup")
@access(PUBLIC)
async def setup():
    """Create the owner on a node with no users: from loopback, or with the token `serve` printed."""
    body = await json_body("username", "password")
    token = str(body.get("setup_token") or "")
    if not _is_loopback() and not hmac.compare_digest(token.encode(), current_app.setup_token.encode()):
        raise forbidden("the owner can be created from the node's own machine, or with the setup token it printed")
    store = current_app.node.store
    password_hash = await _hash(str(body["password"]))

    def create_owner(db):
        if users_store.count(db) != 0:
            raise ApiError(409, "conflict", "this node already has an owner: sign in instead")
        return users_store.create(db, str(body["username"]), password_hash, "owner")

    user = await store.write(create_owner)
    current_app.setup_token = ""  # single use
    return await _signed_in(user, status=201)


async def _hash(password: str) -> str:
    import trio

    users_store.check_password_rules(password)
    return await trio.to_thread.run_sync(users_store.hash_password, password)


@bp.post("/auth/login")
@access(PUBLIC)
async def login():
    body = await json_body("username", "password")
    name, password = str(body["username"])[:64], str(body["password"])
    user_id = await _check_login_password(name, password)
    if user_id is None:
        raise ApiError(401, "bad_credentials", "wrong user name or password")
    user = await current_app.node.store.read(users_store.get, user_id)
    return await _signed_in(user)


async def _check_login_password(name: str, password: str) -> str | None:
    """The account's id if ``password`` is its login password, else None; 429 while this account
    must wait from this address (:class:`.ratelimit.LoginGuard`: other accounts never wait)."""
    import trio

    found = await current_app.node.store.read(users_store.password_hash_of, name)
    # verify against a dummy hash when the user does not exist, so timing tells nothing
    stored = found[1] if found else _DUMMY_HASH
    guard, address = current_app.login_guard, request_address()

    async def verify() -> bool:
        ok = await trio.to_thread.run_sync(users_store.verify_password, stored, password, limiter=guard.cpu)
        return bool(found) and ok

    try:
        ok = await guard.attempt(name, address, guard.fingerprint("login", stored, password), verify)
    except RateLimited as exc:
        log.warning("sign-in for %r from %s: rate limited for %d s", name, address, exc.retry_after)
        raise ApiError(429, "rate_limited", f"too many failed sign-ins for this account from your address: "
                       f"{exc}", {"Retry-After": str(exc.retry_after)}) from None
    if not ok:
        log.warning("failed sign-in for %r from %s", name, address)
    return found[0] if ok and found else None


_DUMMY_HASH = users_store.hash_password("dummy password for timing")


async def _signed_in(user: dict, status: int = 200):
    token = await current_app.node.store.write(users_store.new_session, user["id"], "web")
    resp = jsonify({"user": user, "token": token})
    resp.status_code = status
    resp.set_cookie(SESSION_COOKIE, token, max_age=users_store.SESSION_TTL, httponly=True, samesite="Lax",
                    secure=request.scheme == "https", path="/")
    return resp


@bp.post("/auth/logout")
@access(PUBLIC)
async def logout():
    token = request.cookies.get(SESSION_COOKIE) or request.headers.get("Authorization", "")[7:].strip()
    if token:
        await current_app.node.store.write(users_store.end_session, token)
    resp = jsonify({"ok": True})
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@bp.get("/me")
@access(USER)
async def me():
    return jsonify({"user": current_user()})


@bp.put("/me/password")
@access(USER)
async def change_my_password():
    body = await json_body("old_password", "new_password")
    user = current_user()
    store = current_app.node.store
    if await _check_login_password(user["name"], str(body["old_password"])) != user["id"]:
        raise ApiError(401, "bad_credentials", "the current password is wrong")
    password_hash = await _hash(str(body["new_password"]))
    await store.write(accounts.update, user, user["id"], password_hash=password_hash, proved_current=True)
    return jsonify({"ok": True})


@bp.get("/me/api-keys")
@access(USER)
async def my_api_keys():
    keys = await current_app.node.store.read(users_store.list_api_keys, current_user()["id"])
    return jsonify({"api_keys": keys})


@bp.post("/me/api-keys")
@access(USER)
async def new_api_key():
    body = await json_body("name")
    info, key = await current_app.node.store.write(users_store.new_api_key, current_user()["id"], str(body["name"]))
    return jsonify({"api_key": info, "key": key}), 201


@bp.delete("/me/api-keys/<key_id>")
@access(USER)
async def revoke_api_key(key_id: str):
    await current_app.node.store.write(users_store.revoke_api_key, current_user()["id"], key_id)
    return "", 204


@bp.get("/users")
@access(ADMIN)
async def list_users():
    return jsonify({"users": await current_app.node.store.read(users_store.list_users)})


def _folders(body: dict) -> object:
    """The body's ``folders``: a list of music folder ids, null for every folder, absent for no change."""
    if "folders" not in body:
        return accounts.UNCHANGED
    value = body["folders"]
    if value is None:
        return None
    if not isinstance(value, list) or any(isinstance(f, bool) or not isinstance(f, int) for f in value):
        raise ApiError(400, "invalid_input", "folders must be a list of music folder ids, or null for every folder")
    return value


@bp.post("/users")
@access(ADMIN)
async def create_user():
    """Create an account; ``folders`` (music folder ids, or null for all) instead of the owner's default."""
    body = await json_body("username", "password")
    role = str(body.get("role", "listener"))
    accounts.check_create(current_user(), role)
    folders = _folders(body)
    password_hash = await _hash(str(body["password"]))
    user = await current_app.node.store.write(accounts.create, current_user(), str(body["username"]),
                                              password_hash, role, folders)
    return jsonify({"user": user}), 201


@bp.get("/user-defaults")
@access(ADMIN)
async def user_defaults():
    """What new accounts get: ``folders``, the music folder ids (null: every folder, present and future)."""
    return jsonify({"folders": await current_app.node.store.read(users_store.default_folders)})


@bp.put("/user-defaults")
@access(OWNER)
async def set_user_defaults():
    """Choose the music folders new accounts get (the owner only)."""
    body = await json_body("folders")
    folders = _folders(body)
    return jsonify({"folders": await current_app.node.store.write(accounts.set_default_folders, current_user(),
                                                                  folders)})


@bp.patch("/users/<user_id>")
@access(ADMIN)
async def update_user(user_id: str):
    """Change an account's role, password and/or music folders (who may: specs/api.md, Who manages whom).

    The checks (:mod:`sonantica.node.accounts`) run again in the write that makes the change, on
    the target as it is then: a refused request changes nothing, and a concurrent role change
    cannot slip between check and write."""
    body = await json_body()
    store = current_app.node.store
    actor = current_user()
    role = str(body["role"]) if "role" in body else None
    folders = _folders(body)
    await store.read(accounts.check_update, actor, user_id, role, "password" in body,
                     folders=folders is not accounts.UNCHANGED)  # before argon2 time
    password_hash = await _hash(str(body["password"])) if "password" in body else None
    await store.write(accounts.update, actor, user_id, role=role, password_hash=password_hash, folders=folders)
    return jsonify({"user": await store.read(users_store.get, user_id)})


@bp.delete("/users/<user_id>")
@access(ADMIN)
async def delete_user(user_id: str):
    await current_app.node.store.write(accounts.remove, current_user(), user_id)
    return "", 204
