"""System: ping, license, OpenSubsonic extensions, scan status and start."""

from __future__ import annotations

from ...store import tracks as tracks_store
from .core import Call, method
from .envelope import NOT_AUTHORISED, SubsonicError

EXTENSIONS = [
    {"name": "apiKeyAuthentication", "versions": [1]},
    {"name": "formPost", "versions": [1]},
    {"name": "getPodcastEpisode", "versions": [1]},  # podcasts.py
    {"name": "indexBasedQueue", "versions": [1]},
    {"name": "playbackReport", "versions": [1]},
    {"name": "songLyrics", "versions": [1, 2]},
    {"name": "songSources", "versions": [1]},  # sources.py; proposed by us, specified in specs/subsonic.md
    {"name": "sonicSimilarity", "versions": [1]},  # sonic.py, from the analysis workers' vectors
    {"name": "topSongsByArtistId", "versions": [1]},
    {"name": "transcodeOffset", "versions": [1]},
    {"name": "transcoding", "versions": [1]},  # transcoding.py: getTranscodeDecision, getTranscodeStream
]


@method("ping")
async def ping(call: Call) -> dict:
    return {}


@method("getLicense")
async def get_license(call: Call) -> dict:
    return {"license": {"valid": True}}


@method("getOpenSubsonicExtensions", auth=False)
async def get_extensions(call: Call) -> dict:
    return {"openSubsonicExtensions": EXTENSIONS}


@method("tokenInfo")
async def token_info(call: Call) -> dict:
    return {"tokenInfo": {"username": call.user["name"]}}


async def _scan_status(call: Call) -> dict:
    counts = await call.store.read(tracks_store.counts)
    scanner = call.node.scanner
    done, _total = scanner.progress
    count = done if scanner.running else counts.get("tracks", 0)
    return {"scanStatus": {"scanning": bool(scanner.running), "count": int(count or 0)}}


@method("getScanStatus")
async def get_scan_status(call: Call) -> dict:
    return await _scan_status(call)


@method("startScan")
async def start_scan(call: Call) -> dict:
    if call.user["role"] not in ("owner", "admin"):
        raise SubsonicError(NOT_AUTHORISED, "only an admin or the owner can start a scan")
    call.node.start_scan(full=call.bool("fullScan"))
    status = await _scan_status(call)
    status["scanStatus"]["scanning"] = True
    return status
