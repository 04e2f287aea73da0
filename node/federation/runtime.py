"""The federation inside a running node: drives the protocol machine and performs its actions.

Theory of operation
-------------------
::

    peer API (POST /peer/v1/gossip) ─► verify request ─► machine.receive ─┐
    timer (next_deadline)            ─────────────────► machine.tick ────┤
    library.changed / 30 s           ─► publish() ─────► machine.append ─┤
    CLI wrote the DB (generation++)  ─► reload()                          │
                                                                          ▼
                    actions ──► Store* / DropLog: one write transaction (in order, under a lock)
                            ──► ServeLog: read entries ─► serve_log ─► Send
                            ──► Send: POST to the member (background, bounded per peer)
                            ──► PeerState: peer table (online, suspect, dead)

The machine is a plain object used from trio tasks only between awaits, so its
state changes are atomic; persisting the actions of one call happens under
``_lock`` so that entries reach the store in order. The database is the
source of truth shared with CLI commands (``invite``, ``join``, ``revoke``,
``leave``): they write it and bump ``fed_state.generation``; the runner
notices and rebuilds the machine from the store.
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any

import trio

from sonantica.protocol import (
    Announce, DropLog, Entry, GossipMachine, Head, LogReplica, Manifest, MembershipState, NodeId, NodeIdentity,
    PeerState, RemoteProtocolError, RequestVerifier, Send, ServeLog, StoreEntries, StoreRecords, StoreSnapshot,
    TrackRecord, serialize, serve_log,
)
from sonantica.protocol.errors import LocalProtocolError
from sonantica.protocol.records import lyrics_id
from sonantica.protocol.membership import Genesis, parse_record

from ..identity import load_seed

from ..store import peers as peers_store
from ..store import tracks as tracks_store
from . import catalogue
from . import artist_info as member_artist_info
from . import lyrics as member_lyrics
from .client import PeerClient, now_ms
from .covers import published_cover_ids
from .errors import PeerRejected, PeerUnavailable
from .leaves import file_id_and_leaves, leaves_dir

log = logging.getLogger(__name__)

PUBLISH_EVERY_S = 30
HELLO_EVERY_S = 20
HELLO_RETRY_S = 2
MAX_SENDS_PER_PEER = 4


def load_identity(data) -> NodeIdentity:
    return NodeIdentity.from_seed(load_seed(data.key_path))


def membership_from(state: dict, records: list[dict]) -> MembershipState | None:
    if not state["genesis"]:
        return None
    genesis = Genesis.from_obj(state["genesis"])
    recs = []
    for obj in records:
        try:
            recs.append(parse_record(obj))
        except RemoteProtocolError:
            log.warning("ignoring a stored membership record that no longer parses")
    membership = MembershipState(genesis)
    membership.add_many(recs)
    return membership


class Federation:
    """One node's membership of a federation, while serving."""

    def __init__(self, node) -> None:
        self.node = node
        self.store = node.store
        self.config = node.config
        self.identity = load_identity(node.data)
        self.me = self.identity.node_id
        self.client = PeerClient(self.identity, node.config.federation_insecure_http)
        self.rng = random.Random()
        self.machine: GossipMachine | None = None
        self.membership: MembershipState | None = None
        self.verifier: RequestVerifier | None = None
        self.generation = -1
        self.cert_pin = b""
        self.addresses: list[str] = []
        self._lock = trio.Lock()
        self._send_limits: dict[str, trio.Semaphore] = {}
        self._nursery: trio.Nursery | None = None
        self._publish_now = trio.Event()
        # members' lyrics ids newly arrived in their records: fetched and kept one at a time
        self._lyrics_in, self._lyrics_out = trio.open_memory_channel(member_lyrics.PREFETCH_QUEUE)
        self._bios_in, self._bios_out = trio.open_memory_channel(member_artist_info.PREFETCH_QUEUE)
        self._hello_now = trio.Event()
        self._pin_now = trio.Event()
        self.active_uploads = 0
        self.upload_capacity = 64
        from .remote import Holders

        self.holders = Holders()
        self.chunk_cache = None  # set by the service (ChunkCache, bounded by peer_cache_mb)
        self._fetched: dict[str, int] = {}
        self.discovered: dict[str, list[str]] = {}  # node id -> verified addresses found on the LAN

    def count_fetched(self, node: str, nbytes: int) -> None:
        self._fetched[node] = self._fetched.get(node, 0) + nbytes

    async def _flush_counters(self) -> None:
        while True:
            await trio.sleep(2)
            fetched, self._fetched = self._fetched, {}
            for node, n in fetched.items():
                await self.store.write(peers_store.add_peer_bytes, node, 0, n)

    # -- state -------------------------------------------------------------------
    @property
    def joined(self) -> bool:
        return self.machine is not None

    async def reload(self) -> None:
        """Rebuild the machine from the store (start-up, and after a CLI changed the federation)."""
        state = await self.store.read(peers_store.state)
        records = await self.store.read(peers_store.records)
        self.generation = state["generation"]
        membership = membership_from(state, records)
        if membership is None or not membership.is_member(self.me):
            self.machine = self.membership = self.verifier = None
            return
        replicas = []
        for row in await self.store.read(peers_store.log_states):
            if row["log"] == str(self.me):
                continue
            head = Head.from_obj(json.loads(row["head"])) if row["head"] else None
            replicas.append(LogReplica(NodeId.parse(row["log"]), row["seq"], bytes.fromhex(row["hash"] or "00" * 32),
                                       head))
        own_hash = bytes.fromhex(state["own_hash"]) if state["own_hash"] else bytes(32)
        self.membership = membership
        self.machine = GossipMachine(self.identity, membership, now_ms(), log_seq=state["own_seq"],
                                     log_hash=own_hash, replicas=replicas)
        self.verifier = RequestVerifier(membership)
        members = {str(m) for m in membership.members}
        stale = [log_id for log_id in await self.store.read(_stored_logs) if log_id not in members]
        if stale:  # revoked or departed while we were down, or revoked by a CLI command just now
            await self.store.write(_persist, [DropLog(NodeId.parse(log_id)) for log_id in stale], str(self.me))
            self.node.bus.publish("library.changed", {"source": "federation"})
        await self._store_peer_addresses()
        await self.announce_if_moved()
        self._publish_now.set()
        self._hello_now.set()

    async def _store_peer_addresses(self) -> None:
        if self.membership is None:
            return
        for member, info in self.membership.members.items():
            if member != self.me:
                await self.store.write(peers_store.upsert_peer, str(member), addresses=info.addresses)

    async def announce_if_moved(self) -> None:
        """Tell the federation where we are now, if that differs from what it holds for us.

        A node's addresses change with DHCP, a new port or a new ``peer_advertise``;
        members learn them through gossip (a signed announce), which is what lets a
        member whose address changed be found again beyond the LAN.
        """
        if self.machine is None or self.membership is None or not self.addresses:
            return
        info = self.membership.members.get(self.me)
        if info is None or info.addresses == tuple(self.addresses):
            return
        previous = self.membership.announce_of(self.me)
        when = max(now_ms(), previous.time + 1 if previous else 0)
        announce = Announce.create(self.identity, self.membership.fed_id, self.addresses, when)
        async with self._lock:
            if self.machine is None:
                return
            await self._perform(self.machine.add_records([announce], now_ms()))
        log.info("announced our addresses to the federation: %s", ", ".join(self.addresses))

    def member_info(self, node: NodeId):
        if self.membership is None:
            raise PeerRejected(str(node), "this node is not in a federation")
        info = self.membership.members.get(node)
        if info is None:
            raise PeerRejected(str(node), "not a member of the federation")
        return info

    def addresses_of(self, node: NodeId) -> tuple[list[str], bytes]:
        """Verified addresses found on the LAN first, then those of the signed admission."""
        info = self.member_info(node)
        found = [a for a in self.discovered.get(str(node), []) if a not in info.addresses]
        return found + list(info.addresses), info.cert_pin

    async def add_discovered_address(self, node: NodeId, address: str) -> bool:
        """A LAN candidate claiming to be ``node``: keep its address only if it proves it (pinned TLS + hello)."""
        if self.membership is None or node not in self.membership.members or node == self.me:
            return False
        if address in self.discovered.get(str(node), []):
            return True
        pin = self.membership.members[node].cert_pin
        try:
            body = await self.client.call([address], pin, str(node), "GET", "/peer/v1/hello")
            if json.loads(body).get("node") != str(node):
                return False
        except (PeerUnavailable, PeerRejected, ValueError):
            return False
        self.discovered.setdefault(str(node), []).insert(0, address)
        log.info("found %s on the LAN at %s", node.short, address)
        return True

    # -- the loop ------------------------------------------------------------------
    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        await self.reload()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._publisher)
            nursery.start_soon(self._hello_loop)
            nursery.start_soon(self._flush_counters)
            nursery.start_soon(self._pin_loop)
            nursery.start_soon(self._follow_analysis)
            nursery.start_soon(member_lyrics.prefetch_loop, self.node, self._lyrics_out)
            nursery.start_soon(member_artist_info.prefetch_loop, self.node, self._bios_out)
            task_status.started()
            scanned = None
            while True:
                generation, last_scan = await self.store.read(_marks)
                if generation != self.generation:
                    await self.reload()
                if last_scan != scanned:  # also a `sonantica scan` run by another process
                    scanned = last_scan
                    self._publish_now.set()
                if self.machine is None:
                    await trio.sleep(0.5)
                    continue
                now = now_ms()
                async with self._lock:
                    actions = self.machine.tick(now, self.rng)
                    await self._perform(actions)
                wait = max(0.01, min(0.5, (self.machine.next_deadline() - now_ms()) / 1000))
                await trio.sleep(wait)

    async def receive(self, sender: NodeId, body: bytes) -> None:
        if self.machine is None:
            raise PeerRejected(str(sender), "this node is not in a federation")
        async with self._lock:
            actions = self.machine.receive(sender, body, now_ms(), self.rng)
            await self._perform(actions)
        await self.store.write(peers_store.upsert_peer, str(sender), last_seen=time.time(), state="alive")

    def publish_soon(self, *_args: Any) -> None:
        self._publish_now.set()

    async def _follow_analysis(self) -> None:
        """Publish when the analysis has finished a batch: new sonic vectors go into our records."""
        bus = getattr(self.node, "bus", None)
        if bus is None:
            return
        with bus.subscribe(64) as sub:
            while True:
                event = await sub.get()
                if event.kind == "analysis.finished":
                    self._publish_now.set()

    # -- actions -------------------------------------------------------------------------------
    def _queue_lyrics(self, writes: list) -> None:
        """Fetch members' lyrics and biographies as their records arrive, so they are shown even while
        the owner is away (a full queue drops the rest: those are fetched when first asked for)."""
        me = str(self.me)
        bios: set[str] = set()  # every track of an artist names the same document: queue it once
        for a in writes:
            if isinstance(a, StoreEntries) and str(a.log) != me:
                records = [e.record for e in a.entries if e.op != "remove" and e.record is not None]
            elif isinstance(a, StoreSnapshot):
                records = list(a.records)
            else:
                continue
            for r in records:
                if member_artist_info.is_artist_info_id(r.artist_info) and r.artist_info not in bios:
                    bios.add(r.artist_info)
                    try:
                        self._bios_in.send_nowait((r.artist_info, str(a.log), r.file_id))
                    except trio.WouldBlock:
                        pass
                if member_lyrics.is_lyrics_id(r.lyrics):
                    try:
                        self._lyrics_in.send_nowait((r.lyrics, str(a.log), r.file_id))
                    except trio.WouldBlock:
                        pass

    async def _perform(self, actions: list) -> None:
        # Messages go first: a "want" for the next page of a catalogue then travels while we
        # write this one (a new member catches up with the writes and the network overlapped).
        # The machine has already moved on, so the order of the two changes nothing else.
        for a in actions:
            if isinstance(a, Send):
                self._send(a)
        writes = [a for a in actions if isinstance(a, (StoreEntries, StoreSnapshot, StoreRecords, DropLog))]
        if writes:
            await self.store.write(_persist, writes, str(self.me))
            self._queue_lyrics(writes)
            if any(isinstance(a, StoreRecords) for a in writes):
                self._hello_now.set()  # new members: learn their names and load
                if any(isinstance(r, Announce) for a in writes if isinstance(a, StoreRecords) for r in a.records):
                    await self._store_peer_addresses()
        for a in actions:
            if isinstance(a, ServeLog):
                for send in await self._serve_log(a):
                    self._send(send)
            elif isinstance(a, PeerState):
                await self.store.write(peers_store.upsert_peer, str(a.node), state=a.state,
                                       **({"last_seen": time.time()} if a.state == "alive" else {}))
        if any(isinstance(a, (StoreEntries, StoreSnapshot, DropLog)) and a.log != self.me for a in actions):
            self.node.bus.publish("library.changed", {"source": "federation"})

    async def _serve_log(self, a: ServeLog) -> list[Send]:
        from sonantica.protocol.limits import MAX_ENTRIES_PER_MESSAGE

        rows = await self.store.read(peers_store.entries_from, str(a.log), a.from_seq, MAX_ENTRIES_PER_MESSAGE)
        entries = [Entry.from_obj(o) for o in rows]
        if entries and entries[0].seq == a.from_seq:
            return serve_log(a, entries, None)
        return serve_log(a, None, None)

    def _send(self, action: Send) -> None:
        if self._nursery is None:
            return
        sem = self._send_limits.setdefault(str(action.peer), trio.Semaphore(MAX_SENDS_PER_PEER))
        if sem.value == 0:
            return  # the peer is slow: SWIM and anti-entropy will retry
        self._nursery.start_soon(self._deliver, action, sem)

    async def _deliver(self, action: Send, sem: trio.Semaphore) -> None:
        async with sem:
            try:
                addresses, pin = self.addresses_of(action.peer)
                await self.client.call(addresses, pin, str(action.peer), "POST", "/peer/v1/gossip",
                                       serialize(action.message))
            except (PeerUnavailable, PeerRejected) as exc:
                log.debug("gossip to %s failed: %s", action.peer.short, exc)

    # -- publishing our catalogue -------------------------------------------------------------
    async def _publisher(self) -> None:
        self.node.bus_listeners = getattr(self.node, "bus_listeners", [])
        self.node.scanner.listeners.append(lambda kind, data: self._publish_now.set() if kind == "scan.finished" else None)
        while True:
            with trio.move_on_after(PUBLISH_EVERY_S):
                await self._publish_now.wait()
            self._publish_now = trio.Event()
            if self.machine is None:
                continue
            try:
                await self.publish()
            except Exception:
                log.exception("publishing the catalogue failed; will retry")

    async def publish(self) -> int:
        """Append add/update/remove entries so that our log matches the shared local library."""
        await self._fill_file_ids()
        rows = await self.store.read(_shared_tracks, self.config.share, self.config.share_folders)
        covers = await published_cover_ids(self.node)
        sonic = await self.store.read(_sonic_members)
        current = {}
        for t, folder in rows:
            try:
                current[t["id"]] = catalogue.record_for(t, folder, covers.get(t["id"]), sonic.get(t["id"]))
            except LocalProtocolError as exc:  # one odd track must not keep the others from the federation
                log.warning("not sharing %s: %s", t["path"], exc)
        digests = {k: catalogue.digest(r) for k, r in current.items()}
        published = await self.store.read(peers_store.published)
        changes: list[tuple[str, str, TrackRecord | None]] = []
        for key, d in digests.items():
            if published.get(key) != d:
                changes.append(("update" if key in published else "add", key, current[key]))
        for key in published:
            if key not in digests:
                changes.append(("remove", key, None))
        if not changes:
            return 0
        async with self._lock:
            if self.machine is None:
                return 0
            actions = []
            now = now_ms()
            for op, key, record in changes:
                if op == "remove":
                    actions += self.machine.append("remove", now, key=key)
                else:
                    actions += self.machine.append(op, now, record=record)
            await self._perform(actions)
            await self.store.write(peers_store.set_published,
                                   {key: (digests[key] if op != "remove" else None) for op, key, _ in changes})
        log.info("published %d catalogue change(s)", len(changes))
        return len(changes)

    async def _fill_file_ids(self) -> None:
        missing = await self.store.read(_tracks_without_file_id)
        for track_id, path in missing:
            try:
                file_id = await trio.to_thread.run_sync(file_id_and_leaves, path, leaves_dir(self.node.data))
            except OSError as exc:
                log.warning("cannot hash %s for the catalogue: %s", path, exc)
                continue
            await self.store.write(_set_file_id, track_id, file_id)

    # -- pins: permanent local replicas of albums held by others ------------------------------
    def pin_now(self) -> None:
        self._pin_now.set()

    async def _pin_loop(self) -> None:
        while True:
            with trio.move_on_after(60):
                await self._pin_now.wait()
            self._pin_now = trio.Event()
            if self.machine is None or self.chunk_cache is None:
                continue
            try:
                await self.replicate_pins()
            except Exception:
                log.exception("replicating pinned albums failed; will retry")

    async def replicate_pins(self) -> int:
        """Fetch every remote track of every pinned album fully into the (pinned) chunk cache."""
        from sonantica.protocol.chunks import chunk_count_for_size

        from .remote import remote_stream

        wanted = await self.store.read(_pinned_remote_tracks)
        wanted_ids = {t["file_id"] for t in wanted}
        for fid in list(getattr(self.chunk_cache, "_pins", set())):
            if fid not in wanted_ids:
                await self.chunk_cache.unpin(fid)
        fetched = 0
        for track in wanted:
            fid, size = track["file_id"], int(track["size"])
            if not self.chunk_cache.is_pinned(fid):
                await self.chunk_cache.pin(fid)
            if self.chunk_cache.has_file(fid, chunk_count_for_size(size)):
                continue
            try:
                resp = await remote_stream(self.node, track, "GET", {})
                async for _piece in resp.body:
                    pass
                fetched += 1
            except (PeerUnavailable, PeerRejected) as exc:
                log.info("pinned track %s not replicated yet: %s", track["title"], exc)
            except Exception as exc:  # TransferFailed: no holder now; retried later
                log.info("pinned track %s not replicated yet: %s", track["title"], exc)
        return fetched

    # -- hello: names, load and liveness of members ---------------------------------------------
    async def _hello_loop(self) -> None:
        while True:
            failed: list[NodeId] = []
            if self.membership is not None:
                async def greet(member: NodeId) -> None:
                    if await self.hello(member) is None:
                        failed.append(member)

                async with trio.open_nursery() as n:
                    for member in list(self.membership.members):
                        if member != self.me:
                            n.start_soon(greet, member)
            # A member that just joined may not answer yet: ask again soon rather than in 20 s,
            # or its name and track count stay unknown that long.
            with trio.move_on_after(HELLO_RETRY_S if failed else HELLO_EVERY_S):
                await self._hello_now.wait()
                await trio.sleep(0.5)
            self._hello_now = trio.Event()

    async def hello(self, member: NodeId) -> dict | None:
        try:
            addresses, pin = self.addresses_of(member)
            t0 = time.perf_counter()
            body = await self.client.call(addresses, pin, str(member), "GET", "/peer/v1/hello")
            rtt = (time.perf_counter() - t0) * 1000
            info = json.loads(body)
        except (PeerUnavailable, PeerRejected, ValueError) as exc:
            log.debug("hello to %s failed: %s", member.short, exc)
            await self.store.write(peers_store.upsert_peer, str(member), state="unreachable")
            return None
        await self.store.write(peers_store.upsert_peer, str(member), name=str(info.get("name", ""))[:100],
                               load=float(info.get("load", 0)), tracks=int(info.get("tracks", 0)), rtt_ms=rtt,
                               last_seen=time.time(), state="alive")
        return info

    def hello_info(self, tracks: int) -> dict:
        return {"node": str(self.me), "name": self.config.name, "tracks": tracks,
                "load": round(self.active_uploads / self.upload_capacity, 3)}


def _persist(db, actions: list, me: str) -> None:
    albums: dict[str, set[str]] = {}
    for a in actions:
        if isinstance(a, StoreEntries):
            log_id = str(a.log)
            peers_store.put_entries(db, log_id, [(e.seq, e.to_obj()) for e in a.entries])
            last = a.entries[-1] if a.entries else None
            if log_id == me:
                if last is not None:
                    peers_store.set_own(db, last.seq, last.hash.hex())
                continue
            if last is not None:
                peers_store.set_log_state(db, log_id, last.seq, last.hash.hex(),
                                          a.head.to_obj() if a.head else None)
            upserts = [e.record.to_obj() for e in a.entries if e.op != "remove" and e.record is not None]
            removes = [e.key for e in a.entries if e.op == "remove"]
            touched = albums.setdefault(log_id, set())
            if removes:
                touched |= peers_store.remove_remote(db, log_id, removes)
            if upserts:
                touched |= peers_store.upsert_remote(db, log_id, upserts)
        elif isinstance(a, StoreSnapshot):
            log_id = str(a.log)
            touched = albums.setdefault(log_id, set())
            touched |= peers_store.remove_remote(db, log_id, None)
            touched |= peers_store.upsert_remote(db, log_id, [r.to_obj() for r in a.records])
            m: Manifest = a.manifest
            peers_store.set_log_state(db, log_id, m.seq, m.hash.hex(), a.head.to_obj() if a.head else None,
                                      floor=m.seq, manifest=m.to_obj())
        elif isinstance(a, StoreRecords):
            peers_store.add_records(db, [(r.id.hex(), r.to_obj()) for r in a.records])
        elif isinstance(a, DropLog):
            albums.setdefault(str(a.log), set()).update(peers_store.drop_log(db, str(a.log)))
    all_albums = set().union(*albums.values()) if albums else set()
    if all_albums:
        peers_store.refresh_remote_albums(db, all_albums)


def _marks(db) -> tuple[int, float | None]:
    """What the run loop polls: the federation's generation and when a scan last finished.

    Both can change from another process (the CLI's ``invite``/``join``/``scan``), which
    the node would otherwise only notice on its next periodic publish.
    """
    state = tracks_store.scan_state(db)
    return peers_store.generation(db), state["finished_at"] if state else None


def _sonic_members(db) -> dict[str, str]:
    """Every local track's sonic vector as a catalogue member (members find paths through our music)."""
    from ..analysis.features.sonic import DIMS
    from ..analysis.similarity import VERSION
    from ..store import analysis as analysis_store

    ids, data = analysis_store.vectors(db, VERSION, DIMS)
    return catalogue.sonic_members(ids, data, VERSION, DIMS)


def _shared_tracks(db, share: str, share_folders: tuple[str, ...]) -> list[tuple[dict, str]]:
    folders = tracks_store.folders(db)
    allowed = catalogue.shared_folder_ids(folders, share, share_folders)
    names = {f["id"]: f["name"] for f in folders}
    biographies = member_artist_info.published_ids(db)  # members fetch them from /peer/v1/artist-info
    out = []
    # MBIDs external metadata matched (docs/metadata.md) stand in for missing tags: one node's lookup
    # serves every member (their songs and albums then carry musicBrainzId too)
    for row in db.query("SELECT t.*, mt.recording_mbid AS fetched_recording, ma.release_mbid AS fetched_release, "
                        "mt.lyrics_synced AS fetched_synced, mt.lyrics_plain AS fetched_plain "
                        "FROM track t LEFT JOIN meta_track mt ON mt.track_id = t.id "
                        "LEFT JOIN meta_album ma ON ma.album_id = t.album_id WHERE t.file_id IS NOT NULL"):
        if row["folder_id"] in allowed:
            fetched_recording, fetched_release = row.pop("fetched_recording"), row.pop("fetched_release")
            fetched_lyrics = member_lyrics.shareable(row.pop("fetched_synced"), row.pop("fetched_plain"))
            track = tracks_store._track_dict(row)
            # lyrics it fetched ride as a content id; members fetch the text from /peer/v1/lyrics
            track["lyrics_id"] = lyrics_id(fetched_lyrics) if fetched_lyrics else None
            track["artist_info_id"] = biographies.get(track.get("artist_id"))
            track["mb_recording_id"] = track.get("mb_recording_id") or fetched_recording
            track["mb_album_id"] = track.get("mb_album_id") or fetched_release
            out.append((track, names[row["folder_id"]]))
    return out


def _pinned_remote_tracks(db) -> list[dict]:
    from ..store import tracks as tracks_store

    out = []
    for album_id in peers_store.pins(db):
        for row in db.query("SELECT * FROM lib_track WHERE album_id = ? AND source != ''", [album_id]):
            out.append(tracks_store._track_dict(row))
    return out


def _stored_logs(db) -> list[str]:
    logs = {r[0] for r in db.conn.execute("SELECT log FROM log_state")}
    logs |= {r[0] for r in db.conn.execute("SELECT DISTINCT log FROM remote_track")}
    return sorted(logs)


def _tracks_without_file_id(db) -> list[tuple[str, str]]:
    import posixpath

    folders = {f["id"]: f["path"] for f in tracks_store.folders(db)}
    return [(tid, posixpath.join(folders[fid], path)) for tid, fid, path in
            db.conn.execute("SELECT id, folder_id, path FROM track WHERE file_id IS NULL")]


def _set_file_id(db, track_id: str, file_id: str) -> None:
    db.conn.execute("UPDATE track SET file_id = ? WHERE id = ? AND file_id IS NULL", (file_id, track_id))
