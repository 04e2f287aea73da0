import ast
from pathlib import Path

import sonantica.protocol as protocol

PROTOCOL = Path(protocol.__file__).parent


def test_exported_members_exist_and_are_pinned():
    assert sorted(protocol.__all__) == sorted(set(protocol.__all__))
    for name in protocol.__all__:
        assert hasattr(protocol, name), name


def test_protocol_depends_only_on_stdlib_nacl_cryptography():
    allowed_third_party = {"nacl", "cryptography"}
    import sys
    for path in PROTOCOL.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                mods = [node.module]
            else:
                continue
            for m in mods:
                top = m.split(".")[0]
                assert top in sys.stdlib_module_names or top in allowed_third_party or top == "__future__", (path, m)


def test_no_clock_or_global_randomness():
    for path in PROTOCOL.glob("*.py"):
        src = path.read_text()
        for banned in ("time.time(", "time.monotonic(", "datetime.now(", "os.urandom(", "random.random(", "secrets."):
            assert banned not in src, (path.name, banned)
