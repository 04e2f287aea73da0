"""Settings → People: the owner ticks the music folders a listener sees, and those new accounts get."""

from __future__ import annotations

import json

from tests.support.node import PASSWORD

from .conftest import open_context


def _json(node, method, path, body=None, cookie=None):
    status, _, raw = node.api(method, path, body, cookie)
    return status, json.loads(raw) if raw else None


def test_owner_ticks_a_listeners_folders_and_the_defaults(browser, library_node):
    cookie = library_node.login_cookie()
    status, created = _json(library_node, "POST", "/api/v1/users",
                            {"username": "webkid", "password": PASSWORD}, cookie)
    assert status == 201 and created["user"]["folders"] is None
    kid = created["user"]["id"]
    (folder,) = [f["id"] for f in _json(library_node, "GET", "/api/v1/folders", cookie=cookie)[1]["items"]]
    try:
        ctx = open_context(browser, library_node)
        page = ctx.new_page()
        page.goto("/settings")
        row = page.locator("#people [data-user='webkid']")
        every = row.locator("input[value='every']")
        box = row.locator(f"input[value='{folder}']")
        assert every.is_checked() and box.is_checked() and box.is_disabled()
        every.uncheck()
        assert box.is_enabled()
        box.uncheck()
        row.locator("button:has-text('Save')").click()
        page.wait_for_selector(".toast:has-text('Saved')")
        users = {u["name"]: u for u in _json(library_node, "GET", "/api/v1/users", cookie=cookie)[1]["users"]}
        assert users["webkid"]["folders"] == []
        # the listener sees nothing now
        kid_ctx = browser.new_context(base_url=library_node.url)
        assert kid_ctx.request.post("/api/v1/auth/login", data={"username": "webkid", "password": PASSWORD}).ok
        assert kid_ctx.request.get("/api/v1/albums").json()["items"] == []
        kid_ctx.close()
        # the owner's own row cannot be limited
        assert page.locator("#people [data-user='owner'] input[value='every']").is_disabled()

        defaults = page.locator("#people [data-user='']")
        defaults.locator("input[value='every']").uncheck()
        defaults.locator("button:has-text('Save')").click()
        page.wait_for_selector(".toast:has-text('default folders')")
        assert _json(library_node, "GET", "/api/v1/user-defaults", cookie=cookie)[1] == {"folders": [folder]}
        ctx.close()
    finally:
        _json(library_node, "PUT", "/api/v1/user-defaults", {"folders": None}, cookie)
        library_node.api("DELETE", f"/api/v1/users/{kid}", cookie=cookie)
