"""An artist.jpg in the library is the artist's picture (Navidrome's convention), before any fetched one."""

from __future__ import annotations

from sonantica.node.store import browse
from sonantica.node.store import metadata as meta_store
from tests.support.audio import jpeg, make_track

from .world import picture


def _artist(store, name):
    return store.read_sync(lambda db: db.conn.execute("SELECT id FROM artist WHERE name = ?", (name,)).fetchone()[0])


def test_artist_jpg_beside_albums_is_the_artists_picture(library, music):
    make_track(music / "Ana" / "First" / "01.flac", "flac", {"title": "One", "artist": "Ana", "album": "First"},
               cover=jpeg(64), seed=1)
    make_track(music / "Bo" / "Solo" / "01.flac", "flac", {"title": "Two", "artist": "Bo", "album": "Solo"}, seed=2)
    (music / "Ana" / "artist.jpg").write_bytes(picture((1, 2, 3)))
    library.scan()
    ana, bo = _artist(library.store, "Ana"), _artist(library.store, "Bo")
    ana_cover = library.store.read_sync(browse.cover_for, ana)
    row = library.store.read_sync(browse.cover_row, ana_cover)
    assert row["path"] == "Ana/artist.jpg"
    assert library.store.read_sync(browse.get_artist, ana)["cover"] == ana_cover  # listings show it too
    album_cover = library.store.read_sync(browse.cover_for, library.albums()[0]["id"])
    assert album_cover != ana_cover  # the album keeps its own picture
    assert library.store.read_sync(browse.cover_for, bo) is None

    # a fetched picture does not replace it; the picture goes when the file does
    library.store.write_sync(meta_store.set_artist_image, ana, "mx-000000000000000000000000", "x", "y")
    assert library.store.read_sync(browse.cover_for, ana) == ana_cover
    (music / "Ana" / "artist.jpg").unlink()
    library.scan()
    assert library.store.read_sync(browse.cover_for, ana) == "mx-000000000000000000000000"
