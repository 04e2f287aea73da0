"""What the node indexed, compared field by field with PyAV (FFmpeg) and mutagen: one JSON line.

Usage: python bench/formats.py [FOLDER] [--show N]   (no folder: the files tests/support/formats.py makes)

The folder is scanned by the node's own scanner into a throw-away data folder; then, for
each indexed track, the fields are compared with two independent readers:

* PyAV: codec (the audio stream's decoder), duration (decoded samples / rate, within
  0.5 s), sample rate and channels (where the stream's rate is the file's: not for DSD,
  which FFmpeg decodes to PCM at 1/8 of the DSD rate), and the container's tags;
* mutagen: sample rate, channels, bit depth (lossless only) from its stream info, and the
  title, artist, album and track number from its "easy" tag view where it has one.

A field counts only where that reader has a value. Files the node did not index are listed
with the scan's reason. ``agreement`` is agreeing fields over compared fields, in percent.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
import mutagen  # noqa: E402
import trio  # noqa: E402

from sonantica.node.library.probe import codec_name  # noqa: E402
from sonantica.node.library.scanner import Scanner  # noqa: E402
from sonantica.node.store.db import Store  # noqa: E402

TAG_FIELDS = ("title", "artist", "album", "track_no")


def indexed(folder: Path, work: Path) -> tuple[list[dict], list[dict]]:
    """(tracks, scan errors) after the node's scanner ran over ``folder``."""
    store = Store.open(work / "formats.db")
    scanner = Scanner(store, [str(folder)], work / "covers", work / "scan.lock")
    trio.run(scanner.scan)
    store.close()
    conn = sqlite3.connect(work / "formats.db")
    conn.row_factory = sqlite3.Row
    tracks = [dict(r) for r in conn.execute("SELECT * FROM track ORDER BY path")]
    errors = [dict(r) for r in conn.execute("SELECT path, reason FROM scan_error ORDER BY path")]
    conn.close()
    return tracks, errors


def pyav_view(path: Path) -> dict:
    with av.open(str(path), metadata_errors="ignore") as c:
        stream = c.streams.audio[0]
        ctx = stream.codec_context
        meta = {k.lower(): v for k, v in {**c.metadata, **stream.metadata}.items()}
        samples = rate = 0
        for frame in c.decode(stream):
            samples += frame.samples
            rate = frame.sample_rate
        view = {"codec": codec_name(ctx.name), "duration": samples / rate if rate else None}
        if not ctx.name.startswith("dsd"):
            view.update(sample_rate=ctx.sample_rate or None, channels=ctx.channels or None)
    view.update(title=meta.get("title"), artist=meta.get("artist"), album=meta.get("album"),
                track_no=_number(meta.get("track")))
    return view


def mutagen_view(path: Path) -> dict:
    try:
        f = mutagen.File(str(path))
    except Exception:
        return {}
    if f is None:
        return {}
    info = f.info
    view = {"sample_rate": getattr(info, "sample_rate", None) or None,
            "channels": getattr(info, "channels", None) or None}
    try:
        easy = mutagen.File(str(path), easy=True)
    except Exception:
        easy = None
    tags = getattr(easy, "tags", None)
    if tags is not None and hasattr(tags, "get"):  # a key a tag kind does not have reads as None
        def one(key):
            try:
                values = tags.get(key)
            except (KeyError, ValueError, TypeError):
                values = None
            return str(list(values)[0]) if values else None
        view.update(title=one("title"), artist=one("artist"), album=one("album"),
                    track_no=_number(one("tracknumber")))
    return view


def _number(text: str | None) -> int | None:
    if not text:
        return None
    head = str(text).split("/")[0].strip()
    return int(head) if head.isdigit() else None


def agrees(field: str, node, ref) -> bool:
    if field == "duration":
        return node is not None and abs(node - ref) <= 0.5
    if isinstance(ref, str):
        return isinstance(node, str) and node.strip().casefold() == ref.strip().casefold()
    return node == ref


def compare(folder: Path, show: int = 20) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tracks, errors = indexed(folder, Path(tmp))
    root = folder
    compared = agreed = 0
    by_reader = {"pyav": [0, 0], "mutagen": [0, 0]}
    differences = []
    undecodable = []
    for t in tracks:
        path = root / t["path"]
        node = {"codec": t["codec"], "duration": t["duration"], "sample_rate": t["sample_rate"],
                "channels": t["channels"], "bit_depth": t["bit_depth"], "title": t["title"],
                "artist": t["artist"], "album": t["album"], "track_no": t["track_no"]}
        try:
            refs = {"pyav": pyav_view(path), "mutagen": mutagen_view(path)}
        except (av.FFmpegError, IndexError) as exc:
            refs = {"pyav": {}, "mutagen": mutagen_view(path)}
            undecodable.append({"path": t["path"], "pyav": str(exc)[:200]})
        if t["lossless"] and "bit_depth" not in refs["mutagen"]:
            try:
                bits = getattr(mutagen.File(str(path)).info, "bits_per_sample", None)
            except Exception:
                bits = None
            if bits:
                refs["mutagen"]["bit_depth"] = bits
        for reader, ref in refs.items():
            for field, want in ref.items():
                if want is None:
                    continue
                ok = agrees(field, node.get(field), want)
                compared += 1
                agreed += ok
                by_reader[reader][0] += 1
                by_reader[reader][1] += ok
                if not ok:
                    differences.append({"path": t["path"], "field": field, "node": node.get(field), reader: want})
    return {
        "bench": "formats", "folder": str(folder), "files": len(tracks) + len(errors), "indexed": len(tracks),
        "not_indexed": [{"path": e["path"], "reason": e["reason"]} for e in errors][:show],
        "fields_compared": compared, "fields_agreeing": agreed,
        "agreement": round(100 * agreed / compared, 2) if compared else 100.0,
        "by_reader": {r: round(100 * ok / n, 2) if n else None for r, (n, ok) in by_reader.items()},
        "differences": differences[:show],
        "pyav_cannot_decode": undecodable[:show],  # indexed from their headers; compared with mutagen only
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, nargs="?", help="default: a generated set of every format")
    parser.add_argument("--show", type=int, default=20, help="differences listed at most")
    args = parser.parse_args()
    if args.folder is None:
        from tests.support.formats import make_cases

        with tempfile.TemporaryDirectory() as tmp:
            make_cases(Path(tmp) / "formats")
            result = compare(Path(tmp) / "formats", args.show)
    else:
        result = compare(args.folder.resolve(), args.show)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
