"""Where the peer API listens, and the addresses members are told to use.

The peer API's socket is bound when ``serve`` starts, before the node is in a
federation, but it is only served (connections accepted) once the node joins
one (or ``peer_bind`` is set). Binding early is what lets ``sonantica invite`` and ``sonantica join``,
run by the CLI at any moment, hand out the address the node will really
answer on: an invite made before the port was known used to carry the default
port, which on a machine running several nodes belongs to another node.

``peer_bind`` is ``HOST:PORT`` (exactly that, or ``serve`` fails with a clear
error), ``HOST`` alone or empty (host ``0.0.0.0``): then the default port
4534 is used when free, else the port this node used before, else one the
system picks, so that several nodes on one machine never fight over 4534.
The socket listens at once: with SO_REUSEADDR (needed to bind again over
TIME_WAIT after a restart) Linux lets two sockets bind one port as long as
neither listens, and the second node would only fail when it joined.
Connections made before the node federates wait in the backlog; nothing is
answered, so nothing is exposed.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket

log = logging.getLogger(__name__)

DEFAULT_PEER_PORT = 4534
MAX_FOUND_HOSTS = 6


def split_peer_bind(peer_bind: str) -> tuple[str, int | None]:
    """``"h:p"`` → (h, p); ``"h"``, ``"[::1]"`` or ``""`` → (h or 0.0.0.0, None: default port, flexible)."""
    text = (peer_bind or "").strip()
    if not text:
        return "0.0.0.0", None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:] else None
    if text.count(":") > 1:  # a bare IPv6 address
        return text, None
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, None
    return host or "0.0.0.0", int(port)


def interface_hosts() -> list[str]:
    """This machine's IPv4 addresses other than loopback and link-local, private ones first.

    Resolving the host name is no substitute: Debian and Raspberry Pi OS map it to
    127.0.1.1, so invites carried no address another machine could reach.
    """
    import ifaddr

    found: list[ipaddress.IPv4Address] = []
    for adapter in ifaddr.get_adapters():
        for a in adapter.ips:
            if not isinstance(a.ip, str):
                continue
            ip = ipaddress.IPv4Address(a.ip)
            if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified) and ip not in found:
                found.append(ip)
    found.sort(key=lambda ip: not ip.is_private)
    return [str(ip) for ip in found[:MAX_FOUND_HOSTS]]


def hosts_for(host: str) -> list[str]:
    """The hosts members can use for a bind host: itself, or for 0.0.0.0/:: the machine's, then loopback."""
    if host in ("0.0.0.0", "::", ""):
        return [*interface_hosts(), "127.0.0.1"]
    return [host]


def url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://{'[' + host + ']' if ':' in host else host}:{port}"


def reserve(peer_bind: str, previous_port: int | None = None,
            default_port: int = DEFAULT_PEER_PORT) -> socket.socket:
    """(Blocking, quick) the listening TCP socket the peer API will serve on.

    Raises ``OSError`` with a message naming the setting when an explicit ``HOST:PORT``
    cannot be bound.
    """
    host, port = split_peer_bind(peer_bind)
    if port is not None:
        try:
            return _bind(host, port)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot listen for peers on {host}:{port} (peer_bind): {exc.strerror}") from exc
    tried = [default_port] + ([previous_port] if previous_port and previous_port != default_port else []) + [0]
    for candidate in tried:
        try:
            sock = _bind(host, candidate)
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES) or candidate == 0:
                raise
            continue
        if candidate != default_port:
            log.warning("peer port %d on %s is taken (another node on this machine?); members will use port %d "
                        "(set peer_bind to choose one)", default_port, host, sock.getsockname()[1])
        return sock
    raise AssertionError("unreachable: port 0 either binds or raises")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock
