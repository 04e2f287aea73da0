"""specs/subsonic.md lists every Subsonic and OpenSubsonic method with its status, and the status is true."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sonantica.node.api.subsonic import METHODS
from tests.subsonic.oracle import OPENAPI

ROOT = Path(__file__).resolve().parents[2]


def _rows() -> list[tuple[str, str]]:
    rows = []
    for line in (ROOT / "specs" / "subsonic.md").read_text().splitlines():
        cells = line.split("|")
        if line.startswith("| ") and len(cells) > 3 and cells[2].strip() in ("✅", "➖"):
            rows.append((cells[1], cells[2].strip()))
    return rows


def _known_methods() -> set[str]:
    paths = json.loads(OPENAPI.read_text())["paths"]  # the OpenSubsonic OpenAPI the oracle validates against
    return set(METHODS) | {p.split("/rest/")[1].removesuffix(".m3u8") for p in paths}


def test_every_method_has_one_status_and_it_is_true():
    rows = _rows()
    wrong = {}
    for name in sorted(_known_methods()):
        found = {status for names, status in rows if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", names)}
        want = {"✅"} if name in METHODS else {"➖"}
        if found != want:
            wrong[name] = (sorted(found), sorted(want))
    assert not wrong, wrong
