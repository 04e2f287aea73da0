"""specs/protocol.md is normative: its vectors and tables are checked against the code."""

import json
import re
from pathlib import Path

import pytest

from sonantica.protocol import canonical, chunks, errors, limits
from sonantica.protocol.catalogue import Entry, Head, LogReplica
from sonantica.protocol.errors import RemoteProtocolError
from sonantica.protocol.identity import NodeId, NodeIdentity
from sonantica.protocol.invites import Invite
from sonantica.protocol.membership import Genesis
from sonantica.protocol.peer_auth import sign_request

SPEC = (Path(__file__).parents[2] / "specs" / "protocol.md").read_text(encoding="utf-8")
VECTORS = {m.group(1): json.loads(m.group(2)) for m in re.finditer(r"```json vector:(\w+)\n(.*?)\n```", SPEC, re.S)}


def test_all_vectors_present():
    assert set(VECTORS) >= {"canonical", "not_canonical", "node_id", "file_id", "signature", "entries",
                            "peer_auth", "genesis", "invite", "leaf_page"}


def test_error_codes_table_matches():
    for code, (status, retry) in errors.CODES.items():
        assert f"| `{code}` | {status} | {'yes' if retry else 'no'} |" in SPEC, code


def test_limits_table_matches():
    for name in dir(limits):
        if name.isupper():
            v = getattr(limits, name)
            v = sorted(v) if isinstance(v, frozenset) else v
            assert f"| `{name}` | {v} |" in SPEC, name


@pytest.mark.parametrize("v", VECTORS["canonical"])
def test_canonical_vectors(v):
    out = canonical.encode(json.loads(v["input"]))
    assert out.decode() == v["canonical"]
    assert canonical.decode(out) == json.loads(v["input"])


@pytest.mark.parametrize("v", VECTORS["not_canonical"])
def test_refused_encodings(v):
    with pytest.raises(RemoteProtocolError) as e:
        canonical.decode(v["bytes"].encode())
    assert e.value.code == v["code"]


@pytest.mark.parametrize("v", VECTORS["node_id"])
def test_node_id_vectors(v):
    ident = NodeIdentity.from_seed(bytes.fromhex(v["seed"]))
    assert ident.node_id.key.hex() == v["public_key"]
    assert str(ident.node_id) == v["node_id"]
    assert NodeId.parse(v["node_id"].lower().replace("-", "")) == ident.node_id


@pytest.mark.parametrize("v", VECTORS["file_id"])
def test_file_id_vectors(v):
    data = b"abc" if v["data"] == "abc" else bytes(i % 251 for i in range(v["size"]))
    b = chunks.FileIdBuilder()
    b.update(data)
    fid, leaves = b.finish()
    assert fid == v["file_id"] and [x.hex() for x in leaves] == v["leaves"]
    last = len(leaves) - 1
    p = [bytes.fromhex(x) for x in v["proof_of_last"]]
    chunks.verify_chunk(fid, last, len(leaves), data[last * chunks.CHUNK_SIZE:], p)


def test_leaf_page_vector():
    v = VECTORS["leaf_page"]
    n = v["chunk_count"]
    leaves = [chunks.chunk_hash(i.to_bytes(4, "big")) for i in range(n)]
    assert chunks.file_id_of(chunks.merkle_root(leaves)) == v["file_id"]
    roots = chunks.page_roots(leaves)
    assert [r.hex() for r in roots] == v["page_roots"]
    for page in v["pages"]:
        first, count = chunks.leaf_page_span(n, page["page"])
        assert (first, count) == (page["first"], page["count"])
        body = chunks.leaf_page_body(leaves[first : first + count], roots, page["page"])
        assert len(body) == page["size"] == chunks.leaf_page_size(n, page["page"])
        assert body[32 * count :].hex() == "".join(page["proof"])
        assert chunks.verify_leaf_page(v["file_id"], n, page["page"], body) == leaves[first : first + count]


def test_signature_vector():
    v = VECTORS["signature"]
    ident = NodeIdentity.from_seed(bytes.fromhex(v["seed"]))
    assert canonical.signing_bytes(v["domain"], v["document"]).decode() == v["signing_bytes"]
    assert ident.sign(v["domain"], v["document"]).hex() == v["signature"]


def test_entry_vectors():
    v = VECTORS["entries"]
    entries = [Entry.from_obj(e) for e in v["entries"]]
    assert [e.hash.hex() for e in entries] == v["hashes"]
    assert [e.to_obj() for e in entries] == v["entries"]
    rep = LogReplica(entries[0].log)
    rep.accept_head(Head.from_obj(v["head"]))
    rep.apply_entries(entries)
    assert rep.seq == 2 and not rep.behind


def test_peer_auth_vector():
    v = VECTORS["peer_auth"]
    ident = NodeIdentity.from_seed(bytes.fromhex(v["seed"]))
    h = sign_request(ident, v["method"], v["path"], v["body"].encode(), v["now"], bytes.fromhex(v["nonce"]))
    assert h == v["headers"]


def test_genesis_and_invite_vectors():
    g = Genesis.from_obj(VECTORS["genesis"]["genesis"])
    g.verify()
    assert g.fed_id == VECTORS["genesis"]["fed_id"]
    inv = Invite.from_code(VECTORS["invite"]["code"])
    assert inv.to_obj() == VECTORS["invite"]["invite"]
    assert inv.fed == g.fed_id
