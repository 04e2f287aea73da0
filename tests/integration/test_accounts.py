"""Who manages whom (issue 18, defect 10), on a real node through every door: the native API,
the Subsonic API (createUser, updateUser, deleteUser, changePassword) and the CLI.

The owner manages admins; admins manage listeners; nobody changes their own role, and a
user changes their own password only with the current one. Each refused attempt is also
checked to have changed nothing (the old password still signs in, the account still exists).
"""

import hashlib

import httpx
import pytest

from sonantica.node import cli
from sonantica.node.store import users as users_store
from sonantica.node.store.db import Store
from tests.support.audio import make_track
from tests.support.node import PASSWORD, init_node, running_node

USERS = {"owner": "owner", "admin": "admin", "admin2": "admin", "lis": "listener"}
NEW = "a brand new password"


@pytest.fixture
def data(tmp_path, music):
    make_track(music / "a.flac", "flac", {"title": "A", "artist": "Ana", "album": "Rec"}, seconds=1)
    return init_node(tmp_path / "data", music, USERS)


async def _sessions(node) -> dict[str, httpx.AsyncClient]:
    """A signed-in client per user (one argon2 check each)."""
    return {name: await node.login(name) for name in USERS}


async def _signs_in(node, name: str, password: str) -> bool:
    async with node.client() as c:
        r = await c.post("/api/v1/auth/login", json={"username": name, "password": password})
        assert r.status_code in (200, 401), r.text
        return r.status_code == 200


def _user_id(node, name: str) -> str | None:
    store = Store.open(node.data.db_path)
    try:
        found = store.read_sync(users_store.by_name, name)
        return found["id"] if found else None
    finally:
        store.close()


def _role(node, name: str) -> str | None:
    store = Store.open(node.data.db_path)
    try:
        found = store.read_sync(users_store.by_name, name)
        return found["role"] if found else None
    finally:
        store.close()


def _forbidden(r: httpx.Response) -> None:
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"


async def test_native_admin_cannot_manage_admins_or_the_owner(data):
    async with running_node(data) as node:
        s = await _sessions(node)
        admin, owner = s["admin"], s["owner"]
        ids = {name: _user_id(node, name) for name in USERS}

        # create: an admin makes listeners only
        _forbidden(await admin.post("/api/v1/users", json={"username": "eve", "password": NEW, "role": "admin"}))
        _forbidden(await admin.post("/api/v1/users", json={"username": "eve", "password": NEW, "role": "owner"}))
        assert _user_id(node, "eve") is None
        r = await admin.post("/api/v1/users", json={"username": "dee", "password": NEW})
        assert r.status_code == 201 and r.json()["user"]["role"] == "listener"

        # another admin's password, then "sign in as them": refused, nothing changed
        _forbidden(await admin.patch(f"/api/v1/users/{ids['admin2']}", json={"password": NEW}))
        # the owner's password
        _forbidden(await admin.patch(f"/api/v1/users/{ids['owner']}", json={"password": NEW}))
        # escalation: promote a listener, promote oneself, demote another admin, demote the owner
        _forbidden(await admin.patch(f"/api/v1/users/{ids['lis']}", json={"role": "admin"}))
        _forbidden(await admin.patch(f"/api/v1/users/{ids['admin']}", json={"role": "owner"}))
        _forbidden(await admin.patch(f"/api/v1/users/{ids['admin2']}", json={"role": "listener"}))
        _forbidden(await admin.patch(f"/api/v1/users/{ids['owner']}", json={"role": "listener"}))
        # a refused role with an allowed password changes neither
        _forbidden(await admin.patch(f"/api/v1/users/{ids['lis']}", json={"role": "admin", "password": NEW}))
        # remove another admin, the owner
        _forbidden(await admin.delete(f"/api/v1/users/{ids['admin2']}"))
        _forbidden(await admin.delete(f"/api/v1/users/{ids['owner']}"))

        assert [_role(node, n) for n in ("owner", "admin", "admin2", "lis")] == ["owner", "admin", "admin", "listener"]
        assert not await _signs_in(node, "admin2", NEW)
        assert await _signs_in(node, "admin2", PASSWORD)
        assert await _signs_in(node, "owner", PASSWORD)
        assert await _signs_in(node, "lis", PASSWORD)

        # what an admin may do: a listener's password and removal
        assert (await admin.patch(f"/api/v1/users/{ids['lis']}", json={"password": NEW})).status_code == 200
        assert await _signs_in(node, "lis", NEW)
        assert (await admin.delete(f"/api/v1/users/{_user_id(node, 'dee')}")).status_code == 204

        # the owner manages admins; nobody demotes or removes the owner, the owner included
        assert (await owner.patch(f"/api/v1/users/{ids['lis']}", json={"role": "admin"})).json()["user"]["role"] \
            == "admin"
        assert (await owner.patch(f"/api/v1/users/{ids['admin2']}", json={"role": "listener"})).status_code == 200
        _forbidden(await owner.patch(f"/api/v1/users/{ids['owner']}", json={"role": "admin"}))
        _forbidden(await owner.delete(f"/api/v1/users/{ids['owner']}"))
        assert (await owner.delete(f"/api/v1/users/{ids['admin']}")).status_code == 204
        assert _role(node, "owner") == "owner" and _user_id(node, "admin") is None


async def test_native_own_password_needs_the_current_one(data):
    async with running_node(data) as node:
        admin = await node.login("admin")
        me = _user_id(node, "admin")
        _forbidden(await admin.patch(f"/api/v1/users/{me}", json={"password": NEW}))
        r = await admin.put("/api/v1/me/password", json={"old_password": "not it at all", "new_password": NEW})
        assert r.status_code == 401
        r = await admin.put("/api/v1/me/password", json={"old_password": PASSWORD, "new_password": NEW})
        assert r.status_code == 200
        assert await _signs_in(node, "admin", NEW)


async def _api_key(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/v1/me/api-keys", json={"name": "test app"})
    assert r.status_code == 201
    return r.json()["key"]


async def _rest(node, method: str, auth: dict, **params) -> dict:
    async with node.client() as c:
        r = await c.get(f"/rest/{method}", params={"v": "1.16.1", "c": "t", "f": "json", **auth, **params})
    assert r.status_code == 200, r.text
    return r.json()["subsonic-response"]


def _code(answer: dict) -> int | None:
    return answer.get("error", {}).get("code") if answer["status"] == "failed" else None


async def test_subsonic_user_management_follows_the_same_rules(data):
    async with running_node(data) as node:
        s = await _sessions(node)
        key = {name: {"apiKey": await _api_key(client)} for name, client in s.items()}
        admin, owner, lis = key["admin"], key["owner"], key["lis"]

        # an admin: no admins created, no admin or owner touched, no listener promoted
        assert _code(await _rest(node, "createUser", admin, username="eve", password=NEW, email="e@x",
                                 adminRole="true")) == 50
        assert _user_id(node, "eve") is None
        assert _code(await _rest(node, "updateUser", admin, username="admin2", password=NEW)) == 50
        assert _code(await _rest(node, "changePassword", admin, username="admin2", password=NEW)) == 50
        assert _code(await _rest(node, "changePassword", admin, username="owner",
                                 password="enc:" + NEW.encode().hex())) == 50
        assert _code(await _rest(node, "updateUser", admin, username="lis", adminRole="true")) == 50
        assert _code(await _rest(node, "updateUser", admin, username="admin2", adminRole="false")) == 50
        assert _code(await _rest(node, "deleteUser", admin, username="admin2")) == 50
        assert _code(await _rest(node, "deleteUser", admin, username="owner")) == 50
        # a listener manages nobody, and learns nothing about who exists
        assert _code(await _rest(node, "createUser", lis, username="eve", password=NEW, email="e@x")) == 50
        assert _code(await _rest(node, "deleteUser", lis, username="admin")) == 50
        assert _code(await _rest(node, "deleteUser", lis, username="nobody-here")) == 50
        assert [_role(node, n) for n in USERS] == ["owner", "admin", "admin", "listener"]

        # what an admin may do: listeners
        assert _code(await _rest(node, "createUser", admin, username="dee", password=NEW, email="d@x")) is None
        assert _role(node, "dee") == "listener"
        assert _code(await _rest(node, "changePassword", admin, username="dee",
                                 password="enc:" + "yet another one".encode().hex())) is None
        assert await _signs_in(node, "dee", "yet another one")
        assert _code(await _rest(node, "deleteUser", admin, username="dee")) is None
        assert _user_id(node, "dee") is None

        # the owner: admins, but never demoting or removing the owner
        assert _code(await _rest(node, "updateUser", owner, username="lis", adminRole="true")) is None
        assert _role(node, "lis") == "admin"
        assert _code(await _rest(node, "updateUser", owner, username="owner", adminRole="true")) is None
        assert _code(await _rest(node, "updateUser", owner, username="owner", adminRole="false")) == 50
        assert _code(await _rest(node, "deleteUser", owner, username="owner")) == 50
        assert _code(await _rest(node, "deleteUser", owner, username="admin2")) is None
        assert _role(node, "owner") == "owner" and _user_id(node, "admin2") is None
        assert await _signs_in(node, "admin", PASSWORD) and await _signs_in(node, "owner", PASSWORD)


async def test_subsonic_own_password_only_when_signed_with_it(data):
    async with running_node(data) as node:
        client = await node.login("admin")
        api_key = await _api_key(client)
        r = await client.post("/api/v1/me/subsonic-password")
        app_pw = r.json()["password"]
        salt = "c0ffee"
        token = {"u": "admin", "t": hashlib.md5((app_pw + salt).encode()).hexdigest(), "s": salt}
        for auth in ({"apiKey": api_key}, token, {"u": "admin", "p": app_pw}):
            assert _code(await _rest(node, "changePassword", auth, username="admin", password=NEW)) == 50, auth
        assert await _signs_in(node, "admin", PASSWORD)
        signed = {"u": "admin", "p": "enc:" + PASSWORD.encode().hex()}
        assert _code(await _rest(node, "changePassword", signed, username="admin", password=NEW)) is None
        assert await _signs_in(node, "admin", NEW)


def test_cli_is_the_operator(tmp_path, music, capsys):
    """The CLI runs as the node's operator: it may reset an admin's or the owner's password; it keeps
    the last owner."""
    import io
    import sys

    make_track(music / "a.flac", "flac", {"title": "A"}, seconds=1)
    data = init_node(tmp_path / "d", music, {"owner": "owner", "admin": "admin"})
    for name in ("admin", "owner"):
        sys.stdin = io.StringIO(NEW + "\n")
        try:
            assert cli.main(["--data", str(data.root), "user", "passwd", name, "--password-stdin"]) == 0
        finally:
            sys.stdin = sys.__stdin__
    assert cli.main(["--data", str(data.root), "user", "remove", "owner"]) != 0
    assert "only owner" in capsys.readouterr().err
    assert cli.main(["--data", str(data.root), "user", "remove", "admin"]) == 0
