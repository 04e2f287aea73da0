"""``sonantica metadata refresh`` and the metadata lines of ``sonantica status`` (see ``cli.SUBSYSTEM_CLIS``).

``refresh`` marks the items to look at again (all, or one artist, album or track), skipping
cached answers. When the node is serving, its worker picks them up (within a minute); otherwise
the pass runs here, in the foreground. With ``metadata = false`` it only says how to turn it on.
"""

from __future__ import annotations

import argparse
import json

from ..config import DataDir
from ..errors import InvalidInput
from ..store import metadata as meta_store
from ..store.db import Store

KIND_OF = {"ar-": "artist", "al-": "album", "tr-": "track"}


def add_parsers(subparsers, commands: dict) -> None:
    s = subparsers.add_parser("metadata", help="external metadata: covers, MBIDs, lyrics, artist pictures (docs/metadata.md)")
    sub = s.add_subparsers(dest="metadata_command", required=True, metavar="ACTION")
    r = sub.add_parser("refresh", help="look again at everything, or one artist, album or track (cached answers skipped)")
    one = r.add_mutually_exclusive_group()
    one.add_argument("--artist", metavar="ID")
    one.add_argument("--album", metavar="ID")
    one.add_argument("--track", metavar="ID")
    r.add_argument("--json", action="store_true", help="print one JSON summary line")
    commands["metadata"] = cmd_metadata


def cmd_metadata(data: DataDir, args: argparse.Namespace) -> int:
    from ..serving import running_pid

    config = data.load_config()
    ident = args.artist or args.album or args.track
    wanted = "artist" if args.artist else "album" if args.album else "track" if args.track else None
    with Store.open(data.db_path) as store:
        if ident is not None:
            from ..store import browse

            if store.read_sync(browse.item_kind, ident) != wanted:
                raise InvalidInput(f"no {wanted} {ident!r} in this library")
        queued = store.write_sync(meta_store.request_refresh, wanted, ident)
        summary = {"queued": queued, "enabled": bool(config.metadata), "ran": "nothing"}
        if config.metadata and running_pid(data) is not None:
            summary["ran"] = "node"
        elif config.metadata:
            summary.update(ran="here", **_run_here(data, store, config))
    if args.json:
        print(json.dumps(summary))
    elif not config.metadata:
        print(f"{queued} items marked; external metadata is off: set `metadata = true` in "
              f"{data.config_path} (see docs/metadata.md), then restart the node")
    elif summary["ran"] == "node":
        print(f"{queued} items marked; the serving node looks at them within a minute")
    else:
        print(f"looked at {summary['looked']}; {len(summary['failures'])} could not be answered now")
        for line in summary["failures"][:10]:
            print(f"  {line}")
    return 0


def _run_here(data: DataDir, store: Store, config) -> dict:
    import trio

    from .worker import Worker

    async def one_pass():
        worker = Worker(store, config, data.cache_dir / "metadata")
        try:
            return await worker.run_pass()
        finally:
            await worker.http.aclose()

    result = trio.run(one_pass)
    return {"looked": result.looked, "failures": result.failures}


def status(store: Store) -> dict:
    return {"metadata": store.read_sync(meta_store.progress)}


def print_status(status: dict) -> None:
    m = status.get("metadata")
    if not m or not any(m[k]["checked"] for k in ("albums", "artists", "tracks")) and not m["providers"]:
        return
    parts = [f"{m[k]['checked']} of {m[k]['total']} {k} looked at ({m[k]['found']} found)"
             for k in ("albums", "artists", "tracks")]
    print("metadata: " + "; ".join(parts))
    for p in m["providers"]:
        line = f"  {p['name']}: {p['requests']} requests, {p['failures']} failures"
        if p["last_error"]:
            line += f"; last error: {p['last_error']}"
        print(line)
