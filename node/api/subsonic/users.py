"""Users: getUser, getUsers, createUser, updateUser, deleteUser, changePassword; and the native
endpoint where a signed-in user manages their Subsonic app password (``/api/v1/me/subsonic-password``).

Who may manage whom is decided by :mod:`sonantica.node.accounts`, the same rules as the
native API's; a refusal is error 50. The role (``adminRole``), the password and the music folders
(``musicFolderId``, repeated) are kept: the other Subsonic role flags and ``email`` are accepted and
ignored. A ``folder`` list naming every folder there is means "every folder, present and future" (as
an account that was never limited); the owner and admins always see every folder.
"""

from __future__ import annotations

import trio
from quart import Blueprint, current_app, g, jsonify, request

from ... import accounts
from ...store import scope
from ...store import subsonic_queries as sq
from ...store import users as users_store
from ..access import USER, access
from ..app import current_user, json_body
from ..errors import bad_request
from . import auth, shapes
from .core import Call, method
from .envelope import GENERIC, NOT_AUTHORISED, SubsonicError, not_found

native = Blueprint("subsonic_native", __name__, url_prefix="/api/v1")


async def _folders(call: Call) -> list[int]:
    """Every music folder there is: the node's own and one per federation member."""
    return await call.store.read(users_store.all_folder_ids)


def _shape(user: dict, every: list[int], share_links: bool) -> dict:
    """getUser's user with the folders it sees (every folder for the owner, admins and unlimited listeners)."""
    chosen = scope.folders_of(user)
    return shapes.user(user, every if chosen is None else [f for f in every if f in chosen], share_links)


async def _chosen_folders(call: Call) -> object:
    """``musicFolderId`` (repeated) of createUser/updateUser: UNCHANGED when absent; every folder → None."""
    wanted = call.ints("musicFolderId")
    if not wanted:
        return accounts.UNCHANGED
    every = await _folders(call)
    return None if set(every) <= set(wanted) else wanted


@method("getUser")
async def get_user(call: Call) -> dict:
    name = call.get("username") or call.user["name"]
    if name.casefold() != call.user["name"].casefold() and call.user["role"] not in ("owner", "admin"):
        raise SubsonicError(NOT_AUTHORISED, "only an admin can see other users")
    found = await call.store.read(users_store.by_name, name)
    if found is None:
        raise not_found(f"user {name!r}")
    return {"user": _shape(found, await _folders(call), call.node.config.share_links)}


@method("getUsers")
async def get_users(call: Call) -> dict:
    if call.user["role"] not in ("owner", "admin"):
        raise SubsonicError(NOT_AUTHORISED, "only an admin can list users")
    folders = await _folders(call)
    return {"users": {"user": [_shape(u, folders, call.node.config.share_links)
                               for u in await call.store.read(users_store.list_users)]}}


# -- user management -----------------------------------------------------------
def _new_password(call: Call) -> str:
    raw = call.require("password")
    if raw.startswith("enc:"):
        try:
            return bytes.fromhex(raw[4:]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise SubsonicError(GENERIC, "password: after 'enc:' send the hex of the UTF-8 password") from None
    return raw


async def _hash(password: str) -> str:
    users_store.check_password_rules(password)
    return await trio.to_thread.run_sync(users_store.hash_password, password)


async def _target(call: Call) -> dict:
    """The account named by ``username``; listeners learn nothing about other accounts."""
    name = call.require("username")
    if name.casefold() != call.user["name"].casefold() and call.user["role"] not in ("owner", "admin"):
        raise SubsonicError(NOT_AUTHORISED, "only an admin can manage other users")
    found = await call.store.read(users_store.by_name, name)
    if found is None:
        raise not_found(f"user {name!r}")
    return found


def _proved_current() -> bool:
    """This call was signed with the account's login password itself (``p=``), not an app
    password, token or API key: the proof a user gives to change their own password."""
    return g.get("subsonic_auth") == auth.LOGIN_PASSWORD


@method("createUser")
async def create_user(call: Call) -> dict:
    name = call.require("username")
    role = "admin" if call.bool("adminRole") else "listener"
    accounts.check_create(call.user, role)  # before spending argon2 time
    folders = await _chosen_folders(call)
    password_hash = await _hash(_new_password(call))
    await call.store.write(accounts.create, call.user, name, password_hash, role, folders)
    return {}


@method("updateUser")
async def update_user(call: Call) -> dict:
    target = await _target(call)
    role = None
    if call.get("adminRole") not in (None, ""):
        wanted = "admin" if call.bool("adminRole") else "listener"
        role = None if target["role"] == "owner" and wanted == "admin" else wanted  # owner ⊃ admin
    has_password = call.get("password") not in (None, "")
    folders = await _chosen_folders(call)
    if folders is not accounts.UNCHANGED and target["role"] == "owner":
        folders = accounts.UNCHANGED  # apps send every folder back for the owner, who sees them all anyway
    await call.store.read(accounts.check_update, call.user, target["id"], role, has_password, _proved_current(),
                          folders is not accounts.UNCHANGED)
    password_hash = await _hash(_new_password(call)) if has_password else None
    await call.store.write(accounts.update, call.user, target["id"], role=role, password_hash=password_hash,
                           proved_current=_proved_current(), folders=folders)
    return {}


@method("deleteUser")
async def delete_user(call: Call) -> dict:
    target = await _target(call)
    await call.store.write(accounts.remove, call.user, target["id"])
    return {}


@method("changePassword")
async def change_password(call: Call) -> dict:
    target = await _target(call)
    await call.store.read(accounts.check_update, call.user, target["id"], None, True, _proved_current())
    password_hash = await _hash(_new_password(call))
    await call.store.write(accounts.update, call.user, target["id"], password_hash=password_hash,
                           proved_current=_proved_current())
    return {}


# -- native: the Subsonic app password ---------------------------------------------
def _describe(password: str | None) -> dict:
    return {"password": password, "set": password is not None,
            "usage": "Subsonic apps: your user name and this password (token or plain auth), "
                     "or an API key with apps that support apiKey"}


@native.get("/me/subsonic-password")
@access(USER)
async def show_app_password():
    """Your Subsonic app password (null when none is set)."""
    user = current_user()
    found = await current_app.node.store.read(sq.secret_of, user["name"])
    return jsonify(_describe(await auth.app_password_of(user["id"], found[1] if found else None)))


@native.route("/me/subsonic-password", methods=["POST", "PUT"])
@access(USER)
async def set_app_password():
    """POST: a new random app password. PUT ``{"password": …}``: one of your choice (8–128 characters)."""
    user = current_user()
    password = auth.new_app_password()
    if request.method == "PUT":
        body = await json_body()
        chosen = body.get("password")
        if not isinstance(chosen, str) or not 8 <= len(chosen) <= auth.MAX_APP_PASSWORD:
            raise bad_request(f"send {{\"password\": \"…\"}} of 8–{auth.MAX_APP_PASSWORD} characters")
        password = chosen
    blob = auth.seal(auth.node_key(), user["id"], password)
    await current_app.node.store.write(sq.set_secret, user["id"], blob)
    return jsonify(_describe(password)), 201


@native.delete("/me/subsonic-password")
@access(USER)
async def delete_app_password():
    """Remove your Subsonic app password (token auth stops working; p= with the login password still does)."""
    await current_app.node.store.write(sq.set_secret, current_user()["id"], None)
    return "", 204
