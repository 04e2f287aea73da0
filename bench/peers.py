"""Scan speed side by side with peer servers: one JSON line (issue 18, "Scale and speed").

The same generated library (tiny real FLAC and MP3 files, fully tagged) is scanned
from scratch and then rescanned with nothing changed by

* our node: ``sonantica init --music DIR`` in a fresh data dir, then ``sonantica scan`` twice;
* supysonic (Python Subsonic server) from PyPI, in its own virtualenv under
  ``bench/.cache/supysonic-venv`` (not a project dependency): ``supysonic-cli folder add`` then
  ``supysonic-cli folder scan`` twice, with a config pointing at a fresh SQLite file;
* MPD (Debian's ``mpd``): started with a fresh config whose ``db_file`` does not exist, so it
  builds its whole database at start-up (the full scan, timed from launch until ``status`` no
  longer shows ``updating_db``, its song count checked with ``stats``); the rescan is an
  ``update`` command over its text protocol, timed the same way.

Each command's wall time includes its own start-up (a user waits for that too). Peak RSS is
the sum of every process's VmHWM in the process tree (workers included), sampled every
100 ms. Runs alternate between servers, ``--runs`` repetitions (median reported); a throwaway
read pass warms the page cache first.

Our CLI's wall time includes the Python interpreter's start-up, while MPD's rescan is a command
to a daemon already running; ``*_in_process_files_per_s`` (the scanner's own clock, from
``scan --json``) is the like-for-like figure for that.

Usage: nice -n 10 python bench/peers.py [--files N] [--runs R] [--state-dir DIR]
                                        [--skip-supysonic] [--skip-mpd]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
SUPY_VENV = CACHE / "supysonic-venv"
MPD = shutil.which("mpd") or "/usr/bin/mpd"
sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------- the library

def templates(tmp: Path) -> dict[str, bytes]:
    """One tiny real FLAC and one tiny real MP3 (0.3 s of a tone), as bytes to copy."""
    from tests.support.audio import tone, write_audio

    out = {}
    for fmt in ("flac", "mp3"):
        p = tmp / f"template.{fmt}"
        write_audio(p, fmt, tone(0.3, seed=3))
        out[fmt] = p.read_bytes()
    return out


def tags_for(i: int) -> dict[str, str]:
    """Distinct, realistic-shaped tags: albums of 12 tracks in their own folder, up to 500 artists,
    50 years, 20 genres."""
    album = i // 12
    artist = f"Artist {album % 500}"
    return {"title": f"Track {i}", "artist": artist, "album": f"{artist} Album {album}",
            "track": str(i % 12 + 1), "year": str(1960 + i % 50), "genre": f"Genre {i % 20}"}


def tagged(fmt: str, template: bytes, tags: dict[str, str]) -> bytes:
    """The template's bytes with full tags written by mutagen in memory (no re-read from disk)."""
    from mutagen.flac import FLAC
    from mutagen.id3 import ID3, TALB, TCON, TDRC, TIT2, TPE1, TRCK

    buf = io.BytesIO(template)
    if fmt == "flac":
        f = FLAC(buf)
        f.update({"title": tags["title"], "artist": tags["artist"], "album": tags["album"],
                  "tracknumber": tags["track"], "date": tags["year"], "genre": tags["genre"]})
        buf.seek(0)
        f.save(buf)
    else:
        tag = ID3()
        for frame in (TIT2(encoding=3, text=tags["title"]), TPE1(encoding=3, text=tags["artist"]),
                      TALB(encoding=3, text=tags["album"]), TRCK(encoding=3, text=tags["track"]),
                      TDRC(encoding=3, text=tags["year"]), TCON(encoding=3, text=tags["genre"])):
            tag.add(frame)
        buf.seek(0)
        tag.save(buf, v2_version=4)
    return buf.getvalue()


def library(n: int) -> Path:
    """The cached library of n files (built once, reused): half FLAC, half MP3, artist/album folders."""
    root = CACHE / f"peers-library-{n}"
    if (root / ".complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        tpl = templates(Path(tmp))

    def write(i: int) -> None:
        t = tags_for(i)
        fmt = "flac" if i % 2 == 0 else "mp3"
        d = root / t["artist"] / t["album"]
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{int(t['track']):02} - {t['title']}.{fmt}").write_bytes(tagged(fmt, tpl[fmt], t))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(n), chunksize=256))
    (root / ".complete").write_text(str(n))
    return root


def warm(root: Path) -> None:
    """A throwaway read of every file, so each server meets the same warm page cache."""
    for dirpath, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as f:
                while f.read(1 << 20):
                    pass


# ---------------------------------------------------------------- measuring

def tree_hwm_kb(pid: int) -> int:
    """Sum of VmHWM (kB) over pid and all its descendants alive now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def run_timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall s, peak RSS MB of the process tree, stdout) of one command run to completion.

    Exit is noticed within 10 ms; the tree's VmHWM is summed every 100 ms (a walk of /proc
    costs a few ms, which at every 10 ms would take CPU from the server being measured). Not
    wait4's ru_maxrss: Linux counts in it the forked copy of this bench before exec.
    Output goes to files, not pipes, so a chatty command never blocks on a full pipe."""
    out, err_f = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err_f)
    peak, next_sample = 0, 0.0
    while True:
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() >= next_sample:
            peak = max(peak, tree_hwm_kb(proc.pid))
            next_sample = time.perf_counter() + 0.1
        time.sleep(0.01)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err_f.seek(0)
    stdout, err = out.read().decode(errors="replace"), err_f.read().decode(errors="replace")
    out.close()
    err_f.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}… exited {proc.returncode}: {err[-500:]}")
    return wall, peak / 1024, stdout


# ---------------------------------------------------------------- our node

def ours(music: Path, tmp: Path, n: int) -> dict[str, float]:
    data = tmp / "sonantica"
    cli = [sys.executable, "-m", "sonantica.node.cli", "--data", str(data)]
    subprocess.run([*cli, "init", "--music", str(music)], check=True, stdout=subprocess.DEVNULL)
    scan, rss1, out1 = run_timed([*cli, "scan", "--json"])
    rescan, rss2, out2 = run_timed([*cli, "scan", "--json"])
    first, second = json.loads(out1.splitlines()[-1]), json.loads(out2.splitlines()[-1])
    if first.get("added") != n or second.get("unchanged") != n:
        raise RuntimeError(f"our scans: {first} then {second}")
    return {"scan_s": scan, "rescan_s": rescan, "peak_rss_mb": max(rss1, rss2),
            "scan_in_process_s": first["seconds"], "rescan_in_process_s": second["seconds"]}


# ---------------------------------------------------------------- supysonic

def supysonic_install() -> Path:
    """supysonic-cli from PyPI in its own virtualenv (created once, cached)."""
    cli = SUPY_VENV / "bin" / "supysonic-cli"
    if not cli.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SUPY_VENV)], check=True)
        subprocess.run([str(SUPY_VENV / "bin" / "pip"), "install", "-q", "supysonic"], check=True)
    return cli


def supysonic(music: Path, tmp: Path, n: int) -> dict[str, float]:
    """Its config is found through HOME (~/.supysonic): a fresh SQLite DB and cache per run."""
    cli = str(supysonic_install())
    home = tmp / "supy-home"
    home.mkdir()
    (home / ".supysonic").write_text(
        f"[base]\ndatabase_uri = sqlite:///{tmp / 'supysonic.db'}\n"
        f"[webapp]\ncache_dir = {tmp / 'supy-cache'}\nlog_level = WARNING\n"
        f"[daemon]\nsocket = {tmp / 'supy.sock'}\n")
    env = {**os.environ, "HOME": str(home)}
    env.pop("SUPYSONIC_CONFIG", None)
    subprocess.run([cli, "folder", "add", "bench", str(music)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scan, rss1, _ = run_timed([cli, "folder", "scan", "--foreground", "bench"], env)
    rescan, rss2, _ = run_timed([cli, "folder", "scan", "--foreground", "bench"], env)
    with sqlite3.connect(tmp / "supysonic.db") as db:
        tracks = db.execute("SELECT count(*) FROM track").fetchone()[0]
    if tracks != n:
        raise RuntimeError(f"supysonic indexed {tracks} tracks of {n}")
    return {"scan_s": scan, "rescan_s": rescan, "peak_rss_mb": max(rss1, rss2)}


# ---------------------------------------------------------------- MPD

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MpdClient:
    """MPD's line protocol over a plain TCP socket."""

    def __init__(self, port: int, deadline: float) -> None:
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
                break
            except OSError:
                if time.perf_counter() > deadline:
                    raise
                time.sleep(0.005)
        self.file = self.sock.makefile("rb")
        if not self.file.readline().startswith(b"OK MPD"):
            raise RuntimeError("not an MPD greeting")

    def command(self, line: str) -> dict[str, str]:
        self.sock.sendall(line.encode() + b"\n")
        out: dict[str, str] = {}
        while True:
            reply = self.file.readline().decode().rstrip("\n")
            if reply == "OK":
                return out
            if reply.startswith("ACK") or not reply:
                raise RuntimeError(f"MPD {line!r}: {reply or 'connection closed'}")
            key, _, value = reply.partition(": ")
            out[key] = value

    def wait_idle_db(self) -> None:
        while "updating_db" in self.command("status"):
            time.sleep(0.005)

    def close(self) -> None:
        self.sock.close()


def mpd(music: Path, tmp: Path, n: int) -> dict[str, float]:
    """Initial scan = start-up with no db_file (MPD then updates the whole tree before it
    serves its first command); rescan = ``update`` on the unchanged tree."""
    port = free_port()
    conf = tmp / "mpd.conf"
    conf.write_text(
        f'music_directory "{music}"\ndb_file "{tmp / "mpd.db"}"\nstate_file "{tmp / "mpd.state"}"\n'
        f'pid_file "{tmp / "mpd.pid"}"\nlog_file "{tmp / "mpd.log"}"\nbind_to_address "127.0.0.1"\n'
        f'port "{port}"\nauto_update "no"\nzeroconf_enabled "no"\n'
        'audio_output {\n  type "null"\n  name "bench"\n}\n')
    t0 = time.perf_counter()
    proc = subprocess.Popen([MPD, "--no-daemon", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        client = MpdClient(port, t0 + 120)
        peak, next_sample = 0, 0.0
        while "updating_db" in client.command("status"):
            if time.perf_counter() >= next_sample:
                peak = max(peak, tree_hwm_kb(proc.pid))
                next_sample = time.perf_counter() + 0.1
            time.sleep(0.005)
        scan = time.perf_counter() - t0
        songs = int(client.command("stats").get("songs", "0"))
        if songs != n:
            raise RuntimeError(f"MPD indexed {songs} songs of {n}")
        t0 = time.perf_counter()
        client.command("update")
        client.wait_idle_db()
        rescan = time.perf_counter() - t0
        peak = max(peak, tree_hwm_kb(proc.pid))
        client.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return {"scan_s": scan, "rescan_s": rescan, "peak_rss_mb": peak / 1024}


# ---------------------------------------------------------------- the run

def summary(runs: list[dict[str, float]], n: int) -> dict[str, float]:
    scan = statistics.median(r["scan_s"] for r in runs)
    rescan = statistics.median(r["rescan_s"] for r in runs)
    return {"scan_files_per_s": round(n / scan), "rescan_files_per_s": round(n / rescan),
            "scan_s": round(scan, 2), "rescan_s": round(rescan, 2),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
            **{f"{k[:-2]}_files_per_s": round(n / statistics.median(r[k] for r in runs))
               for k in ("scan_in_process_s", "rescan_in_process_s") if k in runs[0]}}


def ratio(a: dict, b: dict, key: str) -> float | None:
    if key in a and key in b:
        return round(a[key] / b[key], 2)
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--skip-supysonic", action="store_true")
    ap.add_argument("--skip-mpd", action="store_true")
    ap.add_argument("--state-dir", type=Path, default=None,
                    help="where each server's database and data live (default: the system temp dir; "
                         "/dev/shm takes the disk's fsync latency out of every server's figures)")
    args = ap.parse_args()
    n = args.files
    t0 = time.perf_counter()
    music = library(n)
    built_s = time.perf_counter() - t0
    warm(music)

    servers: dict[str, Callable[[Path], dict[str, float]]] = {"ours": lambda tmp: ours(music, tmp, n)}
    result: dict[str, object] = {"bench": "peers", "files": n, "runs": args.runs}
    if args.skip_supysonic:
        result["supysonic"] = {"skipped": True}
    else:
        servers["supysonic"] = lambda tmp: supysonic(music, tmp, n)
    if args.skip_mpd:
        result["mpd"] = {"skipped": True}
    elif not os.access(MPD, os.X_OK):
        result["mpd"] = {"missing": True, "hint": "apt-get install mpd"}
    else:
        servers["mpd"] = lambda tmp: mpd(music, tmp, n)

    measured: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    errors: dict[str, str] = {}
    for _ in range(args.runs):
        for name, run in servers.items():
            if name in errors:
                continue
            with tempfile.TemporaryDirectory(prefix=f"peers-{name}-", dir=args.state_dir) as tmp:
                try:
                    measured[name].append(run(Path(tmp)))
                except Exception as e:  # one server failing must not hide the others' figures
                    errors[name] = f"{type(e).__name__}: {e}"
    for name in servers:
        result[name] = {"error": errors[name]} if name in errors else summary(measured[name], n)

    mine = result["ours"] if isinstance(result["ours"], dict) else {}
    supy = result.get("supysonic", {})
    mpd_r = result.get("mpd", {})
    result["ratios"] = {
        "scan_vs_mpd": ratio(mine, mpd_r, "scan_files_per_s"),
        "scan_vs_supysonic": ratio(mine, supy, "scan_files_per_s"),
        "rescan_vs_mpd": ratio(mine, mpd_r, "rescan_files_per_s"),
        "rescan_vs_supysonic": ratio(mine, supy, "rescan_files_per_s"),
        "rescan_in_process_vs_mpd": (round(mine["rescan_in_process_files_per_s"] / mpd_r["rescan_files_per_s"], 2)
                                     if "rescan_in_process_files_per_s" in mine and "rescan_files_per_s" in mpd_r
                                     else None),
    }
    result["goals"] = {"scan_vs_mpd": 1.0, "scan_vs_supysonic": 3.0, "rescan_vs_mpd": 1.0}
    result["library_build_s"] = round(built_s, 1)
    result["state_dir"] = str(args.state_dir or tempfile.gettempdir())
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    result["cpus"] = os.cpu_count()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
