from __future__ import annotations

import pytest
import trio

from sonantica.node.streaming import TranscodeCache, TranscodeLimiter
from sonantica.node.streaming.testing import build_app, make_audio, serve_app


@pytest.fixture
async def server(tmp_path, nursery):
    """A tiny quart-trio app on loopback serving real audio; yields (base_url, files, limiter)."""
    files = {
        "song.flac": make_audio(tmp_path / "song", "flac16", 3.0),
        "long.flac": make_audio(tmp_path / "long", "flac16", 60.0),
        "song.m4a": make_audio(tmp_path / "alac", "alac", 2.0),
    }
    limiter = TranscodeLimiter(2)
    cache = await TranscodeCache.open(tmp_path / "cache", 50_000_000)
    url = await nursery.start(serve_app, build_app(files, limiter=limiter, cache=cache))
    yield url, files, limiter
    nursery.cancel_scope.cancel()
    await trio.lowlevel.checkpoint()
