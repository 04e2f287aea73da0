"""A real node on loopback for tests: `async with running_node(tmp, music) as node:`.

The node is initialised through the CLI's own code, then ``serve`` runs in the
test's nursery bound to 127.0.0.1 on a free port; ``node.url`` is the real
address and ``node.client()`` an httpx client for it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import trio

from sonantica.node import cli
from sonantica.node.config import DataDir
from sonantica.node.daemon import serve
from sonantica.node.store import users as users_store
from sonantica.node.store.db import Store

PASSWORD = "correct horse battery"


@dataclass
class RunningNode:
    data: DataDir
    url: str
    scope: trio.CancelScope

    def client(self, **kw) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, **kw)

    async def login(self, name: str = "owner", password: str = PASSWORD) -> httpx.AsyncClient:
        client = self.client()
        r = await client.post("/api/v1/auth/login", json={"username": name, "password": password})
        assert r.status_code == 200, r.text
        return client

    async def wait_scanned(self, timeout: float = 30) -> dict:
        async with self.client() as c:
            with trio.fail_after(timeout):
                while True:
                    r = await c.get("/api/v1/health")
                    s = await self._scan_state()
                    if s and s["finished_at"] and s["started_at"] <= s["finished_at"]:
                        return s
                    await trio.sleep(0.05)
                    del r

    async def _scan_state(self):
        from sonantica.node.store import tracks

        store = Store.open(self.data.db_path)
        try:
            return store.read_sync(tracks.scan_state)
        finally:
            store.close()


def init_node(root: Path, music: Path | list[Path], users: dict[str, str] | None = None, **config) -> DataDir:
    musics = music if isinstance(music, list) else [music]
    args = ["--data", str(root), "init", "--name", config.pop("name", "Test node")]
    for m in musics:
        args += ["--music", str(m)]
    assert cli.main(args) == 0
    data = DataDir(root)
    config.setdefault("peer_bind", "127.0.0.1")  # the peer port is bound at serve start: keep it on loopback
    if config:
        data.save_config(replace(data.load_config(), **config))
    store = Store.open(data.db_path)
    try:
        for name, role in (users if users is not None else {"owner": "owner"}).items():
            store.write_sync(users_store.create, name, users_store.hash_password(PASSWORD), role)
    finally:
        store.close()
    return data


@contextlib.asynccontextmanager
async def running_node(data: DataDir, **overrides):
    config = replace(data.load_config(), bind="127.0.0.1:0", watch=overrides.pop("watch", False), **overrides)
    async with trio.open_nursery() as nursery:
        with trio.CancelScope() as scope:
            bound = await nursery.start(serve, data, config)
            url = next(u for u in bound if u.startswith("http"))
            node = RunningNode(data, url, scope)
            await node.wait_scanned()
            yield node
            nursery.cancel_scope.cancel()
