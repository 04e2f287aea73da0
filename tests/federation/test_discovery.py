"""LAN discovery: TXT parsing and candidate filtering (pure), and zeroconf for real between network namespaces."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest
import trio

from sonantica.node.federation import discovery
from sonantica.node.federation.discovery import Announcement, candidates, parse_txt, txt_for
from tests.support.audio import make_track
from tests.support.federation import CLI, make_node, wait_for

FED = "ab" * 32


def _ids(n: int) -> list[str]:
    from sonantica.protocol import NodeIdentity

    return [str(NodeIdentity.from_seed(bytes([i + 1]) * 32).node_id) for i in range(n)]


ME, A, B, STRANGER = _ids(4)
MEMBERS = {ME, A, B}


def _props(**kw) -> dict:
    return {k.encode(): (v.encode() if isinstance(v, str) else v) for k, v in kw.items()}


def _cands(ann, addresses=("10.0.0.5",), port=4534, scheme="https", fed=FED):
    return candidates(ann, me=ME, fed=fed, members=MEMBERS, scheme=scheme, addresses=list(addresses), port=port)


# -- pure ---------------------------------------------------------------------------------------
def test_txt_roundtrip():
    txt = txt_for(A, FED, "https")
    assert parse_txt(_props(**txt)) == Announcement(A, FED, "https")


@pytest.mark.parametrize("props", [
    None, [], {"node": A},  # not bytes → bytes
    _props(v="1", node=A, fed=FED),  # no scheme
    _props(v="2", node=A, fed=FED, scheme="https"),  # another version
    _props(v="1", node=A, fed=FED, scheme="ftp"),
    _props(v="1", node="not-a-node-id", fed=FED, scheme="https"),
    _props(v="1", node=A[:-1] + ("B" if A[-1] != "B" else "C"), fed=FED, scheme="https"),  # bad check char
    _props(v="1", node=A, fed="xyz", scheme="https"),
    _props(v="1", node=A, fed="a" * 300, scheme="https"),  # absurd value
    {**_props(v="1", node=A, fed=FED, scheme="https"), **{f"k{i}".encode(): b"" for i in range(20)}},  # too many keys
    {b"v": b"1", b"node": A.encode(), b"fed": FED.encode(), b"scheme": b"https", b"x": b"\xff"},  # not ascii
])
def test_absurd_or_foreign_txt_is_ignored(props):
    assert parse_txt(props) is None


def test_keys_without_values_and_case():
    props = {b"V": b"1", b"Node": A.encode(), b"fed": FED.encode(), b"scheme": b"https", b"flag": None}
    assert parse_txt(props) == Announcement(A, FED, "https")


def test_candidates_of_a_member():
    ann = Announcement(A, FED, "https")
    assert _cands(ann, ["10.0.0.5", "192.168.1.9"], 4600) == ["https://10.0.0.5:4600", "https://192.168.1.9:4600"]
    assert _cands(ann, ["fd00::7"]) == ["https://[fd00::7]:4534"]


@pytest.mark.parametrize("ann, kw", [
    (None, {}),
    (Announcement(ME, FED, "https"), {}),  # ourselves
    (Announcement(STRANGER, FED, "https"), {}),  # not a member: never a candidate
    (Announcement(A, "cd" * 32, "https"), {}),  # another federation
    (Announcement(A, FED, "http"), {}),  # plain HTTP while we talk TLS
    (Announcement(A, FED, "https"), {"port": 0}),
    (Announcement(A, FED, "https"), {"port": 70000}),
    (Announcement(A, FED, "https"), {"addresses": ["0.0.0.0", "224.0.0.251", "fe80::1", "nonsense", ""]}),
])
def test_candidates_filtered_out(ann, kw):
    assert _cands(ann, **kw) == []


def test_candidates_are_bounded_and_deduplicated():
    ann = Announcement(A, FED, "https")
    many = ["10.0.0.1", "10.0.0.1"] + [f"10.0.1.{i}" for i in range(50)]
    out = _cands(ann, many)
    assert len(out) == discovery.MAX_CANDIDATES and len(set(out)) == len(out) and out[0] == "https://10.0.0.1:4534"


async def test_does_nothing_when_discovery_is_off():
    fed = SimpleNamespace(config=SimpleNamespace(discovery=False), membership=None)
    with trio.fail_after(1):
        await discovery.run(fed, 4534)


# -- zeroconf on loopback, in process: fakes for the federation ------------------------------------
class FakeFederation:
    """What discovery uses of a Federation: identity, config, membership, and the verification hook."""

    def __init__(self, me: str, port: int, members: set[str], fed: str = FED) -> None:
        from sonantica.protocol import NodeId

        self.me = NodeId.parse(me)
        self.config = SimpleNamespace(discovery=True, federation_insecure_http=False, peer_bind=f"127.0.0.1:{port}")
        self.membership = SimpleNamespace(fed_id=fed, members={NodeId.parse(m): None for m in members},
                                          is_member=lambda node: str(node) in members)
        self.discovered: dict[str, list[str]] = {}
        self.offered: list[tuple[str, str]] = []

    async def add_discovered_address(self, node, address: str) -> bool:
        self.offered.append((str(node), address))
        self.discovered.setdefault(str(node), []).insert(0, address)
        return True


def _port() -> int:
    from tests.support.federation import free_port

    return free_port()


async def test_members_on_loopback_find_each_other_and_strangers_are_ignored():
    import threading

    ports = [_port() for _ in range(3)]
    me, a = FakeFederation(ME, ports[0], MEMBERS), FakeFederation(A, ports[1], MEMBERS)
    stranger = FakeFederation(STRANGER, ports[2], {STRANGER})  # announces itself; not one of ours
    async with trio.open_nursery() as nursery:
        for fed, port in zip((me, a, stranger), ports):
            nursery.start_soon(discovery.run, fed, port)
        with trio.fail_after(10):
            while not (me.offered and a.offered):
                await trio.sleep(0.05)
        await trio.sleep(0.5)  # time for the stranger's announcement to be seen (and ignored)
        nursery.cancel_scope.cancel()
    assert me.offered == [(A, f"https://127.0.0.1:{ports[1]}")]
    assert a.offered == [(ME, f"https://127.0.0.1:{ports[0]}")]
    assert stranger.offered == []  # its own federation has no other member
    leftovers = [t.name for t in threading.enumerate()
                 if t is not threading.main_thread() and not t.name.startswith("Trio thread")]
    assert leftovers == [], "zeroconf threads outlived the task"


# -- for real: two nodes in their own network namespaces -----------------------------------------
def _netns_unavailable() -> str | None:
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    probe = f"sontest-probe-{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"`ip netns add` failed: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)}: {r.stderr.strip()}")


class _Lan:
    """Two namespaces joined by a veth pair, 10.213.N.1 and .2/24, nothing else (no route out)."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}"
        self.ns = (f"sontest-a-{tag}", f"sontest-b-{tag}")
        self.dev = (f"sva{tag}", f"svb{tag}")
        net = os.getpid() % 250 + 1
        self.ip = (f"10.213.{net}.1", f"10.213.{net}.2")

    def __enter__(self) -> "_Lan":
        try:
            for ns in self.ns:
                _ip("netns", "add", ns)
                _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", self.ns[0], "link", "add", self.dev[0], "type", "veth", "peer", "name", self.dev[1],
                "netns", self.ns[1])
            for ns, dev, ip in zip(self.ns, self.dev, self.ip):
                _ip("-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
                _ip("-n", ns, "link", "set", dev, "up", "multicast", "on")
                _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for ns in self.ns:  # deleting a namespace deletes its end of the veth pair, and so the pair
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def run(self, i: int, *cmd: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.ns[i], *cmd], capture_output=True, text=True, **kw)

    def serve(self, i: int, node, peer_port: int) -> subprocess.Popen:
        log = open(node.data / "serve.log", "ab")
        return subprocess.Popen(
            ["ip", "netns", "exec", self.ns[i], *CLI, "--data", str(node.data), "serve",
             "--bind", "127.0.0.1:4533", "--peer-bind", f"{self.ip[i]}:{peer_port}"],
            stdout=log, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _log(node) -> str:
    return (node.data / "serve.log").read_text(errors="replace")


_STREAM = """
import hashlib, sys, httpx
with httpx.Client(base_url="http://127.0.0.1:4533", timeout=30) as c:
    c.post("/api/v1/auth/login", json={"username": "owner", "password": sys.argv[1]}).raise_for_status()
    tracks = c.get("/api/v1/search", params={"q": "lan song"}).json()["tracks"]
    t = next(t for t in tracks if t["title"] == "LAN Song of A")
    r = c.get(t["stream_url"], params={"format": "raw"})
    print(r.status_code, hashlib.sha256(r.content).hexdigest())
"""


def test_a_member_whose_address_changed_is_found_again_on_the_lan(tmp_path):
    reason = _netns_unavailable()
    if reason:
        pytest.skip(f"LAN discovery test needs network namespaces: {reason}")
    from tests.support.node import PASSWORD

    a, b = make_node(tmp_path, "A"), make_node(tmp_path, "B")
    song = a.music / "A/LAN Record/01 - LAN Song of A.flac"
    make_track(song, "flac", {"title": "LAN Song of A", "artist": "Artist A", "album": "LAN Record"}, seconds=3)
    procs: list[subprocess.Popen | None] = [None, None]
    # generous deadlines (waits end as soon as the thing happens): two node processes start in
    # namespaces, and a loaded CI machine took over 20 s for the first one
    with _Lan() as lan:
        try:
            procs[0] = lan.serve(0, a, 4601)
            procs[1] = lan.serve(1, b, 4611)
            wait_for(lambda: "peer API on" in _log(a), timeout=60, what="A's peer API")
            code = a.invite()  # carries A's address as it is now: 10.213.N.1:4601
            r = lan.run(1, *CLI, "--data", str(b.data), "join", code, timeout=60)
            assert r.returncode == 0, r.stderr
            a_id = a.node_id()
            # A moves to another port: the address in B's copy of A's signed admission is now stale.
            # B finds it on the LAN (zeroconf), whatever the gossip does.
            _stop(procs[0])
            procs[0] = lan.serve(0, a, 4602)
            new = f"https://{lan.ip[0]}:4602"
            wait_for(lambda: f"on the LAN at {new}" in _log(b), timeout=60, what="B finds A at its new address")
            # and through gossip: A's signed announce replaces the admission's stale address
            wait_for(lambda: next(p for p in json.loads(_peers_json(b)) if p["id"] == a_id)["addresses"] == [new],
                     timeout=60, what="A's announce reaches B")
            # B reaches A through the address it found: stream A's song through B, byte-exact.
            def streamed():
                out = lan.run(1, sys.executable, "-c", _STREAM, PASSWORD, timeout=30)
                return out.stdout.split() if out.returncode == 0 else None
            status, digest = wait_for(streamed, timeout=45, interval=0.5, what="A's song streamed through B")
            assert status == "200" and digest == hashlib.sha256(song.read_bytes()).hexdigest()
            wait_for(lambda: next(p for p in json.loads(_peers_json(b)) if p["id"] == a_id)["online"],
                     timeout=45, what="A online for B")
        finally:
            for p in procs:
                _stop(p)


def _peers_json(node) -> str:
    r = subprocess.run([*CLI, "--data", str(node.data), "peers", "--json"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout
