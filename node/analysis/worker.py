"""The analysis worker process: ``python -m sonantica.node.analysis.worker``.

A fresh interpreter (spawned, never forked from the trio process) that first
lowers its own priority -- nice 19, SCHED_IDLE and the idle I/O class where
the OS has them, each ignored when refused -- then serves requests from its
parent over stdin/stdout: length-prefixed pickles, one request, one reply.

Request: ``{"path", "features": [...], "file_id": bool, "leaves_dir": str | None}``.
Reply: ``{"ok": True, "results": {feature: packed}, "seconds": s}`` or
``{"ok": False, "error": reason, "permanent": bool}``.

Each feature is *packed* here, in the worker, so that the node's own process
(which serves streams) only writes rows: a small JSON ``result`` for the API,
the big part zlib-compressed as ``blob`` (the sonic vector: raw float32), and the fingerprint's LSH ``keys``.
All features come from one decode (:func:`..engine.analyse_file`).
"""

from __future__ import annotations

import ctypes
import json
import os
import pickle
import platform
import struct
import sys
import time
import zlib

CHUNK_READ = 1 << 20
HEADER = struct.Struct("!I")

# ioprio_set(2) syscall numbers; IOPRIO_CLASS_IDLE = 3, shifted by IOPRIO_CLASS_SHIFT = 13
_IOPRIO_SET = {"x86_64": 251, "amd64": 251, "i386": 289, "i686": 289, "aarch64": 30, "arm64": 30,
               "armv7l": 314, "ppc64le": 273, "riscv64": 30, "s390x": 282}
_IOPRIO_WHO_PROCESS = 1
_IOPRIO_IDLE = 3 << 13


def lower_priority() -> dict:
    """Nice 19, SCHED_IDLE, idle I/O class: whatever the OS grants. Returns what was applied."""
    applied = {}
    try:
        applied["nice"] = os.nice(19)
    except OSError:
        pass
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            applied["sched"] = "idle"
        except OSError:
            pass
    number = _IOPRIO_SET.get(platform.machine().lower()) if sys.platform.startswith("linux") else None
    if number is not None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.syscall(number, _IOPRIO_WHO_PROCESS, 0, _IOPRIO_IDLE) == 0:
                applied["ioprio"] = "idle"
        except (OSError, AttributeError):
            pass
    return applied


# -- packing: what the store keeps per feature -------------------------------------
def pack(name: str, result: dict) -> dict:
    """Split one feature result into the small ``result`` and the compressed ``blob``."""
    version = result.pop("version")
    if name == "waveform":
        levels = result["levels"]
        small = {"levels": [{"samples_per_pixel": lv["samples_per_pixel"], "length": lv["length"]} for lv in levels],
                 "sample_rate": levels[0]["sample_rate"] if levels else None}
        return {"version": version, "result": small, "blob": _compress(result)}
    if name == "fingerprint":
        from .features.fingerprint import lsh_keys
        from ..store.analysis import KEY_STRIDE

        small = {"algorithm": result["algorithm"], "duration": result["duration"], "length": len(result["raw"]),
                 "present": bool(result["raw"])}
        keys = lsh_keys(result["raw"], KEY_STRIDE) if result["raw"] else []
        return {"version": version, "result": small, "blob": _compress(result), "keys": keys}
    if name == "sonic":
        from ..store.analysis import pack_vector

        vector = result["vector"]
        small = {"dims": result["dims"], "present": vector is not None}
        return {"version": version, "result": small, "blob": pack_vector(vector) if vector is not None else None}
    return {"version": version, "result": result}


def _compress(obj: dict) -> bytes:
    return zlib.compress(json.dumps(obj, separators=(",", ":")).encode(), 6)


def file_identity(path: str, leaves_dir: str | None = None) -> dict:
    """file_id (protocol.chunks Merkle root) of the file's bytes, read in blocks.

    With ``leaves_dir``, the leaf hashes are kept there too: members streaming
    the file ask for them, and hashing it on request would keep them waiting.
    """
    from sonantica.protocol.chunks import CHUNK_SIZE, FileIdBuilder

    builder = FileIdBuilder()
    with open(path, "rb") as f:
        while block := f.read(CHUNK_READ):
            builder.update(block)
    size = builder.size
    file_id, leaves = builder.finish()
    if leaves_dir:
        from sonantica.node.federation.leaves import write_leaves

        write_leaves(leaves_dir, file_id, leaves)
    return {"file_id": file_id, "size": size, "chunks": len(leaves), "chunk_size": CHUNK_SIZE}



def handle(request: dict) -> dict:
    """One job: every requested feature from one decode, plus the file id."""
    from .decode import DecodeError
    from .engine import analyse_file
    from .versions import FILE_ID_VERSION

    t0 = time.perf_counter()
    path, features = request["path"], set(request.get("features") or ())
    try:
        results = {}
        if request.get("file_id"):
            results["file_id"] = {"version": FILE_ID_VERSION,
                                  "result": file_identity(path, request.get("leaves_dir"))}
        if features:
            for name, result in analyse_file(path, features).items():
                results[name] = pack(name, result)
    except DecodeError as exc:
        return {"ok": False, "error": exc.reason, "permanent": False}
    except OSError as exc:
        return {"ok": False, "error": f"cannot read the file: {exc.strerror or exc}", "permanent": False}
    except Exception as exc:  # a bug in a feature on this file: recorded on the job, the queue goes on
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "permanent": False}
    return {"ok": True, "results": results, "seconds": time.perf_counter() - t0}


# -- framing ------------------------------------------------------------------------
def _read_exact(stream, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        part = stream.read(n - len(buf))
        if not part:
            return None
        buf += part
    return bytes(buf)


def frame(obj: object) -> bytes:
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def main() -> int:
    applied = lower_priority()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the frames
    stdout.write(frame({"ready": True, "pid": os.getpid(), "priority": applied}))
    stdout.flush()
    while True:
        header = _read_exact(stdin, HEADER.size)
        if header is None:
            return 0  # parent closed the pipe: exit quietly
        body = _read_exact(stdin, HEADER.unpack(header)[0])
        if body is None:
            return 0
        stdout.write(frame(handle(pickle.loads(body))))
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
