"""The ``sonantica`` command: thin wrappers over the node's modules.

Every :class:`NodeError` prints one line (``sonantica: error: …``) and exits
non-zero; anything else is a bug and keeps its traceback. Each command imports
what it uses inside its function, so that ``status`` or an up-to-date ``scan``
starts without loading the HTTP app, the federation or the audio libraries.
Subsystems add their commands through their own ``cli`` modules (imported
below; they keep their imports light in the same way).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .analysis import cli as analysis_cli
from .analytics import cli as analytics_cli
from .config import Config, DataDir, default_data_dir
from .errors import AlreadyInitialised, InvalidInput, NodeError, NodeIsRunning
from .federation import cli as federation_cli
from .metadata import cli as metadata_cli
from .store import tracks as tracks_store
from .store import users as users_store
from .store.db import Store

#: Subsystems' commands: each module has ``add_parsers(subparsers, commands)``, which adds
#: its parsers and puts ``name: handler(data, args) -> int`` into ``commands``; those
#: with ``status(store)`` / ``print_status(status)`` add to ``sonantica status``.
SUBSYSTEM_CLIS = (analysis_cli, federation_cli, analytics_cli, metadata_cli)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sonantica", description="Sonántica: your music, your node, your friends' nodes.")
    p.add_argument("--data", metavar="DIR", help="data folder (default $SONANTICA_DATA or ~/.local/share/sonantica)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help="create a node: data folder, config, database and identity key")
    s.add_argument("--music", action="append", required=True, metavar="PATH", help="a music folder (repeatable)")
    s.add_argument("--name", help="the node's name, shown to users and peers")

    s = sub.add_parser("user", help="manage users")
    us = s.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    a = us.add_parser("add", help="add a user (the first user is the owner)")
    a.add_argument("name")
    a.add_argument("--admin", action="store_true", help="give the user the admin role")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    us.add_parser("list", help="list users")
    a = us.add_parser("passwd", help="change a user's password")
    a.add_argument("name")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    a = us.add_parser("remove", help="remove a user")
    a.add_argument("name")

    s = sub.add_parser("scan", help="index the music folders")
    s.add_argument("--full", action="store_true", help="re-read every file, not only changed ones")
    s.add_argument("--json", action="store_true", help="print one JSON summary line")

    s = sub.add_parser("serve", help="run the node until interrupted")
    s.add_argument("--bind", metavar="HOST:PORT", help="address for clients (default from config, 127.0.0.1:4533)")
    s.add_argument("--peer-bind", metavar="HOST:PORT", help="address for peer nodes")

    s = sub.add_parser("status", help="show the node's library and activity")
    s.add_argument("--json", action="store_true", help="print JSON")

    s = sub.add_parser("backup", help="write a consistent backup (database, config, identity key)")
    s.add_argument("file", metavar="FILE")
    s = sub.add_parser("restore", help="restore a backup into the data folder (node must not be running)")
    s.add_argument("file", metavar="FILE")

    s = sub.add_parser("quickstart", help="initialise on first use (demo library if no --music) and serve")
    s.add_argument("--music", metavar="PATH", help="your music folder (default: generate a demo library)")
    s.add_argument("--bind", metavar="HOST:PORT", default="127.0.0.1:4533")

    s = sub.add_parser("demo", help="generate the demo library into a folder")
    s.add_argument("dest", metavar="DIR")
    s.add_argument("--variant", type=int, default=0)
    for module in SUBSYSTEM_CLIS:
        module.add_parsers(sub, COMMANDS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data = DataDir(Path(args.data).expanduser() if args.data else default_data_dir())
    try:
        handler = COMMANDS[args.command]
        return handler(data, args) or 0
    except NodeError as exc:
        print(f"sonantica: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sonantica: interrupted", file=sys.stderr)
        return 130


def open_store(data: DataDir) -> Store:
    data.require()
    return Store.open(data.db_path)


# -- init ---------------------------------------------------------------------
def cmd_init(data: DataDir, args: argparse.Namespace) -> int:
    import getpass

    from . import identity

    if data.exists() or data.key_path.exists() or data.db_path.exists():
        raise AlreadyInitialised(
            f"a node already exists in {data.root}; refusing to reset it (use another --data folder, or remove it by hand)"
        )
    music = []
    for path in args.music:
        full = Path(path).expanduser().resolve()
        if not full.is_dir():
            raise InvalidInput(f"music folder {path} does not exist or is not a folder")
        music.append(str(full))
    data.root.mkdir(parents=True, exist_ok=True)
    os.chmod(data.root, 0o700)
    identity.create_key(data.key_path)
    config = Config(name=args.name or f"{getpass.getuser()}'s Sonántica", music=tuple(music))
    with Store.open(data.db_path) as store:
        store.write_sync(tracks_store.sync_folders, music)
    data.save_config(config)
    print(f"created node {config.name!r} in {data.root}")
    print(f"music: {', '.join(music)}")
    print("next: `sonantica user add NAME` then `sonantica serve`")
    print(f"covers, lyrics and artist pictures from MusicBrainz, LRCLIB and Wikipedia are off: set "
          f"`metadata = true` in {data.config_path} to fetch them (docs/metadata.md)")
    return 0


# -- users --------------------------------------------------------------------
def _read_password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput("no password on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask for a password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("the two passwords differ; nothing changed")
    return first


def cmd_user(data: DataDir, args: argparse.Namespace) -> int:
    """The CLI acts as the node's operator (:data:`accounts.OPERATOR`): whoever can run it on the data
    folder can read the database anyway, so every account rule but "keep one owner" yields to it."""
    from . import accounts

    with open_store(data) as store:
        action = args.user_command
        if action == "list":
            for u in store.read_sync(users_store.list_users):
                print(f"{u['name']}\t{u['role']}")
            return 0
        if action == "add":
            users_store.check_name(args.name)
            if store.read_sync(users_store.by_name, args.name):
                raise InvalidInput(f"user {args.name!r} already exists")
            password_hash = users_store.hash_password(_read_password(args.password_stdin))
            first = store.read_sync(users_store.count) == 0
            role = "owner" if first else ("admin" if args.admin else "listener")
            user = store.write_sync(accounts.create, accounts.OPERATOR, args.name, password_hash, role)
            print(f"added {user['name']} ({user['role']})")
            return 0
        user = store.read_sync(users_store.require_by_name, args.name)
        if action == "passwd":
            password_hash = users_store.hash_password(_read_password(args.password_stdin))
            store.write_sync(lambda db: accounts.update(db, accounts.OPERATOR, user["id"],
                                                        password_hash=password_hash))
            print(f"password of {user['name']} changed; their sessions are signed out")
        elif action == "remove":
            store.write_sync(accounts.remove, accounts.OPERATOR, user["id"])
            print(f"removed {user['name']}")
    return 0


# -- scan ---------------------------------------------------------------------
def cmd_scan(data: DataDir, args: argparse.Namespace) -> int:
    import trio

    from .library.scanner import Scanner

    config = data.load_config()
    with open_store(data) as store:
        scanner = Scanner(store, list(config.music), data.cache_dir / "covers", data.scan_lock, config.scan_workers)
        summary = trio.run(_scan_with_progress, scanner, args.full, not args.json and sys.stderr.isatty())
    if args.json:
        d = summary.as_dict()
        d.pop("problems")
        print(json.dumps(d))
    else:
        print(
            f"{summary.seen} files: {summary.added} added, {summary.updated} updated, {summary.moved} moved, "
            f"{summary.removed} removed, {summary.unchanged} unchanged, {summary.errors} with errors "
            f"({summary.seconds:.1f} s)"
        )
        if summary.unsupported:
            print(f"  {summary.unsupported} music files in an unsupported format were not indexed (listed with the errors)")
        for problem in summary.problems:
            print(f"  problem: {problem}")
        if summary.errors:
            print("  see `sonantica status` for the files that could not be read")
    return 0


async def _scan_with_progress(scanner, full: bool, show: bool):
    if not show:
        return await scanner.scan(full=full)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("scanning", total=None)
        return await scanner.scan(full=full, progress=lambda done, total: bar.update(task, completed=done, total=total))


# -- status -------------------------------------------------------------------
def cmd_status(data: DataDir, args: argparse.Namespace) -> int:
    from .serving import running_pid

    config = data.load_config()
    with open_store(data) as store:
        status = {
            "name": config.name,
            "data": str(data.root),
            "music": list(config.music),
            "serving": running_pid(data) is not None,
            "library": store.read_sync(tracks_store.counts),
            "last_scan": store.read_sync(tracks_store.scan_state),
            "scan_errors": store.read_sync(tracks_store.scan_errors, 50),
            "unsupported_formats": store.read_sync(tracks_store.unsupported_formats),
            "scan_notes": store.read_sync(tracks_store.scan_notes, 50),
            "cannot_transcode": _cannot_transcode(store),
            "users": len(store.read_sync(users_store.list_users)),
        }
        status.update(_extra_status(store))
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
        return 0
    lib = status["library"]
    print(f"{status['name']} — {'serving' if status['serving'] else 'not serving'} — data in {status['data']}")
    print(f"library: {lib['tracks']} tracks, {lib['albums']} albums, {lib['artists']} artists, "
          f"{lib['genres']} genres, {lib['duration'] // 3600} h {lib['duration'] % 3600 // 60} min")
    scan = status["last_scan"]
    if scan and scan["finished_at"]:
        print(f"last scan: {time.strftime('%Y-%m-%d %H:%M', time.localtime(scan['finished_at']))}")
    elif scan:
        print("last scan: did not finish (run `sonantica scan`)")
    else:
        print("last scan: never (run `sonantica scan`)")
    if lib["unsupported"]:
        kinds = ", ".join(f"{ext} {n}" for ext, n in status["unsupported_formats"].items())
        print(f"unsupported format: {lib['unsupported']} files not indexed ({kinds})")
    if status["cannot_transcode"]:
        kinds = ", ".join(f"{codec} {n}" for codec, n in status["cannot_transcode"].items())
        print(f"no decoder in this FFmpeg build (these play only as originals, never transcoded): {kinds}")
    if lib["header_wrong"]:
        print(f"header wrong: {lib['header_wrong']} files indexed with the duration decoding gives:")
        for n in status["scan_notes"]:
            print(f"  {n['path']}: {n['note']}")
    if lib["errors"]:
        print(f"files that could not be read ({lib['errors']}):")
        for e in status["scan_errors"]:
            print(f"  {e['path']}: {e['reason']}")
    for module in SUBSYSTEM_CLIS:
        if hasattr(module, "print_status"):
            module.print_status(status)
    return 0


def _cannot_transcode(store: Store) -> dict[str, int]:
    """Indexed codecs this FFmpeg build cannot decode, with their track counts."""
    from .library.probe import missing_decoders

    codecs = store.read_sync(tracks_store.codec_counts)
    return {c: codecs[c] for c in missing_decoders(list(codecs))}


def _extra_status(store: Store) -> dict:
    """Status from other domains, when they exist (analysis, federation)."""
    extra = {}
    for module in SUBSYSTEM_CLIS:
        if hasattr(module, "status"):
            extra.update(module.status(store))
    return extra


# -- serve --------------------------------------------------------------------
def cmd_serve(data: DataDir, args: argparse.Namespace) -> int:
    import trio

    from .daemon import serve

    config = data.load_config()
    if args.bind:
        config = _with(config, bind=args.bind)
    if args.peer_bind:
        from .config import check_peer_bind

        config = _with(config, peer_bind=check_peer_bind(args.peer_bind, "--peer-bind"))
    trio.run(serve, data, config)
    return 0


def _with(config: Config, **changes) -> Config:
    from dataclasses import replace

    return replace(config, **changes)


# -- backup / restore -------------------------------------------------------------
BACKUP_MEMBERS = ("config.toml", "node.key", "sonantica.db")


def cmd_backup(data: DataDir, args: argparse.Namespace) -> int:
    import tarfile
    import tempfile

    dest = Path(args.file).expanduser()
    with open_store(data) as store, tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / "sonantica.db"
        store.backup_to(snapshot)
        partial = dest.with_name(dest.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(data.config_path, "config.toml")
            tar.add(data.key_path, "node.key")
            tar.add(snapshot, "sonantica.db")
        os.replace(partial, dest)
    print(f"backup written to {dest} (it holds the node's private key: keep it safe)")
    return 0


def cmd_restore(data: DataDir, args: argparse.Namespace) -> int:
    import tarfile
    import tempfile

    from .serving import running_pid

    src = Path(args.file).expanduser()
    if running_pid(data) is not None:
        raise NodeIsRunning(f"the node in {data.root} is serving: stop it before restoring")
    try:
        tar = tarfile.open(src, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise InvalidInput(f"{src} is not a Sonántica backup: {exc}") from exc
    with tar:
        names = set(tar.getnames())
        if not set(BACKUP_MEMBERS) <= names:
            raise InvalidInput(f"{src} is not a Sonántica backup (it lacks {', '.join(set(BACKUP_MEMBERS) - names)})")
        data.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=data.root) as tmp:
            for name in BACKUP_MEMBERS:
                member = tar.getmember(name)
                if not member.isfile():
                    raise InvalidInput(f"{src}: {name} is not a regular file")
                with tar.extractfile(member) as fsrc, open(Path(tmp) / name, "wb") as fdst:
                    fdst.write(fsrc.read())
            os.chmod(Path(tmp) / "node.key", 0o600)
            for suffix in ("-wal", "-shm"):
                Path(str(data.db_path) + suffix).unlink(missing_ok=True)
            for name in BACKUP_MEMBERS:
                os.replace(Path(tmp) / name, data.root / name)
    print(f"restored {src} into {data.root}")
    return 0


def cmd_demo(data: DataDir, args: argparse.Namespace) -> int:
    from .demo import generate_demo_library

    tracks = generate_demo_library(Path(args.dest), variant=args.variant)
    print(f"demo library ready in {args.dest} ({len(tracks)} tracks)")
    return 0


def cmd_quickstart(data: DataDir, args: argparse.Namespace) -> int:
    from .quickstart import run

    run(data, args.music, args.bind)
    return 0


COMMANDS = {
    "quickstart": cmd_quickstart,
    "init": cmd_init,
    "user": cmd_user,
    "scan": cmd_scan,
    "serve": cmd_serve,
    "status": cmd_status,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "demo": cmd_demo,
}


if __name__ == "__main__":
    sys.exit(main())
