"""Sign-in, first-run owner creation, users and API keys (native API)."""

from __future__ import annotations

import hmac
import ipaddress
import logging

from quart import Blueprint, current_app, jsonify, request

from ..store import users as users_store
from .access import ADMIN, PUBLIC, USER, access
from .app import SESSION_COOKIE, current_user, json_body
from .errors import ApiError, forbidden

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
    return jsonify({"needed": empty, "loopback": _is_loopback(), "name": current_app.node.config.name})


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
    import trio

    body = await json_body("username", "password")
    name, password = str(body["username"])[:64], str(body["password"])
    address = request.remote_addr or "?"
    limiter = current_app.login_limiter
    account_key, address_key = f"user:{name.casefold()}", f"addr:{address}"
    wait = limiter.retry_after(account_key, address_key)
    if wait > 0:
        log.warning("login refused for %r from %s: rate limited for %.0f s", name, address, wait)
        raise ApiError(429, "rate_limited", f"too many failed sign-ins: try again in {int(wait) + 1} s",
                       {"Retry-After": str(int(wait) + 1)})
    store = current_app.node.store
    found = await store.read(users_store.password_hash_of, name)
    # verify against a dummy hash when the user does not exist, so timing tells nothing
    stored = found[1] if found else _DUMMY_HASH
    ok = await trio.to_thread.run_sync(users_store.verify_password, stored, password)
    if not (found and ok):
        limiter.failure(account_key, address_key)
        log.warning("failed sign-in for %r from %s", name, address)
        raise ApiError(401, "bad_credentials", "wrong user name or password")
    limiter.success(account_key)
    user = await store.read(users_store.get, found[0])
    return await _signed_in(user)


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
    import trio

    body = await json_body("old_password", "new_password")
    user = current_user()
    store = current_app.node.store
    found = await store.read(users_store.password_hash_of, user["name"])
    if not found or not await trio.to_thread.run_sync(users_store.verify_password, found[1], str(body["old_password"])):
        raise ApiError(401, "bad_credentials", "the current password is wrong")
    await store.write(users_store.set_password, user["id"], await _hash(str(body["new_password"])))
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


@bp.post("/users")
@access(ADMIN)
async def create_user():
    body = await json_body("username", "password")
    role = str(body.get("role", "listener"))
    if role == "owner" and current_user()["role"] != "owner":
        raise forbidden("only the owner can make another owner")
    password_hash = await _hash(str(body["password"]))
    user = await current_app.node.store.write(users_store.create, str(body["username"]), password_hash, role)
    return jsonify({"user": user}), 201


@bp.patch("/users/<user_id>")
@access(ADMIN)
async def update_user(user_id: str):
    body = await json_body()
    store = current_app.node.store
    target = await store.read(users_store.get, user_id)
    me_ = current_user()
    if target["role"] == "owner" and me_["role"] != "owner":
        raise forbidden("only the owner can change the owner")
    if "role" in body:
        if body["role"] == "owner" and me_["role"] != "owner":
            raise forbidden("only the owner can make another owner")
        await store.write(users_store.set_role, user_id, str(body["role"]))
    if "password" in body:
        await store.write(users_store.set_password, user_id, await _hash(str(body["password"])))
    return jsonify({"user": await store.read(users_store.get, user_id)})


@bp.delete("/users/<user_id>")
@access(ADMIN)
async def delete_user(user_id: str):
    store = current_app.node.store
    target = await store.read(users_store.get, user_id)
    if target["role"] == "owner" and current_user()["role"] != "owner":
        raise forbidden("only the owner can remove an owner")
    await store.write(users_store.remove, user_id)
    return "", 204
