"""Pure source selection: which holder of a file should serve the next request.

Theory of operation
-------------------
Every holder of a file has a :class:`HolderStats`: exponentially weighted
moving averages (EWMA) of round-trip time, throughput and failure, the load
the peer advertises about itself (0..1, from gossip) and the number of our own
requests in flight to it. The transfer layer reports outcomes with
:meth:`HolderStats.on_success`, :meth:`HolderStats.on_failure` and
:meth:`HolderStats.on_slow`; nothing here reads a clock (``now`` is passed in)
or draws randomness of its own (``rng`` is passed in).

:func:`score` estimates the time to fetch one chunk from a holder, lower is
better::

    (rtt + CHUNK_SIZE / throughput)      expected seconds for one chunk
      * (1 + in_flight)                  our concurrent requests share its uplink
      * (1 + LOAD_WEIGHT * load)         others' requests share it too
      / (1 - failure)                    expected attempts until one succeeds

:func:`choose` takes a local holder when there is one (a local read beats any
network). Otherwise it uses *power of two choices*: draw two distinct remote
holders at random and keep the one with the lower score. Always taking the
single best holder would send every new stream to the same peer until its
stats caught up (herding); two random choices keep that herd apart while
still avoiding bad holders: a holder that is worse than every other one is
never chosen while two or more remain. The ``in_flight`` term makes the
choice self-correcting, so concurrent streams spread evenly over equal
holders (tested: 60 streams over 3 holders stay within 1.5x).

EWMA constants
--------------
``RTT_ALPHA`` and ``THROUGHPUT_ALPHA`` are 0.2 (a sample's weight halves after
about three newer samples: quick to notice a congested peer, steady against a
single slow chunk). The first sample replaces the prior. ``FAILURE_ALPHA`` is
0.3: one failure moves a clean holder to 0.3 (score x1.43), three in a row to
0.66 (x2.9); each success decays it by the same factor, so a holder that
recovers wins its traffic back. A holder whose failure is high still recovers
under load: the others' ``in_flight`` terms grow until it is worth trying.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from ...protocol.chunks import CHUNK_SIZE

__all__ = [
    "DEFAULT_RTT_MS",
    "DEFAULT_THROUGHPUT",
    "FAILURE_ALPHA",
    "LOAD_WEIGHT",
    "RTT_ALPHA",
    "THROUGHPUT_ALPHA",
    "HolderStats",
    "choose",
    "score",
]

RTT_ALPHA = 0.2
THROUGHPUT_ALPHA = 0.2
FAILURE_ALPHA = 0.3
#: Weight of the advertised load: a fully loaded peer (1.0) scores 3x an idle one.
LOAD_WEIGHT = 2.0
#: Priors for a holder we have never measured: a LAN-ish peer, neither great nor poor.
DEFAULT_RTT_MS = 50.0
DEFAULT_THROUGHPUT = 4_000_000.0  # bytes/s
#: Cap on the failure EWMA used in the score, so the score stays finite.
MAX_FAILURE = 0.99
#: Floor on throughput (bytes/s), so the score stays finite after zero-byte samples.
MIN_THROUGHPUT = 1_000.0


def _ewma(old: float, sample: float, alpha: float) -> float:
    return (1.0 - alpha) * old + alpha * sample


@dataclass(eq=False)
class HolderStats:
    """What we know about one holder; mutated only through the ``on_*`` methods.

    ``in_flight`` is counted by the transfer layer (increment when a request
    starts, decrement when it ends, in a ``finally``).
    """

    node_id: str
    local: bool = False
    rtt_ms: float = DEFAULT_RTT_MS
    throughput: float = DEFAULT_THROUGHPUT
    failure: float = 0.0
    load: float = 0.0
    in_flight: int = 0
    last_failure: float | None = None
    rtt_samples: int = 0
    throughput_samples: int = 0

    def on_success(self, rtt_ms: float, nbytes: int, seconds: float) -> None:
        """A request delivered ``nbytes`` verified bytes in ``seconds`` after ``rtt_ms`` to first byte."""
        self._sample_rtt(rtt_ms)
        self._sample_throughput(nbytes, seconds)
        self.failure = _ewma(self.failure, 0.0, FAILURE_ALPHA)

    def on_failure(self, now: float) -> None:
        """A request failed (error, stall, corrupt data) at time ``now``."""
        self.failure = _ewma(self.failure, 1.0, FAILURE_ALPHA)
        self.last_failure = now

    def on_slow(self, nbytes: int, seconds: float) -> None:
        """A request was abandoned for a faster copy: a throughput sample, no verdict."""
        self._sample_throughput(nbytes, seconds)

    def set_load(self, load: float) -> None:
        """The load the peer advertises, clamped to 0..1."""
        self.load = min(1.0, max(0.0, float(load)))

    def _sample_rtt(self, rtt_ms: float) -> None:
        rtt_ms = max(0.0, float(rtt_ms))
        self.rtt_ms = rtt_ms if self.rtt_samples == 0 else _ewma(self.rtt_ms, rtt_ms, RTT_ALPHA)
        self.rtt_samples += 1

    def _sample_throughput(self, nbytes: int, seconds: float) -> None:
        if seconds <= 0:
            return  # too fast to measure (e.g. already buffered): no information
        rate = max(MIN_THROUGHPUT, nbytes / seconds)
        first = self.throughput_samples == 0
        self.throughput = rate if first else max(MIN_THROUGHPUT, _ewma(self.throughput, rate, THROUGHPUT_ALPHA))
        self.throughput_samples += 1


def score(stats: HolderStats) -> float:
    """Estimated seconds to fetch one chunk from this holder; lower is better."""
    seconds = stats.rtt_ms / 1000.0 + CHUNK_SIZE / max(stats.throughput, MIN_THROUGHPUT)
    load = min(1.0, max(0.0, stats.load))
    failure = min(MAX_FAILURE, max(0.0, stats.failure))
    return seconds * (1 + max(0, stats.in_flight)) * (1 + LOAD_WEIGHT * load) / (1.0 - failure)


def choose(
    holders: Iterable[HolderStats],
    rng: random.Random,
    exclude: frozenset[str] | set[str] = frozenset(),
) -> HolderStats | None:
    """The holder to ask next, or ``None`` when every holder is excluded (by node id).

    A local holder wins outright; among remote holders, the better of two
    drawn at random (power of two choices).
    """
    candidates = [h for h in holders if h.node_id not in exclude]
    local = [h for h in candidates if h.local]
    if local:
        return min(local, key=score)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    a, b = rng.sample(candidates, 2)
    return a if score(a) <= score(b) else b
