"""Browser tests: real nodes (``sonantica serve`` subprocesses on loopback) driven by Debian's Chromium.

Playwright's sync API runs in plain sync tests (its async API needs asyncio, and the suite runs
under trio). One browser per session; every test gets a fresh context (fresh cookies, caches and
service workers), and fails on any console error of the pages it opened.
"""

from __future__ import annotations

import json
import os
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
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Console:
    """Collects console errors and page errors; check() fails the test on any."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.paused = False

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.paused or self.errors.append(f"page error: {exc}"))

    def _console(self, msg) -> None:
        if msg.type == "error" and not self.paused:
            self.errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    def check(self) -> None:
        assert not self.errors, "console errors:\n" + "\n".join(self.errors)


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
                 service_workers: str = "allow"):
    """service_workers="block" for tests that intercept API requests (page.route does not see a worker's)."""
    ctx = browser.new_context(base_url=node.url, viewport={"width": viewport[0], "height": viewport[1]},
                              color_scheme=theme, device_scale_factor=2 if mobile else 1, is_mobile=mobile, has_touch=mobile,
                              service_workers=service_workers)
    ctx.set_default_timeout(10_000)
    if signed_in:
        r = ctx.request.post("/api/v1/auth/login", data={"username": "owner", "password": PASSWORD})
        assert r.ok, r.text()
        ctx.add_init_script("localStorage.setItem('sonantica.user', JSON.stringify({name: 'owner', role: 'owner'}))")
    return ctx
