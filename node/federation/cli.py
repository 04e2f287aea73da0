"""Federation commands of the ``sonantica`` CLI: invite, join, peers, revoke, leave, pin, unpin.

Imported by every command to add its parsers, so the federation itself (protocol,
TLS, HTTP client) is imported inside the commands that use it.
"""

from __future__ import annotations

import argparse
import json

from ..store import peers as peers_store
from ..store.db import Store


def add_parsers(sub, commands: dict) -> None:
    s = sub.add_parser("invite", help="print an invite code for a friend's node (founds the federation if needed)")
    s.add_argument("--uses", type=int, default=1, help="how many nodes may join with it (default 1)")
    s.add_argument("--ttl", default="24h", help="how long it stays valid: 90s, 10m, 24h, 7d (default 24h)")
    s.add_argument("--admin", action="store_true", help="the joiner may invite and revoke others")
    s = sub.add_parser("join", help="join a federation with an invite code")
    s.add_argument("code")
    s = sub.add_parser("peers", help="list the federation's members")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("revoke", help="remove a member from the federation")
    s.add_argument("node_id", metavar="NODE_ID")
    s.add_argument("--reason", default="")
    sub.add_parser("leave", help="leave the federation (this node forgets it)")
    s = sub.add_parser("pin", help="keep a local copy of an album held by others")
    s.add_argument("album_id", metavar="ALBUM_ID")
    s = sub.add_parser("unpin", help="stop keeping a local copy of an album")
    s.add_argument("album_id", metavar="ALBUM_ID")
    commands.update(invite=cmd_invite, join=cmd_join, peers=cmd_peers, revoke=cmd_revoke, leave=cmd_leave,
                    pin=cmd_pin, unpin=cmd_unpin)


def _open(data) -> tuple[Store, object]:
    data.require()
    return Store.open(data.db_path), data.load_config()


def cmd_invite(data, args: argparse.Namespace) -> int:
    from . import invites

    store, config = _open(data)
    with store:
        code = invites.create_invite(store, data, config, uses=args.uses, ttl_ms=invites.parse_duration(args.ttl),
                                     role="admin" if args.admin else "member")
    print(f"Invite for {args.uses} node(s), valid {args.ttl}. On the friend's node run: sonantica join CODE")
    print(code)
    return 0


def cmd_join(data, args: argparse.Namespace) -> int:
    from . import invites

    store, config = _open(data)
    with store:
        result = invites.join(store, data, config, args.code)
    print(f"joined {result['federation']} ({result['members']} members); their music appears within seconds "
          "while this node serves")
    return 0


def cmd_peers(data, args: argparse.Namespace) -> int:
    import time

    from .runtime import load_identity, membership_from

    store, config = _open(data)
    with store:
        state = store.read_sync(peers_store.state)
        membership = membership_from(state, store.read_sync(peers_store.records))
        rows = {r["node"]: r for r in store.read_sync(peers_store.peers)}
        counts = store.read_sync(peers_store.remote_counts)
        own = store.read_sync(peers_store.published_count)
    me = str(load_identity(data).node_id)
    out = []
    if membership is not None:
        for node in sorted(set(map(str, membership.members)) | set(map(str, membership.revoked))):
            r = rows.get(node, {})
            out.append({
                "id": node, "name": config.name if node == me else r.get("name"), "self": node == me,
                "addresses": list(membership.members[_nid(node)].addresses) if _nid(node) in membership.members else [],
                "online": node == me or r.get("state") == "alive", "last_seen": r.get("last_seen"),
                "rtt_ms": round(r["rtt_ms"], 1) if r.get("rtt_ms") else None,
                "tracks": own if node == me else counts.get(node, r.get("tracks", 0)), "revoked": _nid(node) in membership.revoked,
                "bytes_served": r.get("bytes_served", 0), "bytes_fetched": r.get("bytes_fetched", 0),
            })
    if args.json:
        print(json.dumps(out))
        return 0
    if not out:
        print("not in a federation: `sonantica invite` founds one, `sonantica join CODE` joins one")
        return 0
    for p in out:
        seen = time.strftime("%H:%M:%S", time.localtime(p["last_seen"])) if p["last_seen"] else "-"
        state = "revoked" if p["revoked"] else ("this node" if p["self"] else ("online" if p["online"] else "offline"))
        print(f"{p['id']}  {p['name'] or '?':<20} {state:<9} {p['tracks']:>6} tracks  seen {seen}  "
              f"rtt {p['rtt_ms'] or '-'} ms")
    return 0


def _nid(text: str):
    from sonantica.protocol import NodeId

    return NodeId.parse(text)


def cmd_revoke(data, args: argparse.Namespace) -> int:
    from . import invites

    store, config = _open(data)
    with store:
        short = invites.revoke(store, data, config, args.node_id, args.reason)
    print(f"revoked {short}; members refuse it as soon as the revocation reaches them")
    return 0


def cmd_leave(data, args: argparse.Namespace) -> int:
    import trio

    from . import invites

    store, config = _open(data)
    with store:
        trio.run(invites.leave, store, data, config)
    print("left the federation; this node's own library is unchanged")
    return 0


def cmd_pin(data, args: argparse.Namespace) -> int:
    from ..store import browse

    store, _ = _open(data)
    with store:
        album = store.read_sync(browse.get_album, args.album_id)
        store.write_sync(peers_store.pin, args.album_id, True)
    print(f"pinned {album['name']}: a full local copy is kept while the node serves")
    return 0


def cmd_unpin(data, args: argparse.Namespace) -> int:
    store, _ = _open(data)
    with store:
        store.write_sync(peers_store.pin, args.album_id, False)
    print("unpinned")
    return 0
