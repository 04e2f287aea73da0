"""Synthetic catalogues and listening histories for analytics tests and bench/analytics.py.

Tracks are written straight into the library tables (as the scanner would
leave them, minus files), in *taste clusters*: each cluster has its own
genre, artists, decade and tempo range, so tests know what a user "likes".
"""

from __future__ import annotations

import json
import random
import time

from sonantica.node.store import tracks as tracks_store

GENRES = ("Jazz", "Techno", "Folk", "Metal", "Classical", "Hip-Hop", "Reggae", "Ambient", "Blues", "Pop",
          "Punk", "Soul", "House", "Country", "Latin", "Funk")


def add_catalogue(db, n_tracks: int, n_clusters: int = 8, artists_per_cluster: int = 10, seed: int = 1,
                  tracks_per_album: int = 10) -> list[dict]:
    """Insert ``n_tracks`` tracks; returns [{id, cluster, artist_id, album_id, genre}] in insertion order."""
    rng = random.Random(seed)
    conn = db.conn
    conn.execute("INSERT OR IGNORE INTO folder(id, path, name) VALUES (1, '/synthetic', 'synthetic')")
    now = time.time()
    out, tracks, links, genres_rows, albums, artists = [], [], [], [], {}, {}
    for g in GENRES[:n_clusters]:
        conn.execute("INSERT OR IGNORE INTO genre(name) VALUES (?)", (g,))
    gid = {name: i for i, name in conn.execute("SELECT id, name FROM genre")}
    for i in range(n_tracks):
        c = i % n_clusters
        genre = GENRES[c % len(GENRES)]
        a = rng.randrange(artists_per_cluster)
        artist = f"Artist {c}-{a}"
        aid = tracks_store.artist_id(artist)
        album_no = (i // n_clusters) // tracks_per_album
        album = f"Album {c}-{a}-{album_no}"
        alb = tracks_store.album_key(artist, album, None)
        tid = f"tr-s{i:07d}"
        year = 1960 + c * 7 + rng.randrange(7)
        bpm = 70 + c * 12 + rng.random() * 8
        tags = json.dumps({"artists": [artist], "album_artists": [artist], "genres": [genre]})
        tracks.append((tid, 1, f"s/{i}.flac", 1000, 0, "flac", "flac", 1, 200.0 + rng.random() * 100, f"Song {i}",
                       artist, album, artist, alb, aid, year, round(bpm, 1), -7.0 - c * 0.5, tags, now, now))
        links.append((tid, aid, "artist", 0))
        links.append((tid, aid, "albumartist", 0))
        genres_rows.append((tid, gid[genre], 0))
        albums[alb] = (alb, album, artist, aid, year, genre)
        artists[aid] = artist
        out.append({"id": tid, "cluster": c, "artist_id": aid, "album_id": alb, "genre": genre})
    conn.executemany(
        "INSERT INTO track(id, folder_id, path, size, mtime_ns, format, codec, lossless, duration, title, artist, "
        "album, album_artist, album_id, artist_id, year, bpm, rg_track_gain, tags, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tracks)
    conn.executemany("INSERT OR IGNORE INTO track_artist VALUES (?, ?, ?, ?)", links)
    conn.executemany("INSERT OR IGNORE INTO track_genre VALUES (?, ?, ?)", genres_rows)
    conn.executemany("INSERT OR IGNORE INTO artist(id, name, norm) VALUES (?, ?, lower(?))",
                     [(k, v, v) for k, v in artists.items()])
    conn.executemany(
        "INSERT OR IGNORE INTO album(id, name, artist, artist_id, year, genres, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(a, n, ar, ai, y, json.dumps([g]), now, now) for a, n, ar, ai, y, g in albums.values()])
    return out


def add_user(db, name: str) -> str:
    from sonantica.node.store import users

    return users.create(db, name, "x", "listener")["id"]


def history(catalogue: list[dict], clusters: list[int], n_plays: int, rng: random.Random,
            favourites: int = 60) -> list[str]:
    """Track ids a user with a taste for ``clusters`` plays: mostly a favourite subset, Zipf-ish."""
    pool = [t["id"] for t in catalogue if t["cluster"] in clusters]
    rng.shuffle(pool)
    fav = pool[:favourites]
    weights = [1 / (1 + i) ** 0.6 for i in range(len(fav))]
    return rng.choices(fav, weights, k=n_plays)
