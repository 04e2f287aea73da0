"""The browser tests' watch (conftest.WebWatch) sees what a user's DevTools would show in red: a 404 of
an image, of a fetch and of the service worker's own request, a refused connection, console.error and
console.warn, an uncaught error; and it lets through exactly what a test announced, insisting that
what was announced happened.
"""

from __future__ import annotations

import time

from .conftest import WatchedBrowser, WebWatch, open_context

TROUBLE = """async () => {
  const img = new Image();
  img.src = '/static/nope/missing.png';
  document.body.append(img);
  await new Promise((r) => { img.onerror = r; });
  await fetch('/api/v1/no-such-thing');
  await fetch('/refused-here').catch(() => {});
  console.error('something broke');
  console.warn('something is odd');
  setTimeout(() => { throw new Error('nobody caught this'); }, 0);
  await new Promise((r) => setTimeout(r, 50));
}"""


def test_every_kind_of_trouble_is_reported(chromium, library_node):
    watch = WebWatch()
    ctx = open_context(WatchedBrowser(chromium, watch), library_node)
    ctx.route("**/refused-here", lambda route: route.abort("connectionrefused"))  # as a node that went away
    page = ctx.new_page()
    page.goto("/")
    page.wait_for_selector("main h1")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    page.evaluate(TROUBLE)
    page.evaluate("() => fetch('/api/v1/covers/nothing-here')")  # answered by the service worker's own fetch
    watch.close()
    report = "\n".join(watch.verdict())
    for expected in ["HTTP 404: GET " + library_node.url + "/static/nope/missing.png (page)",
                     "HTTP 404: GET " + library_node.url + "/api/v1/no-such-thing (page)",
                     "HTTP 404: GET " + library_node.url + "/api/v1/covers/nothing-here (service worker)",
                     "request failed: GET " + library_node.url + "/refused-here: net::ERR_CONNECTION_REFUSED",
                     "console error: something broke", "console warning: something is odd",
                     "uncaught error: nobody caught this",
                     "console error: Failed to load resource: the server responded with a status of 404"]:
        assert expected in report, f"{expected!r} missing from:\n{report}"


def test_announced_trouble_passes_and_unmet_announcements_fail(chromium, library_node):
    watch = WebWatch()
    ctx = open_context(WatchedBrowser(chromium, watch), library_node)
    page = ctx.new_page()
    page.goto("/")
    page.wait_for_selector("main h1")
    with watch.expect_http_error(r"/api/v1/no-such-thing$", 404):
        page.evaluate("() => fetch('/api/v1/no-such-thing')")
    never = watch.expect_http_error(r"/api/v1/never-asked$")
    watch.close()
    assert watch.problems == []
    assert watch.verdict() == [f"expected but never happened: http {never.pattern.pattern}"]
    # after its block, the same failure is reported again
    ctx = open_context(WatchedBrowser(chromium, watch), library_node)
    page = ctx.new_page()
    page.goto("/")
    page.wait_for_selector("main h1")
    page.evaluate("() => fetch('/api/v1/no-such-thing')")
    watch.close()
    assert any("/api/v1/no-such-thing" in p for p in watch.problems), watch.problems


def test_a_request_the_page_cancels_is_no_failure(chromium, library_node):
    """Through the service worker too: its fetch for the cancelled request fails with it (net::ERR_FAILED)."""
    watch = WebWatch()
    ctx = open_context(WatchedBrowser(chromium, watch), library_node)
    ctx.route("**/api/v1/search*", lambda route: (time.sleep(0.5), route.continue_()))  # a slow answer
    page = ctx.new_page()
    page.goto("/")
    page.wait_for_selector("main h1")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    page.evaluate("""async () => {
      const c = new AbortController();
      const asked = fetch('/api/v1/search?q=slow', { signal: c.signal }).catch((e) => e.name);
      await new Promise((r) => setTimeout(r, 150));
      c.abort();
      await asked;
      await new Promise((r) => setTimeout(r, 1000));
    }""")
    watch.close()
    assert watch.cancelled == {library_node.url + "/api/v1/search?q=slow"}
    assert watch.verdict() == []
