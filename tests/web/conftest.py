"""Browser tests: real nodes (``sonantica serve`` subprocesses on loopback) driven by Debian's Chromium.

Playwright's sync API runs in plain sync tests (its async API needs asyncio, and the suite runs
under trio). One browser per session; every test gets a fresh context (fresh cookies, caches and
service workers). Every context a test opens is watched (``WebWatch``): a console error or warning,
an uncaught error, a failed request or an HTTP status of 400 or more, from a page or the service
worker, fails the test unless the test announced it (``web.expect_http_error(...)``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.audio import jpeg, make_track
from tests.support.node import PASSWORD, init_node

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
        "--disable-dev-shm-usage", "--mute-audio"]
SONANTICA = Path(sys.executable).with_name("sonantica")

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(config, items):
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is absent (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed (pip install -e '.[test]')"
    if reason:
        for item in items:
            if "tests/web" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Node:
    root: Path
    port: int
    log: Path
    proc: subprocess.Popen | None = None
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [str(SONANTICA), "--data", str(self.root), "serve", "--bind", f"127.0.0.1:{self.port}"],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sonantica serve exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("sonantica serve did not answer in time")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def api(self, method: str, path: str, body=None, cookie: str | None = None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()

    def login_cookie(self) -> str:
        _, _, body = self.api("POST", "/api/v1/auth/login", {"username": "owner", "password": PASSWORD})
        return "sonantica_session=" + json.loads(body)["token"]

    def wait_scanned(self, tracks: int, timeout: float = 30) -> None:
        cookie = self.login_cookie()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, _, body = self.api("GET", "/api/v1/scan", cookie=cookie)
            s = json.loads(body)
            if not s["scanning"] and s["library"]["tracks"] >= tracks:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the scan did not finish: {s}")


LRC = "[ti:Aurora]\n[00:00.50]First light over the water\n[00:02.50]Second line rising\n[00:04.50]Third line falling\n[00:07.00]Fourth and last\n"
ALBUMS = [
    ("Aurora", "Nova Quartet", 2021, (230, 90, 70), ["Aurora", "Borealis", "Cirrus", "Dawn Chorus"]),
    ("Midnight Tides", "Lena Ostrova", 2019, (60, 90, 200), ["Undertow", "Harbour Lights", "Salt"]),
    ("Copper Fields", "The Ashgroves", 2023, (200, 150, 40), ["Rust", "Ember Road", "Wheat"]),
    ("Glass Garden", "Mira Sol", 2018, (40, 170, 140), ["Prism", "Fern"]),
    ("Night Bus", "Kilo Echo", 2022, (150, 60, 190), ["Last Stop", "Neon Rain"]),
    ("Quiet Rooms", "Nova Quartet", 2017, (120, 120, 130), ["Attic", "Cellar"]),
]


def make_library(music: Path, albums=ALBUMS, seconds: float = 12.0) -> int:
    n = 0
    for ai, (album, artist, year, colour, titles) in enumerate(albums):
        art = jpeg(300, colour)
        for ti, title in enumerate(titles):
            path = music / artist / album / f"{ti + 1:02d} {title}.flac"
            make_track(path, tags={"title": title, "artist": artist, "albumartist": artist, "album": album,
                                   "tracknumber": str(ti + 1), "date": str(year), "genre": ["Ambient", "Electronic"][ai % 2],
                                   "replaygain_track_gain": "-6.50 dB", "replaygain_track_peak": "0.5"},
                       seconds=seconds, sr=22050, channels=1, cover=art, seed=ai * 10 + ti)
            n += 1
    if (music / "Nova Quartet" / "Aurora").is_dir():
        (music / "Nova Quartet" / "Aurora" / "01 Aurora.lrc").write_text(LRC)
    (music / "broken.flac").write_bytes(b"fLaC not really a flac file" * 10)
    return n


@pytest.fixture(scope="session")
def library_node(tmp_path_factory):
    """The main node: six albums, an LRC file, a broken file; owner 'owner'."""
    tmp = tmp_path_factory.mktemp("webnode")
    music = tmp / "music"
    count = make_library(music)
    init_node(tmp / "data", music)
    node = Node(tmp / "data", free_port(), tmp / "serve.log")
    node.start()
    node.wait_scanned(count)
    node.extra["tracks"] = count
    yield node
    node.stop()


@pytest.fixture
def fresh_node(tmp_path):
    """A node with one small album and no users yet (first run); the test may stop it."""
    music = tmp_path / "music"
    count = make_library(music, ALBUMS[1:2], seconds=8.0)
    from sonantica.node import cli

    assert cli.main(["--data", str(tmp_path / "data"), "init", "--name", "Fresh node", "--music", str(music)]) == 0
    node = Node(tmp_path / "data", free_port(), tmp_path / "serve.log")
    node.start()
    node.extra["tracks"] = count
    yield node
    node.stop()


@pytest.fixture(scope="session")
def chromium():
    """The one browser of the session; tests reach it through ``browser`` (watched)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Expected:
    """One failure a test says will happen (an HTTP status, a network error, a console line)."""

    kind: str  # "http", "network" or "console"
    pattern: re.Pattern
    status: int | None = None
    required: bool = True  # it must happen at least once
    seen: int = 0
    active: bool = True

    def __enter__(self) -> Expected:
        return self

    def __exit__(self, *exc) -> None:
        self.active = False


# Chromium prints a console line for every failed load; the response/requestfailed events already say it
FAILED_LOAD = re.compile(r"^Failed to load resource: (?:the server responded with a status of (\d+)|(net::\S+))")


class WebWatch:
    """Whatever a user would see in red in DevTools, for every page and service worker of a test.

    Recorded from every context the test opens (through ``browser``): console errors and warnings,
    uncaught page errors, requests that failed (a refused connection, a reset, a blocked load: not one
    the page cancelled itself), and responses with a status of 400 or more, also those of the service
    worker. The test fails at its end if any occurred that it did not announce with
    ``expect_http_error`` / ``expect_network_error`` / ``expect_console``; each announcement must also
    happen (at least once), so that none outlives its reason. Use them as context managers to bound them.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.expected: list[Expected] = []
        self.cancelled: set[str] = set()  # URLs of requests the page cancelled
        self.worker_failures: list[tuple[str, str]] = []
        self.contexts: list = []

    # -- what a test announces -----------------------------------------------------------------
    def expect_http_error(self, url_pattern: str, status: int | None = None) -> Expected:
        """Responses whose URL matches (re.search) and, when given, whose status is ``status``."""
        return self._expect(Expected("http", re.compile(url_pattern), status))

    def expect_network_error(self, url_pattern: str) -> Expected:
        """Requests to matching URLs may fail (e.g. the node was stopped on purpose)."""
        return self._expect(Expected("network", re.compile(url_pattern)))

    def expect_console(self, text_pattern: str, *, required: bool = True) -> Expected:
        """A console error or warning whose text matches."""
        return self._expect(Expected("console", re.compile(text_pattern), required=required))

    def _expect(self, e: Expected) -> Expected:
        self.expected.append(e)
        return e

    def _allowed(self, kind: str, text: str, status: int | None = None) -> bool:
        for e in self.expected:
            if e.active and e.kind == kind and e.pattern.search(text) and (e.status is None or e.status == status):
                e.seen += 1
                return True
        return False

    # -- what the browser reports ----------------------------------------------------------------
    def attach(self, ctx) -> None:
        """Watch a context: its pages, their workers and its service workers."""
        self.contexts.append(ctx)
        ctx.on("console", self._console)
        ctx.on("weberror", self._uncaught)
        ctx.on("requestfailed", self._failed)
        ctx.on("response", self._response)

    def _uncaught(self, web_error) -> None:
        err = web_error.error
        where = [line.strip() for line in (getattr(err, "stack", "") or "").splitlines()[1:4]]
        self.problems.append(f"uncaught error: {err}" + (f" [{' | '.join(where)}]" if where else ""))

    def _console(self, msg) -> None:
        if msg.type not in ("error", "warning"):
            return
        url = msg.location.get("url", "") if msg.location else ""
        m = FAILED_LOAD.match(msg.text)
        if m:  # the same event as a response or a failed request: announced there, or reported there
            kind, status = ("http", int(m.group(1))) if m.group(1) else ("network", None)
            if any(e.kind == kind and e.pattern.search(url) and (e.status in (None, status)) for e in self.expected if e.active):
                return
        if self._allowed("console", msg.text):
            return
        self.problems.append(f"console {msg.type}: {msg.text}" + (f" ({url})" if url else ""))

    def _failed(self, request) -> None:
        reason = request.failure or ""
        if reason == "net::ERR_ABORTED":  # cancelled by the page itself (navigation, AbortController, media seek)
            self.cancelled.add(request.url)
            return
        if self._allowed("network", request.url):
            return
        problem = f"request failed: {request.method} {request.url}: {reason} ({_origin(request)})"
        if request.service_worker and reason == "net::ERR_FAILED":
            # the worker's fetch for a page request the page cancelled is cancelled with it (and fails
            # so): judged at the end, once every cancellation by the page is known
            self.worker_failures.append((request.url, problem))
        else:
            self.problems.append(problem)

    def _response(self, response) -> None:
        if response.status < 400 or self._allowed("http", response.url, response.status):
            return
        self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url} ({_origin(response.request)})")

    # -- the verdict ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Close what the test left open (the last events arrive while closing)."""
        for ctx in self.contexts:
            try:
                ctx.close()
            except Exception:  # already closed, or the browser is gone
                pass
        self.contexts.clear()

    def verdict(self) -> list[str]:
        failed = [problem for url, problem in self.worker_failures if url not in self.cancelled]
        unmet = [f"expected but never happened: {e.kind} {e.pattern.pattern}" + (f" ({e.status})" if e.status else "")
                 for e in self.expected if e.required and not e.seen]
        return self.problems + failed + unmet


def _origin(request) -> str:
    return "service worker" if request.service_worker else "page"


class WatchedBrowser:
    """The session's Chromium, with every new context watched by the test's WebWatch."""

    def __init__(self, browser, watch: WebWatch) -> None:
        self._browser = browser
        self._watch = watch

    def new_context(self, **kwargs):
        ctx = self._browser.new_context(**kwargs)
        self._watch.attach(ctx)
        if kwargs.get("service_workers") == "block":
            # Playwright's stand-in for register() warns, and resolves to nothing; the app says it has no worker
            self._watch.expect_console(r"^Service Worker registration blocked by Playwright$", required=False)
            self._watch.expect_console(r"^service worker not registered: ", required=False)
        return ctx

    def new_page(self, **kwargs):
        ctx = self.new_context(**kwargs)
        return ctx.new_page()

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture
def web() -> WebWatch:
    """The test's watch over the browser: ``web.expect_http_error(...)`` announces an expected failure."""
    return WebWatch()


@pytest.fixture
def browser(chromium, web):
    yield WatchedBrowser(chromium, web)
    web.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a test's body: close its contexts and fail it on anything a user's console would show."""
    watch = getattr(item, "funcargs", {}).get("web")
    try:
        result = yield
    except BaseException:
        if watch is not None:
            watch.close()
            if watch.verdict():
                print("the browser reported, before the failure:\n" + "\n".join(watch.verdict()))
        raise
    if watch is not None:
        watch.close()
        problems = watch.verdict()
        if problems:
            pytest.fail("the browser reported:\n" + "\n".join(problems), pytrace=False)
    return result


@pytest.fixture
def shots(tmp_path):
    folder = tmp_path / "screenshots"
    folder.mkdir()
    keep = os.environ.get("SONANTICA_WEB_SHOTS")
    yield folder
    if keep:
        dest = Path(keep)
        dest.mkdir(parents=True, exist_ok=True)
        for f in folder.iterdir():
            shutil.copy(f, dest / f.name)


def open_context(browser, node: Node, *, signed_in: bool = True, viewport=(1440, 900), theme: str = "dark", mobile=False,
                 service_workers: str = "allow", locale: str = "en-US"):
    """service_workers="block" for tests that intercept API requests (page.route does not see a worker's).
    locale: the browser's language, which the app speaks when it has a catalogue for it."""
    ctx = browser.new_context(base_url=node.url, viewport={"width": viewport[0], "height": viewport[1]}, locale=locale,
                              color_scheme=theme, device_scale_factor=2 if mobile else 1, is_mobile=mobile, has_touch=mobile,
                              service_workers=service_workers)
    ctx.set_default_timeout(10_000)
    if signed_in:
        r = ctx.request.post("/api/v1/auth/login", data={"username": "owner", "password": PASSWORD})
        assert r.ok, r.text()
        # (not on about:blank, the first document of every page, which has no storage)
        ctx.add_init_script("if (location.origin === %s) localStorage.setItem('sonantica.user', JSON.stringify({name: 'owner', role: 'owner'}))"
                            % json.dumps(node.url))
    return ctx
