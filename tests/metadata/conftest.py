import pytest

from sonantica.node.metadata import http

from .standin import Running
from .world import wire


@pytest.fixture(scope="module")
def standin():
    running = Running()
    s = running.start()
    wire(s)
    yield s
    running.stop()


QUICK = http.Settings(connect_timeout=1, read_timeout=1, total_timeout=1.5, backoff_base=0.05,
                      spacing={"musicbrainz": 0.02, "coverartarchive": 0.0, "lrclib": 0.0, "wikidata": 0.0,
                               "commons": 0.0, "wikipedia": 0.0})


@pytest.fixture(scope="module", autouse=True)
def quick():
    """Short pauses and bounds for the whole module (its shared node too); a test measuring the real
    pace builds its client with ``http.Settings()``."""
    saved = http.SETTINGS
    http.SETTINGS = QUICK
    yield QUICK
    http.SETTINGS = saved
