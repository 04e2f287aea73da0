"""Trusted-header login in the web app: behind a sign-in proxy (here Chromium on 127.0.0.1 sending the
header itself, as the proxy would), the app opens signed in as that user, with no sign-in form."""

from __future__ import annotations

from tests.support.node import init_node

from .conftest import ALBUMS, Node, free_port, make_library


def test_the_web_app_opens_signed_in_through_the_proxy(browser, tmp_path):
    music = tmp_path / "music"
    make_library(music, ALBUMS[:1], seconds=4.0)
    init_node(tmp_path / "data", music, users={"owner": "owner", "ana": "listener"}, auth_header="Remote-User",
              trusted_proxies=("127.0.0.1/32",), watch=False)
    node = Node(tmp_path / "data", free_port(), tmp_path / "serve.log")
    node.start()
    try:
        ctx = browser.new_context(base_url=node.url, extra_http_headers={"Remote-User": "ana"})
        page = ctx.new_page()
        page.goto("/settings")
        page.wait_for_selector(".settings strong:text('ana')")
        assert page.locator("#auth-title").count() == 0
        page.goto("/albums")
        page.wait_for_selector("text=Aurora")
        ctx.close()
    finally:
        node.stop()
