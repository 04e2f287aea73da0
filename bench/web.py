"""Web client benchmark: scrolling a 10,000-album grid in Chromium. Prints ONE JSON line.

    python bench/web.py [--albums 10050] [--seconds 8] [--web DIR]

A real node (``sonantica serve``) scans a generated library of one-song albums, each with a folder
cover (tests/support/many_albums.py); Debian's headless Chromium opens the album grid, signed in.
Then, measured in the page:

- steady scrolling: the grid scrolls at ``--speed`` px/s (a fast mouse wheel; the position is set
  in every frame) for ``--seconds``; every requestAnimationFrame interval is recorded (p50/p99/max,
  frames over 33 ms), with long tasks (> 50 ms, PerformanceObserver) and the largest number of
  album cards that were ever in the page;
- jumps: 20 times the scroll position is set somewhere else at random (a dragged scroll bar); the
  time until every card in view is a real album (not a placeholder) is recorded (p50/p99);
- cumulative layout shift over the whole run (covers loading must move nothing), time from the
  navigation to the first cards, and the JS heap at the end.

Besides frame times, the page's own cost while scrolling is read from Chromium's metrics (CDP
Performance.getMetrics): main-thread CPU time per frame, the renderer process's CPU share, and the
time spent in script, style and layout; these move less than frame times when the machine is busy
(the 1-minute load average is printed too).

``--web DIR`` serves another copy of the web app (e.g. an older commit's ``web/``, exported with
``git archive``) for comparison. Headless Chromium here renders in software (--disable-gpu), with the
node's analysis workers busy at idle priority on the same machine: absolute figures are pessimistic.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.many_albums import make_many_albums  # noqa: E402
from tests.support.node import PASSWORD, init_node  # noqa: E402
from tests.web.conftest import ARGS, CHROMIUM, Node, free_port  # noqa: E402

PROBE = """
window.__bench = { frames: [], long: [], cls: 0, maxCards: 0, recording: false };
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.long.push(e.duration); })
  .observe({ type: 'longtask', buffered: true });
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__bench.cls += e.value; })
  .observe({ type: 'layout-shift', buffered: true });
new MutationObserver(() => {
  const n = document.querySelectorAll('main .card').length;
  if (n > window.__bench.maxCards) window.__bench.maxCards = n;
}).observe(document, { childList: true, subtree: true });
"""

# Scrolls `main` by speed/60 px every frame for `ms`, recording the interval between frames.
SCROLL = """async ([speed, ms]) => {
  const main = document.querySelector('main'), b = window.__bench;
  b.long.length = 0;
  const frames = [];
  await new Promise((done) => {
    let last = performance.now(), start = last, y = main.scrollTop;
    const step = (now) => {
      frames.push(now - last);
      y += (speed * (now - last)) / 1000;  // px/s whatever the frame rate
      last = now;
      main.scrollTop = y;
      if (now - start < ms) requestAnimationFrame(step);
      else done();
    };
    requestAnimationFrame(step);
  });
  return { frames: frames.slice(1), long: [...b.long], scrolled: main.scrollTop };
}"""

# Sets scrollTop to a fraction of the scroll height and waits until every card in view is real.
JUMP = """async (frac) => {
  const main = document.querySelector('main');
  main.scrollTop = frac * (main.scrollHeight - main.clientHeight);
  const t0 = performance.now();
  const filled = () => {  // the part of the list in view (below the floating top bar) is covered by real cards
    const cards = [...main.querySelectorAll('.card')];
    if (!cards.length) return false;
    const view = main.getBoundingClientRect(), list = cards[0].parentElement.getBoundingClientRect();
    const want = [Math.max(view.top + 72, list.top), Math.min(view.bottom, list.bottom)];
    const inView = cards.filter((c) => { const r = c.getBoundingClientRect(); return r.bottom > want[0] && r.top < want[1]; });
    if (!inView.length) return false;
    const top = Math.min(...inView.map((c) => c.getBoundingClientRect().top));
    const bottom = Math.max(...inView.map((c) => c.getBoundingClientRect().bottom));
    return top <= want[0] + 1 && bottom >= want[1] - 30 && inView.every((c) => !c.classList.contains('skeleton'));
  };
  while (!filled()) {
    await new Promise((r) => requestAnimationFrame(r));
    if (performance.now() - t0 > 15000) return null;
  }
  return performance.now() - t0;
}"""


def metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def run(args) -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        make_many_albums(tmp / "music", args.albums)
        init_node(tmp / "data", tmp / "music")
        if args.web:
            os.environ["SONANTICA_WEB"] = str(Path(args.web).resolve())
        node = Node(tmp / "data", free_port(), tmp / "serve.log")
        node.start()
        try:
            node.wait_scanned(args.albums, timeout=300)
            setup_s = time.perf_counter() - t0
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                ctx = browser.new_context(base_url=node.url, viewport={"width": 1440, "height": 900}, color_scheme="dark")
                assert ctx.request.post("/api/v1/auth/login", data={"username": "owner", "password": PASSWORD}).ok
                ctx.add_init_script("localStorage.setItem('sonantica.user', JSON.stringify({name: 'owner', role: 'owner'}))")
                ctx.add_init_script(PROBE)
                page = ctx.new_page()
                errors: list[str] = []
                page.on("console", lambda m: m.type == "error" and errors.append(m.text))
                page.goto("/albums")
                page.wait_for_selector("main .card")
                first_cards_ms = page.evaluate("performance.now()")
                page.wait_for_timeout(1000)
                cdp = ctx.new_cdp_session(page)
                cdp.send("Performance.enable")
                before = metrics(cdp)
                steady = page.evaluate(SCROLL, [args.speed, args.seconds * 1000])
                work = {k: v - before.get(k, 0) for k, v in metrics(cdp).items()}
                jumps = [page.evaluate(JUMP, f) for f in [((i * 7919) % 1000) / 1000 for i in range(20)]]
                end = page.evaluate("({ cls: window.__bench.cls, maxCards: window.__bench.maxCards,"
                                    " heap: performance.memory?.usedJSHeapSize || 0,"
                                    " height: document.querySelector('main').scrollHeight })")
                browser.close()
        finally:
            node.stop()
    frames = steady["frames"]
    filled = [j for j in jumps if j is not None]
    return {
        "bench": "web", "albums": args.albums, "cpus": os.cpu_count(), "web": args.web or "web/",
        "setup_s": round(setup_s, 1), "first_cards_ms": round(first_cards_ms),
        "scroll_px_per_s": args.speed, "scrolled_px": round(steady["scrolled"]), "frames": len(frames),
        "frame_ms_p50": round(statistics.median(frames), 1) if frames else None,
        "frame_ms_p99": round(pct(frames, 99), 1), "frame_ms_max": round(max(frames, default=0), 1),
        "frames_over_33ms": sum(f > 33.4 for f in frames),
        "long_tasks": len(steady["long"]), "long_task_ms_total": round(sum(steady["long"])),
        # CPU time of the page's main thread and of its renderer process while scrolling: what the page
        # costs, less sensitive than frame times to other load on the machine
        "main_thread_cpu_ms_per_frame": round(1000 * work["ThreadTime"] / max(1, len(frames)), 2),
        "renderer_cpu_pct": round(100 * work["ProcessTime"] / max(1e-9, work["Timestamp"]), 1),
        "script_ms": round(1000 * work["ScriptDuration"]), "style_ms": round(1000 * work["RecalcStyleDuration"]),
        "layout_ms": round(1000 * work["LayoutDuration"]), "layouts": int(work["LayoutCount"]),
        "jump_fill_ms_p50": round(statistics.median(filled)) if filled else None,
        "jump_fill_ms_p99": round(pct(filled, 99)) if filled else None, "jumps_unfilled": len(jumps) - len(filled),
        "max_cards_in_dom": end["maxCards"], "cls": round(end["cls"], 4),
        "js_heap_mb": round(end["heap"] / 2**20, 1), "scroll_height_px": end["height"],
        "console_errors": len(errors), "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--albums", type=int, default=10_050)
    ap.add_argument("--seconds", type=float, default=8.0, help="length of the steady scroll")
    ap.add_argument("--speed", type=float, default=3000.0, help="steady scroll speed, px/s")
    ap.add_argument("--web", help="serve this web/ folder instead (to compare client versions)")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(json.dumps({"bench": "web", "skipped": f"{CHROMIUM} is absent"}))
        return
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
