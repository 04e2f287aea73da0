import os

import pytest

from sonantica.node.library.paths import OutsideLibrary, confine


def test_confine_accepts_inside(tmp_path):
    (tmp_path / "a").mkdir()
    assert confine(tmp_path, "a/b.flac") == str(tmp_path.resolve() / "a/b.flac")


@pytest.mark.parametrize("rel", ["../x.flac", "a/../../x.flac", "/etc/passwd", "", "a\0b"])
def test_confine_refuses_escapes(tmp_path, rel):
    with pytest.raises(OutsideLibrary):
        confine(tmp_path / "root", rel)


def test_confine_refuses_symlink_escape(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(tmp_path, root / "up")
    with pytest.raises(OutsideLibrary):
        confine(root, "up/secret.flac")
