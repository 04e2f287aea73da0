"""Hypothesis round-trips: canonical encoding, records and every message type."""

import unicodedata

from hypothesis import given, settings, strategies as st

from sonantica.protocol import canonical
from sonantica.protocol.catalogue import CatalogueLog
from sonantica.protocol.limits import MAX_INT
from sonantica.protocol.membership import Admission, Revocation
from sonantica.protocol.messages import (
    Ack, Digest, DigestItem, Entries, Ping, PingReq, Records, Snapshot, SnapshotPage, Sync, Update, Want, parse,
    serialize,
)
from sonantica.protocol.records import TrackRecord
from sonantica.protocol.snapshots import make_snapshot
from sonantica.protocol.testing import fixed_identity, sample_record

texts = st.text(max_size=40).map(lambda s: unicodedata.normalize("NFC", s)).filter(
    lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))
ints = st.integers(-MAX_INT, MAX_INT)
docs = st.recursive(
    st.none() | st.booleans() | ints | texts,
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(texts, kids, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(docs)
def test_canonical_roundtrip(doc):
    data = canonical.encode(doc)
    assert canonical.decode(data) == doc
    assert canonical.encode(canonical.decode(data)) == data


IDS = [fixed_identity(i).node_id for i in range(4)]
nodes = st.sampled_from(IDS)
h16 = st.binary(min_size=16, max_size=16)
seqs = st.integers(0, MAX_INT)
updates = st.builds(Update, nodes, st.sampled_from(["alive", "suspect", "dead"]), seqs)
records = st.builds(
    lambda i, title, artists, bpm: sample_record(i, title=title, artists=tuple(artists), analysis={"bpm_milli": bpm}),
    st.integers(0, 10**6), texts, st.lists(texts, max_size=4), st.integers(0, 300_000),
)


@settings(max_examples=100, deadline=None)
@given(records)
def test_record_roundtrip(rec):
    assert TrackRecord.from_obj(canonical.decode(rec.encode())) == rec
    assert dict(rec) == rec.to_obj()


LOG = CatalogueLog(fixed_identity(1))
ENTRIES = tuple(LOG.append("add", i, record=sample_record(i)) for i in range(3))
HEAD = LOG.head(9)
MANIFEST, PAGES = make_snapshot(fixed_identity(1), 3, LOG.hash, [sample_record(i) for i in range(3)], 9)
F = fixed_identity(0)
RECS = (Admission.create(F, "ab" * 32, IDS[2], "member", ["https://x:1"], bytes(32), 1),
        Revocation.create(F, "ab" * 32, IDS[3], "gone", 2))

messages = st.one_of(
    st.builds(Ping, seqs, h16, h16),
    st.builds(Sync, h16, h16),
    st.builds(Ack, seqs),
    st.builds(PingReq, seqs, nodes),
    st.builds(Digest, st.booleans(),
              st.lists(st.builds(DigestItem, nodes, seqs, st.binary(min_size=8, max_size=8)), max_size=5).map(tuple),
              st.lists(st.binary(min_size=32, max_size=32), max_size=5).map(tuple)),
    st.builds(Want, st.lists(st.tuples(nodes, st.integers(1, MAX_INT)), max_size=5).map(tuple),
              st.lists(st.binary(min_size=32, max_size=32), max_size=3).map(tuple)),
    st.builds(Entries, st.just(HEAD), st.integers(0, 3).map(lambda n: ENTRIES[:n])),
    st.just(Snapshot(HEAD, MANIFEST)),
    st.just(SnapshotPage(PAGES[0])),
    st.lists(st.sampled_from(RECS), max_size=2).map(lambda r: Records(tuple(r))),
)


@settings(max_examples=300, deadline=None)
@given(messages, st.lists(updates, max_size=8))
def test_every_message_roundtrips(msg, up):
    import dataclasses
    msg = dataclasses.replace(msg, up=tuple(up))
    data = serialize(msg)
    again = parse(data)
    assert again == msg
    assert serialize(again) == data
