"""Several real nodes as real processes (`sonantica serve`), for federation tests.

Each node gets its own data folder, music, loopback ports and an owner; the
invite/join steps run the real CLI. Processes can be SIGKILLed mid-stream.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.node import PASSWORD, init_node

CLI = [sys.executable, "-m", "sonantica.node.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(data: Path, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    proc = subprocess.run([*CLI, "--data", str(data), *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"sonantica {' '.join(args)} failed: {proc.stderr}")
    return proc


@dataclass
class NodeProc:
    name: str
    data: Path
    music: Path
    port: int
    peer_port: int
    proc: subprocess.Popen | None = None
    peer_flag: bool = True  # False: no `--peer-bind`, the node picks its peer port as `serve` alone does

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> "NodeProc":
        log = open(self.data / "serve.log", "ab")
        self.proc = subprocess.Popen(
            [*CLI, "--data", str(self.data), "serve", "--bind", f"127.0.0.1:{self.port}",
             *(["--peer-bind", f"127.0.0.1:{self.peer_port}"] if self.peer_flag else [])],
            stdout=log, stderr=subprocess.STDOUT)
        if wait:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                if self.proc.poll() is not None:
                    raise AssertionError(f"node {self.name} exited: {(self.data / 'serve.log').read_text()[-2000:]}")
                time.sleep(0.05)
            raise AssertionError(f"node {self.name} did not start")
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    @contextlib.contextmanager
    def client(self):
        with httpx.Client(base_url=self.url, timeout=30) as c:
            r = c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
            assert r.status_code == 200, r.text
            yield c

    def invite(self, *args: str) -> str:
        return cli(self.data, "invite", *args).stdout.strip().splitlines()[-1]

    def join(self, code: str, check: bool = True) -> subprocess.CompletedProcess:
        return cli(self.data, "join", code, check=check)

    def node_id(self) -> str:
        from sonantica.node.config import DataDir
        from sonantica.node.federation.runtime import load_identity

        return str(load_identity(DataDir(self.data)).node_id)


def make_node(root: Path, name: str, **config) -> NodeProc:
    music = root / f"music-{name}"
    music.mkdir(parents=True, exist_ok=True)
    config.setdefault("watch", False)
    data = init_node(root / f"data-{name}", music, name=f"Node {name}", **config)
    return NodeProc(name, data.root, music, free_port(), free_port())


def wait_for(fn, timeout: float = 20, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def search_titles(node: NodeProc, q: str) -> list[str]:
    with node.client() as c:
        return sorted(t["title"] for t in c.get("/api/v1/search", params={"q": q, "limit": 100}).json()["tracks"])


def stop_all(nodes) -> None:
    for n in nodes:
        n.stop()
