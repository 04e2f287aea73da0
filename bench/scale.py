"""A million tracks: one JSON line of figures (DESIGN.md §9, issue 18).

Builds a node's database with ``--tracks`` rows (1,000,000 by default): a quarter
local tracks, the rest three members' catalogues (5 % of each member's recordings
also held by another member). Tags follow realistic distributions: ~50k artists
drawn Zipf-like, albums of ~10 tracks, Zipf genres, titles from a Zipf vocabulary.
Rows go in through the same code as real ones: local tracks through
``store.tracks.upsert_tracks`` / ``refresh_albums`` with tags mapped by
``library.tagmap`` (the scanner's path), members' rows as signed-catalogue
records (``protocol.TrackRecord``) through ``store.peers.upsert_remote`` /
``refresh_remote_albums`` (the federation's apply path). The built database is
cached in ``bench/.cache/`` (gitignored), so reruns only measure.

Then a child process serves that database over HTTP (the node's own app on
hypercorn; no scan, no federation service: the files do not exist) and this
process measures, as a client would:

- ``search_p99_ms``: search as you type (local + federated): the store's search
  for every prefix of 30 words, from 1 letter up (``search_store_*``), and the
  same through Subsonic ``search3`` (``search_http_*``);
- ``browse_first_page_p99_ms``: the first page of albums, artists and songs
  (native API, each sort), p99 over repeats;
- ``subsonic_sync_songs_per_s``: ``search3 query=""`` paged by 500 songs to the
  end, as Symfonium syncs (``--sync-limit`` caps the pages on small runs);
- ``artists_index_ms``: ``getArtists``;
- ``rss_mb``: the serving process's peak RSS after all of the above;
- ``catch_up_s``: with ``--catch-up N``, bench/federation.py's ``catch_up`` section with N tracks
  (real nodes: a node scans N generated files, publishes its catalogue, a new member joins;
  ``all_tracks_s``); null when not asked (generating and scanning 100k files takes long).

Usage: nice -n 19 python bench/scale.py [--tracks N] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CACHE = Path(__file__).resolve().parent / ".cache"
SCHEMA_NOTE = 1  # bump to rebuild cached databases when the generator changes
MEMBERS = ("member-a", "member-b", "member-c")
BATCH = 2000


# -- generation ------------------------------------------------------------------------------
def _zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1.0 / (i + 1) ** s for i in range(n)]


def _vocabulary(rng: random.Random, n: int) -> list[str]:
    cons, vows = "bcdfghjklmnprstvwz", "aeiouy"
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(cons) + rng.choice(vows) for _ in range(rng.randint(1, 4))))
    return sorted(words)


class Generator:
    """Deterministic tag rows: album i has ~10 tracks by one artist (Zipf over ~50k artists)."""

    def __init__(self, tracks: int, seed: int = 18) -> None:
        rng = random.Random(seed)
        self.rng = rng
        self.n_artists = max(10, min(50_000, tracks // 20))
        self.words = _vocabulary(rng, 6000)
        self.word_w = _zipf_weights(len(self.words), 1.05)
        self.genres = ["Rock", "Pop", "Jazz", "Electronic", "Hip-Hop", "Classical", "Folk", "Metal", "Soul",
                       "Blues", "Reggae", "Country", "Ambient", "Punk", "Funk", "Latin", "World", "House",
                       "Techno", "Indie", "R&B", "Disco", "Gospel", "Opera", "Soundtrack", "Ska", "Trance",
                       "Drum and Bass", "Dubstep", "Grunge", "Bossa Nova", "Samba", "Tango", "Fado", "K-Pop",
                       "J-Pop", "Chanson", "Flamenco", "Bluegrass", "Krautrock"]
        self.genre_w = _zipf_weights(len(self.genres), 1.2)
        self.artist_names = [self._name(i) for i in range(self.n_artists)]
        self.artist_w = _zipf_weights(self.n_artists, 0.9)

    def _name(self, i: int) -> str:
        a, b = self.words[(i * 7919) % len(self.words)], self.words[(i * 104729 + 13) % len(self.words)]
        return f"{a.title()} {b.title()} {i}" if i % 3 else f"The {a.title()}s {i}"

    def _title(self) -> str:
        return " ".join(w.title() for w in self.rng.choices(self.words, self.word_w, k=self.rng.randint(1, 4)))

    def albums(self, first: int, count: int):
        """(album index, artist, album title, year, genres, size) for albums first..first+count."""
        for i in range(first, first + count):
            # every artist has at least one album; the rest go to popular artists (Zipf)
            artist = self.artist_names[i] if i < self.n_artists else self.rng.choices(self.artist_names, self.artist_w)[0]
            genres = list(dict.fromkeys(self.rng.choices(self.genres, self.genre_w, k=self.rng.choice((1, 1, 2)))))
            yield i, artist, self._title(), 1950 + (i * 37) % 75, genres, self.rng.randint(6, 14)

    def tracks(self, first_album: int, n: int):
        """n tag dicts (raw, as a tagger writes them), album by album."""
        out = []
        for i, artist, album, year, genres, size in self.albums(first_album, n):
            for no in range(1, size + 1):
                artists = [artist] if self.rng.random() > 0.1 else [artist, self.rng.choice(self.artist_names)]
                out.append({"title": [self._title()], "artist": artists, "album": [album], "albumartist": [artist],
                            "tracknumber": [f"{no}/{size}"], "date": [str(year)], "genre": genres,
                            "_album": i, "_no": no})
                if len(out) >= n:
                    return out
        return out


def local_records(gen: Generator, raws: list[dict], folder_id: int):
    from sonantica.node.library.tagmap import map_tags
    from sonantica.node.store.tracks import TrackRecord

    recs = []
    for raw in raws:
        rel = f"{raw['albumartist'][0]}/{raw['album'][0]}/{raw['_no']:02d} - {raw['title'][0]}.flac"
        tags = asdict(map_tags({k: v for k, v in raw.items() if not k.startswith("_")}, rel))
        tags = {k: list(v) if isinstance(v, tuple) else v for k, v in tags.items()}
        props = {"format": "flac", "codec": "flac", "lossless": 1, "sample_rate": 44100, "bit_depth": 16,
                 "channels": 2, "duration": 180.0 + raw["_no"], "bitrate": 900}
        aid = f"{raw['_album']:08d}{raw['_no']:04d}".ljust(32, "0")
        recs.append(TrackRecord(folder_id, rel, 20_000_000, 1, props, tags, None, aid))
    return recs


def remote_records(gen: Generator, raws: list[dict], member: str, shared_from: list[dict] | None = None):
    from sonantica.protocol import TrackRecord

    out = []
    for j, raw in enumerate(raws):
        aid = f"{raw['_album']:08d}{raw['_no']:04d}".ljust(32, "1")
        key = f"tr-{member[-1]}{raw['_album']:08d}{raw['_no']:03d}"
        rec = TrackRecord(
            track_key=key, file_id="f1" + (aid * 2)[:64], size=9_000_000, title=raw["title"][0],
            artists=tuple(raw["artist"]), album=raw["album"][0], album_artists=tuple(raw["albumartist"]),
            track_no=raw["_no"], track_total=None, disc_no=1, disc_total=None, year=int(raw["date"][0]),
            genres=tuple(raw["genre"]), composer=None, compilation=False, mb_recording_id=None, mb_release_id=None,
            format="mp3", codec="mp3", lossless=False, sample_rate=44100, bit_depth=None, channels=2,
            duration_ms=200_000 + raw["_no"] * 1000, bitrate=320, audio_id=aid, folder="Music", cover=None,
            analysis={},
        )
        out.append(rec.to_obj())
    return out


def build(db_path: Path, n: int) -> dict:
    """Create the database; returns the build figures."""
    from sonantica.node.store import peers as peers_store
    from sonantica.node.store import tracks as tracks_store
    from sonantica.node.store.db import Store

    gen = Generator(n)
    n_local = n // 4
    n_member = (n - n_local) // len(MEMBERS)
    tmp = db_path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    t0 = time.monotonic()
    store = Store.open(tmp)
    try:
        [(folder_id, _)] = store.write_sync(tracks_store.sync_folders, [str(CACHE / "music-that-is-not-there")])
        album = 0

        def local(db, recs):
            added, _, albums = tracks_store.upsert_tracks(db, recs, {})
            tracks_store.refresh_albums(db, albums)
            return added

        done = 0
        while done < n_local:
            raws = gen.tracks(album, min(BATCH, n_local - done))
            album = raws[-1]["_album"] + 1
            store.write_sync(local, local_records(gen, raws, folder_id))
            done += len(raws)
        local_s = time.monotonic() - t0

        def remote(db, member, recs):
            albums = peers_store.upsert_remote(db, member, recs)
            peers_store.refresh_remote_albums(db, albums)

        t1 = time.monotonic()
        for m, member in enumerate(MEMBERS):
            done = 0
            while done < n_member:
                size = min(BATCH, n_member - done)
                overlap = int(size * 0.05) if m else 0  # 5 %: recordings another member also holds
                raws = gen.tracks(album, size - overlap)
                album = raws[-1]["_album"] + 1
                recs = remote_records(gen, raws, member)
                if overlap:
                    again = Generator(n, seed=18)  # the first member's first albums, same audio ids
                    recs += remote_records(again, again.tracks(n_local // 10 + done // 10, overlap), member)
                store.write_sync(remote, member, recs)
                done += size
        remote_s = time.monotonic() - t1
        store.write_sync(lambda db: db.conn.execute("ANALYZE"))
    finally:
        store.close()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    os.replace(tmp, db_path)
    return {"build_s": round(time.monotonic() - t0, 1), "build_local_s": round(local_s, 1),
            "build_remote_s": round(remote_s, 1)}


# -- serving (child process) -------------------------------------------------------------------
def serve_child(data_dir: str, port: int) -> None:
    """The node's HTTP app over the built database, without scanning (the files do not exist)."""
    import trio

    from sonantica.node.api.server import run_http
    from sonantica.node.config import DataDir
    from sonantica.node.daemon import Node
    from sonantica.node.store.db import Store

    data = DataDir(Path(data_dir))
    config = data.load_config()
    from dataclasses import replace

    config = replace(config, bind=f"127.0.0.1:{port}", watch=False)

    async def main() -> None:
        store = Store.open(data.db_path)
        node = Node(data, config, store)
        async with trio.open_nursery() as nursery:
            node.nursery = nursery
            await nursery.start(run_http, node)
            print("READY", flush=True)
            await trio.sleep_forever()

    trio.run(main)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_data(db_path: Path) -> Path:
    """A data folder (config, key, user) around a copy-free link to the cached database."""
    from sonantica.node import cli
    from sonantica.node.config import DataDir
    from sonantica.node.store import users as users_store
    from sonantica.node.store.db import Store

    root = db_path.with_suffix(".node")
    if not (root / "config.toml").exists():
        music = CACHE / "music-that-is-not-there"
        music.mkdir(parents=True, exist_ok=True)
        if root.exists():
            import shutil

            shutil.rmtree(root)
        assert cli.main(["--data", str(root), "init", "--music", str(music), "--name", "Scale"]) == 0
        (root / "sonantica.db").unlink()
        os.symlink(db_path, root / "sonantica.db")
        data = DataDir(root)
        with Store.open(data.db_path) as store:
            if not store.read_sync(users_store.count):
                store.write_sync(users_store.create, "owner", users_store.hash_password("scale bench pw"), "owner")
    return root


# -- measuring -------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(len(s) * p / 100))], 2)


def measure_store_search(db_path: Path, words: list[str]) -> dict:
    from sonantica.node.library import search
    from sonantica.node.store.db import Store

    times = []
    with Store.open(db_path) as store:
        for w in words:
            for k in range(1, len(w) + 1):
                q = w[:k]
                t = time.perf_counter()
                store.read_sync(lambda db: (search.search_tracks(db, q, 20), search.search_albums(db, q, 20),
                                            search.search_artists(db, q, 20)))
                times.append((time.perf_counter() - t) * 1000)
    return {"search_store_p50_ms": pct(times, 50), "search_store_p99_ms": pct(times, 99),
            "search_store_max_ms": round(max(times), 1), "search_queries": len(times)}


def measure_http(url: str, words: list[str], sync_limit: int | None) -> dict:
    import httpx

    auth = {"u": "owner", "p": "scale bench pw", "v": "1.16.1", "c": "scale-bench", "f": "json"}
    out: dict = {}
    with httpx.Client(base_url=url, timeout=600) as c:
        r = c.post("/api/v1/auth/login", json={"username": "owner", "password": "scale bench pw"})
        r.raise_for_status()

        def sub(method: str, **params) -> dict:
            resp = c.get(f"/rest/{method}", params={**auth, **params})
            resp.raise_for_status()
            body = resp.json()["subsonic-response"]
            assert body["status"] == "ok", body
            return body

        times = []
        for w in words:
            for k in range(1, len(w) + 1):
                t = time.perf_counter()
                sub("search3", query=w[:k], songCount=20, albumCount=20, artistCount=20)
                times.append((time.perf_counter() - t) * 1000)
        out["search_http_p50_ms"], out["search_http_p99_ms"] = pct(times, 50), pct(times, 99)

        browse = {}
        for what, path, sorts in (("albums", "/api/v1/albums", ("name", "artist", "year", "added")),
                                  ("artists", "/api/v1/artists", (None,)),
                                  ("songs", "/api/v1/tracks", ("title", "artist", "album", "added"))):
            ts = []
            for _ in range(3):
                for sort in sorts:
                    t = time.perf_counter()
                    resp = c.get(path, params={"limit": 60, **({"sort": sort} if sort else {})})
                    resp.raise_for_status()
                    ts.append((time.perf_counter() - t) * 1000)
            browse[what] = ts
        out["browse_first_page_p99_ms"] = pct([x for ts in browse.values() for x in ts], 99)
        for what, ts in browse.items():
            out[f"browse_{what}_p99_ms"] = pct(ts, 99)

        t = time.perf_counter()
        sub("getArtists")
        out["artists_index_ms"] = round((time.perf_counter() - t) * 1000, 1)
        t = time.perf_counter()
        body = sub("getArtists")
        out["artists_index_warm_ms"] = round((time.perf_counter() - t) * 1000, 1)
        out["artists_in_index"] = sum(len(i.get("artist", [])) for i in body["artists"].get("index", []))

        songs, offset, pages, worst = 0, 0, 0, 0.0
        t = time.perf_counter()
        while sync_limit is None or pages < sync_limit:
            t1 = time.perf_counter()
            body = sub("search3", query="", songCount=500, songOffset=offset, albumCount=0, artistCount=0)
            worst = max(worst, time.perf_counter() - t1)
            got = len(body["searchResult3"].get("song", []))
            songs += got
            offset += got
            pages += 1
            if got < 500:
                break
        spent = time.perf_counter() - t
        out["subsonic_sync_songs"] = songs
        out["subsonic_sync_songs_per_s"] = round(songs / spent)
        out["subsonic_sync_page_max_ms"] = round(worst * 1000, 1)
    return out


def catch_up(n: int) -> float:
    """bench/federation.py's catch_up with ``n`` tracks: seconds until the new member holds them all."""
    import importlib.util
    import tempfile

    spec = importlib.util.spec_from_file_location("bench_federation", Path(__file__).with_name("federation.py"))
    fed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fed)
    with tempfile.TemporaryDirectory() as tmp:
        return fed.bench_catch_up(Path(tmp), n)["all_tracks_s"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracks", type=int, default=1_000_000)
    ap.add_argument("--rebuild", action="store_true", help="build the database again even if cached")
    ap.add_argument("--sync-limit", type=int, help="at most this many search3 pages in the sync")
    ap.add_argument("--catch-up", type=int, default=0, metavar="N", help="also measure a new member catching up N tracks")
    ap.add_argument("--serve-child", nargs=2, metavar=("DATA", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_child:
        serve_child(args.serve_child[0], int(args.serve_child[1]))
        return 0
    CACHE.mkdir(exist_ok=True)
    db_path = CACHE / f"scale-{args.tracks}-v{SCHEMA_NOTE}.db"
    figures: dict = {"bench": "scale", "tracks_wanted": args.tracks, "cpus": os.cpu_count()}
    if args.rebuild or not db_path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        print(f"building {args.tracks} tracks into {db_path} ...", file=sys.stderr)
        figures.update(build(db_path, args.tracks))
    else:
        figures["build"] = "cached"
    root = prepare_data(db_path)
    from sonantica.node.store.db import Store

    with Store.open(db_path) as store:  # applies new migrations to a cached database, timed
        t = time.monotonic()
        figures["tracks"] = store.read_sync(lambda db: db.conn.execute("SELECT count(*) FROM lib_track").fetchone()[0])
        figures["count_s"] = round(time.monotonic() - t, 2)
        figures["rows"] = store.read_sync(lambda db: {
            "local": db.conn.execute("SELECT count(*) FROM track").fetchone()[0],
            "remote": db.conn.execute("SELECT count(*) FROM remote_track").fetchone()[0],
            "albums": db.conn.execute("SELECT count(*) FROM lib_album").fetchone()[0],
            "artists": db.conn.execute("SELECT count(*) FROM lib_artist").fetchone()[0]})
    gen = Generator(args.tracks)
    rng = random.Random(7)
    words = rng.sample(gen.words[:300], 10) + rng.sample(gen.words[300:], 10) + \
        [n.split()[0].lower() for n in rng.sample(gen.artist_names, 10)]
    figures.update(measure_store_search(db_path, words))
    port = free_port()
    child = subprocess.Popen([sys.executable, __file__, "--serve-child", str(root), str(port)],
                             stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "READY", line
        figures.update(measure_http(f"http://127.0.0.1:{port}", words, args.sync_limit))
        figures["rss_mb"] = peak_rss_mb(child.pid)
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
    figures["search_p99_ms"] = figures["search_store_p99_ms"]
    figures["catch_up_s"] = catch_up(args.catch_up) if args.catch_up else None
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    figures["targets"] = {"search_p99_ms": 20, "browse_first_page_p99_ms": 50, "rss_mb": 500, "catch_up_s": 30}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
