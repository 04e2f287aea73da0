"""``make run``: a node that works on the first try.

With no music folder, a demo library is generated into the data folder and
indexed, and two more local demo nodes (their own demo libraries, one shared
recording) start beside it and join its federation, so the web app shows
federated music at once. Everything binds to 127.0.0.1. With a music folder,
only your node runs.
"""

from __future__ import annotations

import contextlib

import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import trio

from .config import DataDir
from .errors import InvalidInput

FOLLOWERS = (("Ana's node", 1), ("Ben's node", 2))


def prepare(data: DataDir, music: str | None, name: str = "Demo node", variant: int = 0) -> None:
    from . import cli

    if data.exists():
        if music:
            configured = data.load_config().music
            wanted = str(Path(music).expanduser().resolve())
            if wanted not in configured:
                raise InvalidInput(
                    f"{data.root} already serves {', '.join(configured)}; use DATA=another/folder for {music}"
                )
        return
    if not music:
        from .demo import generate_demo_library

        dest = data.root / "demo-music"
        print(f"generating the demo library in {dest} …", flush=True)
        generate_demo_library(dest, variant=variant)
        music = str(dest)
    with contextlib.redirect_stdout(sys.stderr):
        cli.main(["--data", str(data.root), "init", "--music", music, "--name", name])


def _port(bind: str) -> int:
    return int(bind.rsplit(":", 1)[1])


def run(data: DataDir, music: str | None, bind: str) -> None:
    from .daemon import serve

    prepare(data, music)
    config = replace(data.load_config(), bind=bind)
    if music:
        trio.run(serve, data, config)
        return
    port = _port(bind)
    config = replace(config, peer_bind=config.peer_bind or f"127.0.0.1:{port + 1}")
    followers = []
    for i, (name, variant) in enumerate(FOLLOWERS, start=1):
        fdata = DataDir(data.root.parent / f"{data.root.name}-{variant}")
        prepare(fdata, None, name, variant)
        web, peer = port + 10 * i, port + 10 * i + 1
        followers.append((fdata, f"127.0.0.1:{web}", f"127.0.0.1:{peer}"))
    procs = []
    try:
        for fdata, web, peer in followers:
            log = open(fdata.root / "serve.log", "ab")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "sonantica.node.cli", "--data", str(fdata.root), "serve", "--bind", web,
                 "--peer-bind", peer], stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            print(f"started {fdata.load_config().name} on http://{web} (log: {fdata.root / 'serve.log'})", flush=True)
        trio.run(_serve_federated, data, config, followers)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


async def _serve_federated(data: DataDir, config, followers) -> None:
    from .daemon import serve

    async with trio.open_nursery() as nursery:
        await nursery.start(serve, data, config)
        nursery.start_soon(_federate, data, config, followers)


async def _federate(data: DataDir, config, followers) -> None:
    """Invite the demo followers that are not members yet (first run only)."""
    import logging

    from .federation import invites
    from .federation.errors import FederationError
    from .store import peers as peers_store
    from .store.db import Store

    log = logging.getLogger("sonantica.quickstart")
    await trio.sleep(1.0)  # the peer API binds first
    for fdata, _web, _peer in followers:
        fstore = Store.open(fdata.db_path)
        try:
            if fstore.read_sync(peers_store.state)["genesis"] is not None:
                continue
            main = Store.open(data.db_path)
            try:
                code = await trio.to_thread.run_sync(invites.create_invite, main, data, config)
            finally:
                main.close()
            for attempt in range(20):
                try:
                    result = await invites.join_async(fstore, fdata, fdata.load_config(), code)
                    log.info("%s joined %s", fdata.load_config().name, result["federation"])
                    break
                except FederationError as exc:
                    if "cannot reach" not in str(exc) or attempt == 19:
                        log.warning("demo node %s could not join: %s", fdata.root, exc)
                        break
                    await trio.sleep(0.5)
        finally:
            fstore.close()

