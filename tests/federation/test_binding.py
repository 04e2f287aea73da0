"""The peer port: bound when `serve` starts, the default port shared out among nodes of one machine."""

import socket

import pytest

from sonantica.node.config import check_peer_bind
from sonantica.node.errors import ConfigError
from sonantica.node.federation import binding
from sonantica.node.federation.invites import advertised_addresses


def _listening() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def test_default_port_when_free_else_the_previous_one_else_any():
    taken = _listening()
    port = taken.getsockname()[1]
    try:
        free = binding.reserve("127.0.0.1", default_port=port)
        assert free.getsockname()[1] != port
        free.close()
        again = binding.reserve("127.0.0.1", default_port=port)
        assert again.getsockname()[1] != port
        previous = again.getsockname()[1]
        again.close()
        kept = binding.reserve("127.0.0.1", previous_port=previous, default_port=port)
        assert kept.getsockname()[1] == previous, "a restarted node keeps the port members know"
        kept.close()
    finally:
        taken.close()
    first = binding.reserve("127.0.0.1", default_port=port)
    assert first.getsockname()[1] == port
    second = binding.reserve("127.0.0.1", default_port=port)
    assert second.getsockname()[1] != port, "the reservation is exclusive (it listens)"
    first.close()
    second.close()


def test_an_explicit_port_in_use_is_a_clear_error():
    taken = _listening()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(OSError, match=rf"127.0.0.1:{port} \(peer_bind\)"):
            binding.reserve(f"127.0.0.1:{port}")
    finally:
        taken.close()


@pytest.mark.parametrize("text,host,port", [
    ("", "0.0.0.0", None), ("127.0.0.1", "127.0.0.1", None), ("127.0.0.1:4621", "127.0.0.1", 4621),
    ("[::1]:4534", "::1", 4534), ("::1", "::1", None), ("[::]", "::", None),
])
def test_split_peer_bind(text, host, port):
    assert binding.split_peer_bind(text) == (host, port)
    assert check_peer_bind(text) == text


@pytest.mark.parametrize("text", ["bad host", "1.2.3.4:99999", "h:x", "a;b:1"])
def test_bad_peer_bind_is_refused(text):
    with pytest.raises(ConfigError, match="peer_bind"):
        check_peer_bind(text)


def test_invites_for_all_interfaces_carry_interface_addresses_not_the_host_name():
    """The host name resolves to 127.0.1.1 on Debian: invites must list the interfaces instead."""
    found = advertised_addresses("", False, 4600)
    assert found[-1] == "https://127.0.0.1:4600"
    assert found[:-1] == [f"https://{h}:4600" for h in binding.interface_hosts()]
    assert all(not a.startswith("https://127.") for a in found[:-1])
