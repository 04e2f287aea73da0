"""Bookmarks: per user, created and moved by Subsonic apps and by the native API, read back by both."""

import httpx

from tests.support.node import PASSWORD


def login(c: httpx.Client, user: str) -> httpx.Client:
    r = c.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c


def test_create_list_move_and_delete(owner, listener, ids):
    assert owner.json("getBookmarks")["bookmarks"] == {"bookmark": []}
    owner.json("createBookmark", {"id": ids["hyper"], "position": 1500, "comment": "the bridge"})
    owner.json("createBookmark", {"id": ids["army"], "position": 250})
    marks = owner.json("getBookmarks")["bookmarks"]["bookmark"]
    assert [(m["entry"]["id"], m["position"], m["entry"]["bookmarkPosition"]) for m in marks] == [
        (ids["army"], 250, 250), (ids["hyper"], 1500, 1500)]  # the latest first
    hyper = marks[1]
    assert hyper["username"] == "owner" and hyper["comment"] == "the bridge"
    assert hyper["entry"]["title"] == "Hyperballad"
    owner.xml("getBookmarks")  # the XML form validates against the XSD

    # moving it keeps its comment and its creation time
    owner.json("createBookmark", {"id": ids["hyper"], "position": 2750}, post=True)
    moved = next(m for m in owner.json("getBookmarks")["bookmarks"]["bookmark"] if m["entry"]["id"] == ids["hyper"])
    assert moved["position"] == 2750 and moved["comment"] == "the bridge" and moved["created"] == hyper["created"]

    # personal: the listener sees none of them, and has their own
    assert listener.json("getBookmarks")["bookmarks"] == {"bookmark": []}
    listener.json("createBookmark", {"id": ids["hyper"], "position": 10})
    assert [m["position"] for m in listener.json("getBookmarks")["bookmarks"]["bookmark"]] == [10]

    owner.json("deleteBookmark", {"id": ids["hyper"]})
    assert [m["entry"]["id"] for m in owner.json("getBookmarks")["bookmarks"]["bookmark"]] == [ids["army"]]
    assert listener.json("getBookmarks")["bookmarks"]["bookmark"][0]["position"] == 10
    owner.json("deleteBookmark", {"id": ids["army"]})
    listener.json("deleteBookmark", {"id": ids["hyper"]})


def test_bad_bookmarks_are_refused_and_write_nothing(owner, ids):
    assert owner.error("createBookmark", {"id": ids["army"]})["code"] == 10  # no position
    assert owner.error("createBookmark", {"position": 5})["code"] == 10  # no id
    assert owner.error("createBookmark", {"id": ids["army"], "position": "soon"})["code"] == 0
    assert owner.error("createBookmark", {"id": ids["army"], "position": -1})["code"] == 0
    assert owner.error("createBookmark", {"id": "tr-nothing-here", "position": 5})["code"] == 70
    assert owner.error("createBookmark", {"id": ids["post"], "position": 5})["code"] == 70  # an album is not played
    assert owner.error("deleteBookmark", {"id": ids["army"]})["code"] == 70  # none there
    assert owner.json("getBookmarks")["bookmarks"] == {"bookmark": []}


def test_native_api_shares_the_bookmarks(node, owner, ids):
    with httpx.Client(base_url=node.url, timeout=30) as c:
        login(c, "owner")
        r = c.put(f"/api/v1/bookmarks/{ids['lovely']}", json={"position_ms": 61_000})
        assert r.status_code == 200, r.text
        assert r.json()["position_ms"] == 61_000 and r.json()["track"]["title"] == "Lovely Day"
        marks = owner.json("getBookmarks")["bookmarks"]["bookmark"]
        assert [(m["entry"]["id"], m["position"]) for m in marks] == [(ids["lovely"], 61_000)]

        owner.json("createBookmark", {"id": ids["lovely"], "position": 62_500, "comment": "from an app"})
        got = c.get(f"/api/v1/bookmarks/{ids['lovely']}").json()
        assert got["position_ms"] == 62_500 and got["comment"] == "from an app"
        listed = c.get("/api/v1/bookmarks").json()["items"]
        assert [(b["item_id"], b["track"]["id"]) for b in listed] == [(ids["lovely"], ids["lovely"])]
        assert c.get("/api/v1/bookmarks", params={"media_id": ids["lovely"]}).json()["items"] == listed
        assert c.get("/api/v1/bookmarks", params={"media_id": ids["army"]}).json()["items"] == []

        assert c.put(f"/api/v1/bookmarks/{ids['lovely']}", json={"position_ms": -5}).status_code == 400
        assert c.put(f"/api/v1/bookmarks/{ids['lovely']}", json={"position_ms": "x"}).status_code == 400
        assert c.put("/api/v1/bookmarks/tr-missing", json={"position_ms": 5}).status_code == 404
        assert c.get(f"/api/v1/bookmarks/{ids['lovely']}").json()["position_ms"] == 62_500

        assert c.delete(f"/api/v1/bookmarks/{ids['lovely']}").status_code == 204
        assert c.get(f"/api/v1/bookmarks/{ids['lovely']}").status_code == 404
        assert c.delete(f"/api/v1/bookmarks/{ids['lovely']}").status_code == 404
    assert owner.json("getBookmarks")["bookmarks"] == {"bookmark": []}
    with httpx.Client(base_url=node.url) as anonymous:
        assert anonymous.get("/api/v1/bookmarks").status_code == 401
