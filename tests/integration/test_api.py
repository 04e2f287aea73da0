"""The native API on a real node over loopback: access on every route, one error shape, auth, library."""

import json
import re
from pathlib import Path

import httpx
import pytest
import trio

from sonantica.node.api.access import level_of
from tests.support.audio import jpeg, make_track
from tests.support.node import PASSWORD, init_node, running_node

USERS = {"owner": "owner", "admin": "admin", "lis": "listener"}


def build_music(music: Path) -> None:
    make_track(music / "Ana/Rec/01 - One.flac", "flac",
               {"title": "One", "artist": "Ana", "album": "Rec", "tracknumber": "1/2", "genre": "Rock"},
               seconds=2, cover=jpeg())
    make_track(music / "Ana/Rec/02 - Two.mp3", "mp3",
               {"title": "Two", "artist": "Ana", "album": "Rec", "tracknumber": "2/2", "genre": "Rock"},
               seconds=2, seed=1)
    make_track(music / "Bo/Live/01 - Café.flac", "flac", {"title": "Café", "artist": "Bo", "album": "Live"},
               seconds=2, seed=2)
    (music / "Bo/Live/01 - Café.lrc").write_text("[ar:Bo]\n[00:00.50]first line\n[00:01.25]second line\n")


@pytest.fixture
def data(tmp_path, music):
    build_music(music)
    return init_node(tmp_path / "data", music, USERS)


async def test_route_map_every_route_declares_access_and_refuses_the_wrong_caller(data):
    """Table-driven: walk the app's route map, call each route as nobody / listener, assert 401/403."""
    async with running_node(data) as node:
        app = node_app(node)
        lis = await node.login("lis")
        anon = node.client()
        checked = 0
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            level = level_of(view)
            assert level is not None, f"{rule.rule} declares no access level"
            if level in ("public", "subsonic", "peer"):
                continue
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "0" if m.group(0).startswith("<int") else "x", rule.rule)
            for method in rule.methods - {"OPTIONS", "HEAD"}:
                r = await anon.request(method, path)
                assert r.status_code == 401, (method, path, r.status_code)
                assert r.json()["error"]["code"] == "unauthorized"
                if level in ("admin", "owner"):
                    r = await lis.request(method, path)
                    assert r.status_code == 403, (method, path, r.status_code)
                checked += 1
        assert checked > 30


def node_app(node):
    # the app object of the node under test (same process)
    import gc

    from quart_trio import QuartTrio

    apps = [o for o in gc.get_objects() if isinstance(o, QuartTrio) and getattr(o, "node", None) is not None
            and o.node.data.root == node.data.root]
    return apps[-1]


async def test_one_error_shape(data):
    async with running_node(data) as node:
        c = await node.login()
        for method, path, status in [
            ("GET", "/api/v1/tracks/tr-nope", 404), ("GET", "/api/v1/nope", 404),
            ("DELETE", "/api/v1/search", 405), ("GET", "/api/v1/tracks?sort=bogus", 400),
            ("GET", "/api/v1/tracks?limit=abc", 400), ("GET", "/api/v1/tracks?cursor=%%%", 400),
            ("POST", "/api/v1/playlists", 400),
        ]:
            r = await c.request(method, path, content=b"not json" if method == "POST" else None)
            assert r.status_code == status, (path, r.text)
            body = r.json()
            assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}
            assert body["error"]["status"] == status and body["error"]["message"]


async def test_security_headers_and_cors_off_by_default(data):
    async with running_node(data) as node:
        c = node.client()
        r = await c.get("/", headers={"Origin": "https://evil.example"})
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_cors_for_configured_origin(data):
    async with running_node(data, cors_origins=("https://app.example",)) as node:
        c = node.client()
        r = await c.options("/api/v1/tracks", headers={"Origin": "https://app.example",
                                                       "Access-Control-Request-Method": "GET"})
        assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "https://app.example"
        r = await c.get("/api/v1/health", headers={"Origin": "https://other.example"})
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_login_sessions_bearer_and_logout(data):
    async with running_node(data) as node:
        c = node.client()
        r = await c.post("/api/v1/auth/login", json={"username": "lis", "password": PASSWORD})
        assert r.status_code == 200
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        token = r.json()["token"]
        assert (await c.get("/api/v1/me")).json()["user"]["role"] == "listener"
        bearer = node.client(headers={"Authorization": f"Bearer {token}"})
        assert (await bearer.get("/api/v1/me")).status_code == 200
        await c.post("/api/v1/auth/logout")
        assert (await bearer.get("/api/v1/me")).status_code == 401


async def test_api_keys_shown_once_stored_hashed_and_revocable(data):
    async with running_node(data) as node:
        c = await node.login("lis")
        r = await c.post("/api/v1/me/api-keys", json={"name": "phone"})
        assert r.status_code == 201
        key, kid = r.json()["key"], r.json()["api_key"]["id"]
        assert "key" not in json.dumps((await c.get("/api/v1/me/api-keys")).json()).replace('"api_keys"', "")
        assert key.encode() not in (data.db_path.read_bytes() + data.root.joinpath("sonantica.db-wal").read_bytes())
        device = node.client(headers={"X-Api-Key": key})
        assert (await device.get("/api/v1/me")).json()["user"]["name"] == "lis"
        assert (await c.delete(f"/api/v1/me/api-keys/{kid}")).status_code == 204
        assert (await device.get("/api/v1/me")).status_code == 401


async def test_login_rate_limited_with_growing_delay_and_no_password_in_logs(data, caplog):
    async with running_node(data) as node:
        c = node.client()
        statuses = []
        for _ in range(7):
            r = await c.post("/api/v1/auth/login", json={"username": "lis", "password": "wrong-secret-xyz"})
            statuses.append(r.status_code)
        assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
        r = await c.post("/api/v1/auth/login", json={"username": "lis", "password": "wrong-secret-xyz"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["code"] == "rate_limited"
        # a password that verifies is not refused (tests/integration/test_login_throttle.py)
        r = await c.post("/api/v1/auth/login", json={"username": "lis", "password": PASSWORD})
        assert r.status_code == 200
        assert "wrong-secret-xyz" not in caplog.text
        assert "failed sign-in" in caplog.text


async def test_first_run_owner_from_loopback(tmp_path, music):
    build_music(music)
    data = init_node(tmp_path / "d", music, users={})
    async with running_node(data) as node:
        c = node.client()
        assert (await c.get("/api/v1/setup")).json()["needed"] is True
        r = await c.post("/api/v1/setup", json={"username": "me", "password": "long enough pw"})
        assert r.status_code == 201 and r.json()["user"]["role"] == "owner"
        assert (await c.get("/api/v1/me")).status_code == 200
        again = await node.client().post("/api/v1/setup", json={"username": "x", "password": "long enough pw"})
        assert again.status_code in (403, 409)


async def test_admin_manages_users_listener_cannot(data):
    async with running_node(data) as node:
        admin = await node.login("admin")
        r = await admin.post("/api/v1/users", json={"username": "dee", "password": "long enough pw"})
        assert r.status_code == 201 and r.json()["user"]["role"] == "listener"
        r = await admin.post("/api/v1/users", json={"username": "eve", "password": "long enough pw", "role": "owner"})
        assert r.status_code == 403
        lis = await node.login("lis")
        assert (await lis.get("/api/v1/users")).status_code == 403


async def test_browse_paging_and_filters(data):
    async with running_node(data) as node:
        c = await node.login("lis")
        seen, cursor, totals = [], None, []
        while True:
            r = await c.get("/api/v1/tracks", params={"limit": 1, **({"cursor": cursor} if cursor else {})})
            page = r.json()
            seen += [t["title"] for t in page["items"]]
            totals.append(page.get("total"))
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == ["Café", "One", "Two"]
        assert totals == [3, None, None]  # the first page says how long the list is (to size a scroll bar)
        r = await c.get("/api/v1/tracks", params={"lossless": "true", "limit": 1})
        assert r.json()["total"] == 2  # with the same filters
        assert (await c.get("/api/v1/albums", params={"limit": 1})).json()["total"] == 2
        assert (await c.get("/api/v1/artists", params={"limit": 1, "album_artists": 1})).json()["total"] == 2
        r = await c.get("/api/v1/tracks", params={"sort": "title", "order": "desc"})
        assert [t["title"] for t in r.json()["items"]] == ["Two", "One", "Café"]
        r = await c.get("/api/v1/tracks", params={"lossless": "true"})
        assert {t["title"] for t in r.json()["items"]} == {"One", "Café"}
        albums = (await c.get("/api/v1/albums")).json()["items"]
        assert [a["name"] for a in albums] == ["Live", "Rec"]
        rec = next(a for a in albums if a["name"] == "Rec")
        album = (await c.get(f"/api/v1/albums/{rec['id']}")).json()
        assert [t["title"] for t in album["tracks"]] == ["One", "Two"]
        artists = (await c.get("/api/v1/artists")).json()["items"]
        assert {a["name"] for a in artists} == {"Ana", "Bo"}
        genres = (await c.get("/api/v1/genres")).json()["items"]
        assert genres == [{"name": "Rock", "track_count": 2, "album_count": 1}]
        one = album["tracks"][0]
        full = (await c.get(f"/api/v1/tracks/{one['id']}")).json()
        for field in ("path", "size", "format", "codec", "sample_rate", "bit_depth", "channels", "duration",
                      "bitrate", "artists", "album_artists", "genres", "audio_id", "created_at"):
            assert field in full, field


async def test_search_as_you_type(data):
    async with running_node(data) as node:
        c = await node.login("lis")
        r = (await c.get("/api/v1/search", params={"q": "caf"})).json()
        assert [t["title"] for t in r["tracks"]] == ["Café"]
        r = (await c.get("/api/v1/search", params={"q": "ana"})).json()
        assert [a["name"] for a in r["artists"]] == ["Ana"]


async def test_cover_original_and_thumbnail(data):
    async with running_node(data) as node:
        c = await node.login("lis")
        albums = (await c.get("/api/v1/albums")).json()["items"]
        rec = next(a for a in albums if a["name"] == "Rec")
        r = await c.get(rec["cover_url"])
        assert r.status_code == 200 and r.content == jpeg()
        r = await c.get(rec["cover_url"], params={"size": 32})
        from PIL import Image
        import io

        im = Image.open(io.BytesIO(r.content))
        assert r.headers["content-type"] == "image/jpeg" and max(im.size) <= 64
        live = next(a for a in albums if a["name"] == "Live")
        assert live["cover_url"] is None
        # songs: their own picture, else their album's cover, else none (never a URL that 404s)
        tracks = {t["title"]: t for t in (await c.get("/api/v1/tracks")).json()["items"]}
        assert tracks["Two"]["cover_url"] == rec["cover_url"]  # no picture of its own
        assert (await c.get(tracks["Two"]["cover_url"])).status_code == 200
        assert tracks["Café"]["cover_url"] is None


async def test_lyrics_synced_from_lrc(data):
    async with running_node(data) as node:
        c = await node.login("lis")
        cafe = (await c.get("/api/v1/search", params={"q": "cafe"})).json()["tracks"][0]
        lyr = (await c.get(f"/api/v1/tracks/{cafe['id']}/lyrics")).json()
        assert lyr["synced"] and lyr["lines"] == [{"start_ms": 500, "text": "first line"},
                                                  {"start_ms": 1250, "text": "second line"}]


async def test_stars_and_ratings_per_user(data):
    async with running_node(data) as node:
        lis, admin = await node.login("lis"), await node.login("admin")
        track = (await lis.get("/api/v1/tracks")).json()["items"][0]
        assert (await lis.put(f"/api/v1/stars/{track['id']}")).status_code == 204
        assert (await lis.put(f"/api/v1/ratings/{track['id']}", json={"rating": 4})).status_code == 204
        assert (await lis.put(f"/api/v1/ratings/{track['id']}", json={"rating": 9})).status_code == 400
        mine = (await lis.get(f"/api/v1/tracks/{track['id']}")).json()
        theirs = (await admin.get(f"/api/v1/tracks/{track['id']}")).json()
        assert mine["starred"] and mine["rating"] == 4 and not theirs["starred"] and theirs["rating"] == 0
        assert [t["id"] for t in (await lis.get("/api/v1/stars")).json()["tracks"]] == [track["id"]]
        await lis.delete(f"/api/v1/stars/{track['id']}")
        assert (await lis.get("/api/v1/stars")).json()["tracks"] == []
        # ids that name nothing are not found, and nothing is stored for them
        for ghost in ("tr-0123456789abcdef", "al-0123456789abcdef", "ar-0123456789abcdef"):
            assert (await lis.put(f"/api/v1/stars/{ghost}")).status_code == 404
            assert (await lis.delete(f"/api/v1/stars/{ghost}")).status_code == 404
            assert (await lis.put(f"/api/v1/ratings/{ghost}", json={"rating": 3})).status_code == 404
        assert (await lis.get("/api/v1/stars")).json() == {"artists": [], "albums": [], "tracks": []}


async def test_playlists_crud_reorder_privacy_and_m3u_round_trip(data):
    async with running_node(data) as node:
        lis, admin = await node.login("lis"), await node.login("admin")
        ids = [t["id"] for t in (await lis.get("/api/v1/tracks")).json()["items"]]
        r = await lis.post("/api/v1/playlists", json={"name": "Mine", "track_ids": ids})
        assert r.status_code == 201
        pid = r.json()["id"]
        assert r.json()["song_count"] == 3 and r.json()["duration"] > 5
        r = await lis.post(f"/api/v1/playlists/{pid}/move", json={"from": 0, "to": 2})
        assert r.json()["track_ids"] == [ids[1], ids[2], ids[0]]
        assert (await admin.patch(f"/api/v1/playlists/{pid}", json={"name": "hijack"})).status_code == 403
        other = await node.login("owner")
        assert (await other.get(f"/api/v1/playlists/{pid}")).status_code == 200  # owner sees all
        m3u = (await lis.get(f"/api/v1/playlists/{pid}/export")).text
        assert m3u.startswith("#EXTM3U") and m3u.count("#EXTINF") == 3
        r = await lis.post("/api/v1/playlists/import", content=m3u.encode(), params={"name": "Copy"})
        assert r.status_code == 201 and r.json()["matched"] == 3 and r.json()["unmatched"] == 0
        copy = (await lis.get(f"/api/v1/playlists/{r.json()['id']}")).json()
        assert [t["id"] for t in copy["tracks"]] == [ids[1], ids[2], ids[0]]
        xspf = (await lis.get(f"/api/v1/playlists/{pid}/export", params={"format": "xspf"})).text
        r = await lis.post("/api/v1/playlists/import", content=xspf.encode())
        assert r.json()["matched"] == 3
        evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><playlist/>'
        assert (await lis.post("/api/v1/playlists/import", content=evil.encode())).status_code == 400
        assert (await lis.delete(f"/api/v1/playlists/{pid}")).status_code == 204


async def test_scan_status_trigger_and_events(data, music):
    async with running_node(data) as node:
        admin = await node.login("admin")
        events = []

        async def listen():
            async with admin.stream("GET", "/api/v1/events") as r:
                async for line in r.aiter_lines():
                    if line.startswith("event:"):
                        events.append(line.split(":", 1)[1].strip())
                        if events[-1] == "scan.finished":
                            return

        make_track(music / "Cy/New/01.flac", "flac", {"title": "Brand new", "artist": "Cy", "album": "New"}, seed=9)
        async with trio.open_nursery() as n:
            n.start_soon(listen)
            await trio.sleep(0.2)
            r = await admin.post("/api/v1/scan", json={})
            assert r.status_code == 202
        assert "scan.started" in events and "scan.finished" in events
        status = (await admin.get("/api/v1/scan")).json()
        assert status["library"]["tracks"] == 4 and status["scanning"] is False


async def test_openapi_lists_every_route_and_matches_specs_file(data):
    async with running_node(data) as node:
        c = node.client()
        doc = (await c.get("/api/v1/openapi.json")).json()
        app = node_app(node)
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/api/v1"):
                continue
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"OPTIONS", "HEAD"}:
                assert method.lower() in doc["paths"].get(path, {}), f"{method} {path} missing from OpenAPI"
        spec = json.loads((Path(__file__).parents[2] / "specs/openapi.json").read_text())
        assert spec["paths"].keys() == doc["paths"].keys(), (
            "specs/openapi.json is stale: run `python -m sonantica.node.api.openapi > specs/openapi.json`")
