"""The test library and the stand-ins' answers about it, shared by this folder's tests.

- "Homogenic" by Björk: two tracks (2 s, 3 s), no MBIDs, no art: matched by tags; the Cover Art
  Archive has its front cover; "Hunter" has synced lyrics on LRCLIB; "Jóga" has its own .lrc.
- "Debut" by Björk: one track tagged with its release MBID: matched by MBID; no cover anywhere.
- Björk: no MBID in the tags; found through the releases; Wikidata gives a picture and a
  Wikipedia article.
"""

from __future__ import annotations

import io

from tests.support.audio import make_track

from .standin import FIXTURES, Answer, StandIn, body_json

HOMOGENIC = "aaaaaaaa-1111-4111-8111-000000000001"
DEBUT = "aaaaaaaa-1111-4111-8111-000000000002"
BJORK = "87c5dedd-371d-4a53-9f7f-80522fb7f3cb"
HUNTER_REC = "dddddddd-4444-4444-8444-000000000001"
OWN_LRC = "[00:00.10]Own words first\n[00:01.00]from the lrc file\n"
NOT_FOUND = Answer(404, body_json({"code": 404, "name": "TrackNotFound", "message": "Failed to find specified track"}))


def picture(color=(10, 120, 200), size=(300, 300), fmt="JPEG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


COVER = picture((200, 40, 40))
ARTIST_PICTURE = picture((40, 200, 40), (400, 500))


def build_library(music) -> None:
    common = {"album": "Homogenic", "albumartist": "Björk", "artist": "Björk", "date": "1997"}
    make_track(music / "Björk" / "Homogenic" / "01.flac", "flac", {**common, "title": "Hunter", "tracknumber": "1"},
               seconds=2, seed=1)
    make_track(music / "Björk" / "Homogenic" / "02.flac", "flac", {**common, "title": "Jóga", "tracknumber": "2"},
               seconds=3, seed=2)
    (music / "Björk" / "Homogenic" / "02.lrc").write_text(OWN_LRC)
    make_track(music / "Björk" / "Debut" / "01.flac", "flac",
               {"album": "Debut", "albumartist": "Björk", "artist": "Björk", "title": "Human Behaviour",
                "tracknumber": "1", "musicbrainz_albumid": DEBUT}, seconds=2, seed=3)


def lrclib(seen) -> Answer:
    if seen.query.get("track_name") == "Hunter" and seen.query.get("artist_name") == "Björk":
        return Answer(200, (FIXTURES / "lrclib_hunter.json").read_bytes())
    return NOT_FOUND


def wire(s: StandIn) -> StandIn:
    """The answers the providers give about the test library."""
    s.json("/mb/ws/2/release/", "mb_release_search.json")
    s.json(f"/mb/ws/2/release/{HOMOGENIC}", "mb_release_homogenic.json")
    s.json(f"/mb/ws/2/release/{DEBUT}", "mb_release_debut.json")
    s.json(f"/mb/ws/2/artist/{BJORK}", "mb_artist.json")
    s.json("/mb/ws/2/artist/", "mb_artist_search.json")
    s.json(f"/caa/release/{HOMOGENIC}", "caa_release.json")
    s.image("/caa/img/front-1200.jpg", COVER)
    s.routes["/lrclib/api/get"] = lrclib
    s.json("/wd/w/api.php", "wd_entities.json")
    s.routes["/commons/wiki/Special:FilePath/Björk in concert.jpg"] = Answer(
        302, b"", "text/html", headers=(("location", s.url + "/commons/upload/b/bc/Bjork.jpg"),))
    s.image("/commons/upload/b/bc/Bjork.jpg", ARTIST_PICTURE)
    s.json("/wp/api/rest_v1/page/summary/Björk", "wp_summary.json")
    return s
