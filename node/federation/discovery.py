"""LAN discovery: find members' current addresses with zeroconf (``_sonantica._tcp``).

Theory of operation
-------------------
::

    zeroconf threads ── browser callback ──run_sync_soon──► memory channel (bounded, drops when full)
                                                                  │
    trio: resolve (get_service_info in a worker thread) ◄─────────┘
          ─► parse_txt ─► candidates (pure: member? same federation? not us? sane addresses?)
          ─► federation.add_discovered_address (pinned TLS + signed hello) ─► kept, or dropped

A service seen on the LAN is only a *candidate*: its TXT record claims a node
id, but nothing is kept until that member answers ``/peer/v1/hello`` over TLS
pinned to the certificate hash in its signed membership record. Candidates
that fail are retried every ``RECHECK_S`` (the node may not have joined yet,
or the member may still be starting), within fixed bounds.

python-zeroconf is thread-based (its asyncio API needs an asyncio loop, which
trio is not), so every blocking zeroconf call runs in a worker thread, and
the browser's callback only hands ``(name, change)`` to trio without blocking.
Leaving (cancel) unregisters the service (goodbye packets) and closes
zeroconf, shielded, so that no thread outlives the task.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from functools import partial

import trio

from .binding import interface_hosts, split_peer_bind

log = logging.getLogger(__name__)

SERVICE_TYPE = "_sonantica._tcp.local."
TXT_VERSION = "1"
MAX_SERVICES = 32  # services remembered at once; more are ignored until some go away
MAX_CANDIDATES = 4  # addresses tried per service
MAX_TXT_KEYS = 16
MAX_TXT_VALUE = 255
MAX_PENDING = 64  # browser events waiting for trio; more are dropped (the next recheck catches up)
MAX_VERIFYING = 4  # concurrent verifications
RESOLVE_TIMEOUT_MS = 3000
RECHECK_S = 5.0
RETRY_S = 30
_FED_ID = re.compile(r"^[0-9a-f]{16,128}$")


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a service's TXT record claims (unverified)."""

    node: str
    fed: str
    scheme: str


# -- pure -------------------------------------------------------------------------------------
def txt_for(node: str, fed: str, scheme: str) -> dict[str, str]:
    return {"v": TXT_VERSION, "node": node, "fed": fed, "scheme": scheme}


def parse_txt(properties: object) -> Announcement | None:
    """A service's TXT properties (bytes keys and values, as zeroconf gives them) → Announcement, or None."""
    if not isinstance(properties, dict) or len(properties) > MAX_TXT_KEYS:
        return None
    txt: dict[str, str] = {}
    for key, value in properties.items():
        if not isinstance(key, bytes) or not isinstance(value, bytes | None):
            return None
        if value is not None and len(value) > MAX_TXT_VALUE:
            return None
        try:
            txt[key.decode("ascii").lower()] = (value or b"").decode("ascii")
        except UnicodeDecodeError:
            return None
    if txt.get("v") != TXT_VERSION or txt.get("scheme") not in ("http", "https"):
        return None
    if not _FED_ID.match(txt.get("fed", "")):
        return None
    from sonantica.protocol import NodeId, RemoteProtocolError

    try:
        node = str(NodeId.parse(txt.get("node", "")))
    except RemoteProtocolError:
        return None
    return Announcement(node, txt["fed"], txt["scheme"])


def candidates(ann: Announcement | None, *, me: str, fed: str, members: set[str], scheme: str,
               addresses: list[str], port: int) -> list[str]:
    """Addresses worth verifying for an announcement: a current member of our federation, not us, sane."""
    if ann is None or ann.node == me or ann.fed != fed or ann.node not in members or ann.scheme != scheme:
        return []
    if not isinstance(port, int) or not 0 < port < 65536:
        return []
    out: list[str] = []
    for text in addresses:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if ip.is_unspecified or ip.is_multicast or (ip.version == 6 and ip.is_link_local):
            continue  # link-local IPv6 needs a zone we cannot carry in a URL portable between hosts
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        url = f"{scheme}://{host}:{port}"
        if url not in out:
            out.append(url)
        if len(out) >= MAX_CANDIDATES:
            break
    return out


def _fed_of(federation) -> str | None:
    m = federation.membership
    return m.fed_id if m is not None and m.is_member(federation.me) else None


# -- the service ------------------------------------------------------------------------------
async def run(federation, port: int, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Announce this node and look for members on the LAN while the node is in a federation."""
    task_status.started()
    if not federation.config.discovery:
        return
    while True:
        fed = _fed_of(federation)
        if fed is None:
            await trio.sleep(1)
            continue
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_guarded, federation, port, fed)
            while _fed_of(federation) == fed:  # joined another federation, or left: start again
                await trio.sleep(1)
            nursery.cancel_scope.cancel()


async def _guarded(federation, port: int, fed: str) -> None:
    """LAN discovery is a help, never a reason for the node to stop: failures are logged and retried."""
    while True:
        try:
            await _lan_session(federation, port, fed)
        except Exception as exc:  # OSError from sockets, zeroconf errors: the LAN may come back
            log.warning("LAN discovery failed (%s: %s); retrying in %d s", type(exc).__name__, exc, RETRY_S)
        await trio.sleep(RETRY_S)


async def _lan_session(federation, port: int, fed: str) -> None:
    from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

    scheme = "http" if federation.config.federation_insecure_http else "https"
    interfaces, hosts = _local_hosts(federation.config.peer_bind)
    token = trio.lowlevel.current_trio_token()
    send, recv = trio.open_memory_channel(MAX_PENDING)

    def offer(item) -> None:  # runs in trio; must never raise
        try:
            send.send_nowait(item)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def on_change(zeroconf, service_type, name, state_change) -> None:  # runs in a zeroconf thread
        try:
            token.run_sync_soon(offer, (name, state_change))
        except trio.RunFinishedError:
            pass

    zc = await trio.to_thread.run_sync(partial(Zeroconf, interfaces=interfaces, ip_version=IPVersion.V4Only))
    info = browser = None
    try:
        info = _service_info(federation, fed, scheme, hosts, port)
        await trio.to_thread.run_sync(partial(zc.register_service, info, allow_name_change=True))
        log.info("announced on the LAN as %r", info.name)
        browser = await trio.to_thread.run_sync(partial(ServiceBrowser, zc, SERVICE_TYPE, handlers=[on_change]))
        finder = _Finder(federation, zc, fed, scheme)
        async with trio.open_nursery() as nursery:
            finder.nursery = nursery
            nursery.start_soon(finder.recheck)
            async for name, change in recv:
                if change is ServiceStateChange.Removed:
                    finder.forget(name)
                else:
                    nursery.start_soon(finder.resolve, name)
    finally:
        with trio.CancelScope(shield=True):
            send.close()
            await trio.to_thread.run_sync(_close, zc, browser, info)


def _close(zc, browser, info) -> None:
    try:
        if browser is not None:
            browser.cancel()  # joins the browser thread
        if info is not None:
            zc.unregister_service(info)
    finally:
        zc.close()  # stops zeroconf's loop thread


def _service_info(federation, fed: str, scheme: str, hosts: list[str], port: int):
    import socket

    from zeroconf import ServiceInfo

    short = federation.me.short.lower()
    return ServiceInfo(SERVICE_TYPE, f"sonantica-{short}.{SERVICE_TYPE}", port=port,
                       properties=txt_for(str(federation.me), fed, scheme),
                       server=f"sonantica-{short}.local.", addresses=[socket.inet_aton(h) for h in hosts])


def _local_hosts(peer_bind: str) -> tuple[object, list[str]]:
    """(zeroconf interfaces, IPv4 addresses to announce) for the peer API's bind address."""
    from zeroconf import InterfaceChoice

    host = split_peer_bind(peer_bind)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and ip.version == 4 and not ip.is_unspecified:
        return [str(ip)], [str(ip)]
    return InterfaceChoice.All, (interface_hosts() or ["127.0.0.1"])[:MAX_CANDIDATES]


class _Finder:
    """Services seen on the LAN and their candidate addresses; verifies them through the federation."""

    def __init__(self, federation, zc, fed: str, scheme: str) -> None:
        self.federation, self.zc, self.fed, self.scheme = federation, zc, fed, scheme
        self.seen: dict[str, tuple[str, list[str]]] = {}  # service name -> (node id, candidates)
        self.nursery: trio.Nursery | None = None
        self._resolving = trio.CapacityLimiter(MAX_VERIFYING)
        self._verifying = trio.CapacityLimiter(MAX_VERIFYING)
        self._busy: set[tuple[str, str]] = set()

    async def resolve(self, name: str) -> None:
        if name not in self.seen and len(self.seen) >= MAX_SERVICES:
            return
        info = await trio.to_thread.run_sync(self.zc.get_service_info, SERVICE_TYPE, name, RESOLVE_TIMEOUT_MS,
                                             limiter=self._resolving)
        if info is None:
            return
        m = self.federation.membership
        members = {str(n) for n in m.members} if m is not None else set()
        ann = parse_txt(info.properties)
        found = candidates(ann, me=str(self.federation.me), fed=self.fed, members=members, scheme=self.scheme,
                           addresses=info.parsed_addresses(), port=info.port)
        if not found:
            return
        old = self.seen.get(name)
        if old is not None:
            self._drop(old[0], [a for a in old[1] if a not in found])
        if name in self.seen or len(self.seen) < MAX_SERVICES:
            self.seen[name] = (ann.node, found)
            self._try(ann.node, found)

    def forget(self, name: str) -> None:
        gone = self.seen.pop(name, None)
        if gone is not None:
            self._drop(*gone)

    async def recheck(self) -> None:
        while True:
            await trio.sleep(RECHECK_S)
            for node, found in list(self.seen.values()):
                known = self.federation.discovered.get(node, [])
                self._try(node, [a for a in found if a not in known])

    def _try(self, node: str, addresses: list[str]) -> None:
        for address in addresses:
            if (node, address) not in self._busy and self.nursery is not None:
                self._busy.add((node, address))
                self.nursery.start_soon(self._verify, node, address)

    async def _verify(self, node: str, address: str) -> None:
        from sonantica.protocol import NodeId

        try:
            async with self._verifying:
                if not await self.federation.add_discovered_address(NodeId.parse(node), address):
                    log.debug("LAN candidate %s at %s did not prove membership", node[:7], address)
        finally:
            self._busy.discard((node, address))

    def _drop(self, node: str, addresses: list[str]) -> None:
        """A service went away or moved: its old addresses are no longer tried first."""
        kept = self.federation.discovered.get(node)
        if kept:
            kept[:] = [a for a in kept if a not in addresses]
