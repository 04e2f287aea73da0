import pytest
from hypothesis import HealthCheck, settings

from tests.support.library import Library

# Property tests check behaviour, not speed (bench/ measures that): on a busy CI machine a slow
# draw or example must not fail a test. Tests that set @settings keep these as their defaults.
settings.register_profile("sonantica", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sonantica")


@pytest.fixture
def music(tmp_path):
    path = tmp_path / "music"
    path.mkdir()
    return path


@pytest.fixture
def library(tmp_path, music):
    lib = Library(tmp_path / "node", music)
    (tmp_path / "node").mkdir(exist_ok=True)
    yield lib
    lib.close()
