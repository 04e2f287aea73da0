"""Commands load only what they use: `status` and an up-to-date `scan` start without the HTTP app,
the federation, the audio libraries or numpy (each cost a noticeable part of a second of CPU)."""

import json
import subprocess
import sys

import pytest

from tests.support.audio import make_track

#: what no `status` needs; an up-to-date `scan` needs none of them either, but trio
HEAVY = ("numpy", "mutagen", "httpx", "quart", "hypercorn", "cryptography", "sqlite_utils", "rich",
         "sonantica.protocol", "sonantica.node.api", "sonantica.node.analysis.features",
         "sonantica.node.federation.invites", "sonantica.node.federation.runtime", "sonantica.node.daemon")

PROBE = """
import json, sys
from sonantica.node.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def loaded_by(*args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.rsplit("MODULES ", 1)[1]))


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")}


@pytest.fixture
def node(tmp_path, music):
    make_track(music / "Ana/Rec/01 - One.flac", "flac", {"title": "One", "artist": "Ana", "album": "Rec"})
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "sonantica.node.cli", "--data", str(data), "init", "--music", str(music)],
                   check=True, capture_output=True, timeout=120)
    subprocess.run([sys.executable, "-m", "sonantica.node.cli", "--data", str(data), "scan"],
                   check=True, capture_output=True, timeout=120)
    return data


def test_status_loads_no_heavy_module(node):
    assert heavy(loaded_by("--data", str(node), "status")) == set()
    assert heavy(loaded_by("--data", str(node), "status", "--json")) == set()


def test_up_to_date_scan_loads_no_tag_reader(node):
    modules = loaded_by("--data", str(node), "scan", "--json")
    assert heavy(modules) == set()
    assert "trio" in modules


def test_help_and_parsers_load_no_subsystem(node):
    proc = subprocess.run([sys.executable, "-c", PROBE, "--data", str(node), "user", "list"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    modules = set(json.loads(proc.stdout.rsplit("MODULES ", 1)[1]))
    assert heavy(modules) == set() and "trio" not in modules


def test_the_light_copies_match_what_they_stand_for():
    from sonantica.node.analysis.features import feature_versions
    from sonantica.node.analytics import cli as analytics_cli, stats
    from sonantica.node.library import tags, walk

    assert walk.AUDIO_EXTENSIONS == set(tags.AUDIO_EXTENSIONS)
    assert set(analytics_cli.PERIODS) == set(stats.PERIODS) - {"range"}
    from sonantica.node.analysis.versions import FEATURE_VERSIONS

    assert feature_versions() == FEATURE_VERSIONS
