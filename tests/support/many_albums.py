"""A library of many one-song albums, fast: a few real FLAC seeds, re-tagged in memory by mutagen.

10,000 albums take about two seconds to write and a few to scan, so browser tests and benches can
use a real node with a library of real size (the scanner reads every file: nothing is faked).
Album ``i`` is "Album {i:05d}" by "Artist {i % artists:04d}", so sorted by name the last album is
"Album {n-1:05d}". Every album has a folder image (cover.jpg, one of 64 colours), as real libraries
do (and as the web app's song lists expect: a track's cover URL falls back to its album's).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from mutagen.flac import FLAC

from .audio import jpeg, make_track


def album_title(i: int) -> str:
    return f"Album {i:05d}"


def make_many_albums(music: Path, n: int, *, artists: int = 400, seeds: int = 4) -> int:
    """Write ``n`` albums of one song each under ``music``; returns the number of audio files."""
    music = Path(music)
    music.mkdir(parents=True, exist_ok=True)
    seed_dir = music.parent / (music.name + "-seeds")
    images = [jpeg(120, ((i * 53) % 256, (i * 97) % 256, (i * 151) % 256)) for i in range(64)]
    paths = [make_track(seed_dir / f"seed{i}.flac", "flac", {"title": "x"}, seconds=0.2, sr=22050, channels=1, seed=i)
             for i in range(seeds)]
    raw = [p.read_bytes() for p in paths]
    for i in range(n):
        artist = f"Artist {i % artists:04d}"
        folder = music / artist / album_title(i)
        folder.mkdir(parents=True, exist_ok=True)
        data = io.BytesIO(raw[i % seeds])
        f = FLAC(data)
        f.update({"title": f"Song {i:05d}", "artist": artist, "albumartist": artist, "album": album_title(i),
                  "tracknumber": "1", "date": str(1960 + i % 60), "genre": ["Rock", "Jazz", "Ambient"][i % 3]})
        data.seek(0)
        f.save(data)
        (folder / "01 Song.flac").write_bytes(data.getvalue())
        (folder / "cover.jpg").write_bytes(images[i % len(images)])
    shutil.rmtree(seed_dir)
    return n
