import pytest

from tests.support.library import Library


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
