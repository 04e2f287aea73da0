"""vlist.js on its own, in the app's page: a windowed list over a made-up paged source whose pages fail
when told to. A page that failed is asked again by itself (the list is not scrolled), the failure is
reported once, and a key that needs a failing page leaves focus where it was, with no unhandled
rejection; the same key a few seconds later gets there.
"""

from __future__ import annotations

from .conftest import open_context

SETUP = """async () => {
  const app = document.querySelector('script[type=module]').src;
  const { PagedSource, virtualList } = await import(new URL('vlist.js', app));
  const N = 1000;
  window.__t = { fail: new Set([20]), asked: [], errors: [] };
  const source = new PagedSource(async (cursor, limit) => {
    const start = cursor ? Number(cursor) : 0;
    window.__t.asked.push(start);
    await new Promise((r) => setTimeout(r, 5));
    if (window.__t.fail.delete(start)) throw Object.assign(new Error('offline'), { status: 0 });
    const n = Math.min(limit, N - start);
    return { items: Array.from({ length: n }, (_, k) => ({ n: start + k })), next_cursor: start + n < N ? String(start + n) : null, total: N };
  }, { first: 20, size: 20 });
  await source.ensure(1);
  const scroller = document.createElement('div');
  scroller.style.cssText = 'position: fixed; inset: 0; overflow: auto; z-index: 1000; background: #000';
  const item = (text) => { const d = document.createElement('div'); d.style.height = '30px'; d.textContent = text; return d; };
  const list = virtualList({
    source, columns: false, label: 'Test list', scroller, onError: (e) => window.__t.errors.push(e.message),
    render: ({ n }) => { const d = item(`Item ${n}`); d.tabIndex = 0; return d; }, skeleton: () => item(''),
  });
  scroller.append(list);
  document.body.append(scroller);
}"""


def test_failed_page_is_asked_again_without_scrolling(browser, library_node):
    ctx = open_context(browser, library_node)
    page = ctx.new_page()
    page.goto("/")
    page.wait_for_selector("main h1")
    page.evaluate(SETUP)
    # the second page fails: its rows are skeletons, then filled a few seconds later, nobody scrolling
    page.wait_for_function("() => window.__t.errors.length === 1")
    assert page.locator("son-vlist .skeleton").count() > 0
    assert page.locator("son-vlist [data-vi='25']").get_attribute("class") == "skeleton"
    page.wait_for_selector("son-vlist [data-vi='25']:text('Item 25')", timeout=6000)
    assert page.evaluate("() => window.__t.asked.filter((s) => s === 20).length") == 2
    assert page.evaluate("() => window.__t.errors") == ["offline"]

    # End needs every page; one fails: focus stays, nothing unhandled; End again later reaches the last item
    page.evaluate("() => window.__t.fail.add(200)")
    page.focus("son-vlist [data-vi='0']")
    page.keyboard.press("End")
    page.wait_for_function("() => window.__t.errors.length === 2")
    page.wait_for_timeout(200)
    assert page.evaluate("() => document.activeElement.textContent") == "Item 0"
    page.wait_for_timeout(3000)  # RETRY_MS: the source does not ask a failed page again sooner
    page.keyboard.press("End")
    page.wait_for_function("() => document.activeElement.textContent === 'Item 999'")
    assert page.evaluate("() => window.__t.asked.filter((s) => s === 200).length") == 2
    assert page.evaluate("() => window.__t.errors.length") == 2
    ctx.close()
