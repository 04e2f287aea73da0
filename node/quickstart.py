"""``make run``: a node that works on the first try.

With no music folder, a demo library is generated into the data folder and
indexed; the node is initialised on first use and then served. (When
federation exists, two more local demo nodes start beside it and join.)
"""

from __future__ import annotations

from pathlib import Path

import trio

from .config import DataDir
from .errors import InvalidInput


def prepare(data: DataDir, music: str | None, name: str = "Demo node") -> None:
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
        generate_demo_library(dest)
        music = str(dest)
    cli.main(["--data", str(data.root), "init", "--music", music, "--name", name])


def run(data: DataDir, music: str | None, bind: str) -> None:
    from dataclasses import replace

    from .daemon import serve

    prepare(data, music)
    config = replace(data.load_config(), bind=bind)
    trio.run(serve, data, config)
