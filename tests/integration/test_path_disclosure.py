"""No answer discloses the server's file layout to a listener (issue 18, defect 11).

A real node with two music folders (the same relative path in both). The owner makes a public
playlist; a listener exports it (M3U8 and XSPF), reads the scan status, browses with both APIs and
streams a song whose file vanished since the scan: no body holds an absolute path or a library
root. The exports still import back to exactly the same tracks, in order.
"""

import hashlib
import os
import re

import httpx
import trio

from tests.support.audio import make_track
from tests.support.node import PASSWORD, init_node, running_node

USERS = {"owner": "owner", "lis": "listener"}


def _libraries(tmp_path):
    home, extra = tmp_path / "home" / "someone" / "Music", tmp_path / "srv" / "Extra Music"
    for root, seed in ((home, 0), (extra, 10)):
        make_track(root / "Ana/Rec/01 - One.flac", "flac", {"title": "One", "artist": "Ana", "album": "Rec",
                   "tracknumber": "1"}, seed=seed + 1)
        make_track(root / "Bo/Live/01 - Café.mp3", "mp3", {"title": f"Café {seed}", "artist": "Bo",
                   "album": f"Live {seed}"}, seed=seed + 2)
    make_track(home / "Cy/Gone/01 - Gone.flac", "flac", {"title": "Gone", "artist": "Cy", "album": "Gone"}, seed=5)
    return home, extra


def _leaks(body: str, roots) -> list[str]:
    found = [r for r in roots if r in body]
    found += re.findall(r"(?m)^/\S+|file://\S+|<location>/[^<]*", body)
    return found


async def test_exports_and_status_hold_no_server_path_and_round_trip(tmp_path):
    home, extra = _libraries(tmp_path)
    roots = {str(home), str(extra), os.path.realpath(home), os.path.realpath(extra), str(tmp_path)}
    data = init_node(tmp_path / "data", [home, extra], USERS)
    async with running_node(data) as node:
        owner, lis = await node.login("owner"), await node.login("lis")
        tracks = (await owner.get("/api/v1/tracks", params={"limit": 100, "sort": "title"})).json()["items"]
        assert len(tracks) == 5
        ids = [t["id"] for t in tracks][::-1]  # both "One"s, from both folders
        r = await owner.post("/api/v1/playlists", json={"name": "House mix", "track_ids": ids, "public": True})
        pid = r.json()["id"]

        bodies = {}
        for fmt in ("m3u8", "xspf"):
            r = await lis.get(f"/api/v1/playlists/{pid}/export", params={"format": fmt})
            assert r.status_code == 200
            bodies[fmt] = r.text
            assert not _leaks(r.text, roots), (fmt, _leaks(r.text, roots), r.text)
        assert "Ana/Rec/01 - One.flac" in bodies["m3u8"]  # relative to its music folder
        for fmt, body in bodies.items():  # both import back to the very same tracks, in order
            r = await lis.post("/api/v1/playlists/import", content=body.encode(), params={"name": fmt})
            assert r.status_code == 201 and (r.json()["matched"], r.json()["unmatched"]) == (5, 0)
            copy = (await lis.get(f"/api/v1/playlists/{r.json()['id']}")).json()
            assert [t["id"] for t in copy["tracks"]] == ids, fmt
        # a plain relative M3U (another player's, no ids) still matches by path
        plain = "\n".join(line for line in bodies["m3u8"].splitlines() if not line.startswith("#SONANTICA"))
        r = await lis.post("/api/v1/playlists/import", content=plain.encode())
        assert (r.json()["matched"], r.json()["unmatched"]) == (5, 0)

        # what a listener reads elsewhere: status, lists, a vanished file's stream error
        gone = next(t for t in tracks if t["title"] == "Gone")
        (home / "Cy/Gone/01 - Gone.flac").unlink()
        pages = [await lis.get(p) for p in ("/api/v1/scan", "/api/v1/folders", "/api/v1/tracks?limit=100",
                                            f"/api/v1/tracks/{gone['id']}", f"/api/v1/playlists/{pid}")]
        for fmt in ("raw", "opus"):
            pages.append(await lis.get(f"/api/v1/tracks/{gone['id']}/stream", params={"format": fmt}))
        assert pages[-1].status_code == 404 and pages[-2].status_code == 404
        pw = (await lis.post("/api/v1/me/subsonic-password")).json()["password"]
        auth = {"u": "lis", "t": hashlib.md5((pw + "s4").encode()).hexdigest(), "s": "s4", "v": "1.16.1",
                "c": "t", "f": "json"}
        async with httpx.AsyncClient(base_url=node.url, timeout=30) as sub:
            for method, params in (("search3", {"query": ""}), ("getSong", {"id": gone["id"]}),
                                  ("getPlaylist", {"id": pid}), ("getScanStatus", {}), ("getMusicFolders", {}),
                                  ("stream", {"id": gone["id"]}), ("download", {"id": gone["id"]}),
                                  ("stream", {"id": gone["id"], "format": "mp3"})):
                pages.append(await sub.get(f"/rest/{method}", params={**auth, **params}))
        songs = pages[-8].json()["subsonic-response"]["searchResult3"]["song"]
        assert {s["path"] for s in songs} >= {"Ana/Rec/01 - One.flac", "Cy/Gone/01 - Gone.flac"}
        # a file that no longer decodes, and a library folder gone: their errors name no server path
        cafe = next(t for t in tracks if t["title"] == "Café 0")
        (home / "Bo/Live/01 - Café.mp3").write_bytes(b"\0" * 4096)
        r = await lis.get(f"/api/v1/tracks/{cafe['id']}/stream", params={"format": "opus"})
        assert r.status_code in (422, 502, 503), r.text
        pages.append(r)
        async with httpx.AsyncClient(base_url=node.url, timeout=30) as sub:
            pages.append(await sub.get("/rest/stream", params={**auth, "id": cafe["id"], "format": "opus"}))
        assert "error" in pages[-1].json()["subsonic-response"]
        extra.rename(extra.with_name("moved away"))
        before = (await owner.get("/api/v1/scan")).json()["last"]["finished_at"]
        assert (await owner.post("/api/v1/scan", json={})).status_code == 202
        with trio.fail_after(30):
            while (s := (await owner.get("/api/v1/scan")).json())["scanning"] or s["last"]["finished_at"] == before:
                await trio.sleep(0.05)
        assert any("missing" in p for p in s["last"]["summary"]["problems"])  # the admin is told
        pages += [await lis.get("/api/v1/scan"), await lis.get("/api/v1/analysis")]
        for page in pages:
            assert not _leaks(page.text, roots), (str(page.url), page.text[:500])
        await owner.aclose()
        await lis.aclose()
