"""Where a node keeps its data, and its settings.

A node's data folder holds ``config.toml`` (settings a person may edit),
``sonantica.db`` (the one SQLite database), ``node.key`` (the Ed25519 seed,
mode 0600) and caches. The folder is ``--data``, else ``$SONANTICA_DATA``,
else ``~/.local/share/sonantica``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError, NotInitialised

CONFIG_FILE = "config.toml"
DB_FILE = "sonantica.db"
KEY_FILE = "node.key"
DEFAULT_BIND = "127.0.0.1:4533"


def default_data_dir() -> Path:
    env = os.environ.get("SONANTICA_DATA")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
    return Path(base).expanduser() / "sonantica"


@dataclass(frozen=True)
class Config:
    """Settings of one node; every field is documented in docs/configuration.md."""

    name: str = "Sonántica"
    music: tuple[str, ...] = ()
    bind: str = DEFAULT_BIND
    peer_bind: str = ""
    peer_advertise: tuple[str, ...] = ()  # public addresses members should try first (announced by gossip)
    # Streaming
    transcode_cache_mb: int = 2048
    max_transcodes: int = 4
    default_format_lan: str = "raw"
    default_format_wan: str = "opus"
    default_bitrate_wan: int = 128
    # Web
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()  # reverse proxies whose X-Forwarded-For names the client
    auth_header: str = ""  # trusted-header login: the header those proxies name the signed-in user in
    auth_header_create_users: bool = False  # a name the node does not know becomes a listener
    share_links: bool = True  # users may share songs, albums and playlists by public link
    radio_proxy: bool = False  # relay internet radio streams through the node (else players fetch them)
    # Scanner
    watch: bool = True
    scan_workers: int = 0  # 0: one per core
    # Analysis
    analysis_workers: int = 0  # 0: cores minus one, at least one
    # Federation
    share: str = "all"  # all | none | folders
    share_folders: tuple[str, ...] = ()
    peer_cache_mb: int = 4096
    member_cover_cache_mb: int = 256
    federation_insecure_http: bool = False  # test flag: plain HTTP between peers
    discovery: bool = True
    # Analytics
    listenbrainz_forwarding: bool = False
    # External metadata (docs/metadata.md): off until the owner turns it on
    metadata: bool = False
    metadata_contact: str = ""  # an e-mail or URL sent in the User-Agent, as MusicBrainz asks
    metadata_language: str = "en"  # Wikipedia edition for biographies
    metadata_image_cache_mb: int = 256
    metadata_musicbrainz: bool = True
    metadata_musicbrainz_url: str = "https://musicbrainz.org"
    metadata_coverartarchive: bool = True
    metadata_coverartarchive_url: str = "https://coverartarchive.org"
    metadata_lrclib: bool = True
    metadata_lrclib_url: str = "https://lrclib.net"
    metadata_wikimedia: bool = True  # artist pictures (Wikidata, Commons) and biographies (Wikipedia)
    metadata_wikidata_url: str = "https://www.wikidata.org"
    metadata_commons_url: str = "https://commons.wikimedia.org"
    metadata_wikipedia_url: str = ""  # empty: https://{metadata_language}.wikipedia.org
    metadata_acoustid_key: str = ""  # an AcoustID application key: recordings matched by fingerprint
    metadata_acoustid_url: str = "https://api.acoustid.org"

    def to_toml(self) -> str:
        return "".join(f"{f.name} = {_toml_value(getattr(self, f.name))}\n" for f in fields(self))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def _toml_string(s: str) -> str:
    escaped = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def parse_config(text: str, source: str = CONFIG_FILE) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    known = {f.name: f for f in fields(Config)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown setting {key!r} (see docs/configuration.md)")
        default = getattr(Config(), key)
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: {key} must be a list of strings")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: {key} must be true or false")
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{source}: {key} must be an integer")
        elif not isinstance(value, str):
            raise ConfigError(f"{source}: {key} must be a string")
        if key == "trusted_proxies":
            value = tuple(_network(v, source) for v in value)
        if key == "peer_advertise":
            if len(value) > MAX_PEER_ADVERTISE:
                raise ConfigError(f"{source}: peer_advertise: at most {MAX_PEER_ADVERTISE} addresses "
                                  "(the bind address must still fit in what members are told)")
            value = tuple(_peer_address(v, source) for v in value)
        if key == "peer_bind":
            value = check_peer_bind(value, source)
        if key.startswith("metadata_") and key.endswith("_url") and value:
            value = _provider_url(key, value, source)
        if key == "metadata_acoustid_key" and value and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
            raise ConfigError(f"{source}: metadata_acoustid_key: not an AcoustID application key (letters and digits)")
        if key == "metadata_language" and not re.fullmatch(r"[a-z]{2,3}(-[a-z]+)?", value):
            raise ConfigError(f"{source}: metadata_language: {value!r} is not a Wikipedia language code (e.g. \"en\")")
        if key == "auth_header":
            value = _auth_header(value, source)
        values[key] = value
    if values.get("auth_header") and not values.get("trusted_proxies"):
        raise ConfigError(f"{source}: auth_header needs trusted_proxies: the addresses of the reverse proxies "
                          "allowed to name the user (docs/proxy-login.md)")
    return replace(Config(), **values)


#: headers a client or the HTTP layer sets for other purposes: never a sign-in header
_NOT_AUTH_HEADERS = {"authorization", "cookie", "host", "x-forwarded-for", "x-api-key", "content-type",
                     "content-length", "range", "origin", "referer", "user-agent", "forwarded", "x-real-ip"}


def _auth_header(text: str, source: str) -> str:
    """The trusted-header login's header name (``Remote-User``); empty: off."""
    name = text.strip()
    if name and (not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}", name) or name.lower() in _NOT_AUTH_HEADERS):
        raise ConfigError(f"{source}: auth_header: {text!r} is not a header a sign-in proxy sets "
                          "(e.g. \"Remote-User\")")
    return name


def _provider_url(key: str, text: str, source: str) -> str:
    """A provider's base URL: http(s)://host[:port][/path], without query (tests point it at stand-ins)."""
    from urllib.parse import urlsplit

    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{source}: {key}: {text!r} is not a base URL (e.g. https://musicbrainz.org)")
    return url


def _network(text: str, source: str) -> str:
    """An address or network (``10.0.0.1``, ``172.16.0.0/12``, ``::1``) of a trusted reverse proxy."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise ConfigError(f"{source}: trusted_proxies: {text!r} is not an IP address or network "
                          "(e.g. \"127.0.0.1\" or \"10.0.0.0/8\")") from None


def check_peer_bind(text: str, source: str = CONFIG_FILE) -> str:
    """``HOST:PORT`` (exactly there), or ``HOST`` / empty (the default port 4534, another if taken)."""
    from .federation.binding import split_peer_bind

    value = text.strip()
    try:
        host, port = split_peer_bind(value)
        ok = bool(re.fullmatch(r"[A-Za-z0-9.:-]+", host)) and (port is None or 0 <= port < 65536)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{source}: peer_bind: {text!r} is not HOST:PORT or HOST (e.g. 0.0.0.0:4534 or 192.168.1.5)")
    return value


_PEER_ADDRESS = re.compile(r"^https://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")
MAX_PEER_ADVERTISE = 4  # of the 8 addresses a membership record carries
MAX_PEER_ADDRESS = 256  # protocol/limits.py MAX_ADDRESS


def _peer_address(text: str, source: str) -> str:
    """``https://host:port`` (``host:port`` is read as https), as members will dial it: peers
    talk TLS only, and an address must fit in a signed membership record."""
    address = text.strip()
    if "://" not in address:
        address = "https://" + address
    m = _PEER_ADDRESS.match(address)
    if not m or not 0 < int(m.group(2)) < 65536 or len(address) > MAX_PEER_ADDRESS:
        raise ConfigError(f"{source}: peer_advertise: {text!r} is not an address members can dial; "
                          "write it as https://HOST:PORT (e.g. https://music.example.org:4534)")
    return address


@dataclass(frozen=True)
class DataDir:
    """The paths inside one node's data folder."""

    root: Path
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILE

    @property
    def key_path(self) -> Path:
        return self.root / KEY_FILE

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def file_leaves_dir(self) -> Path:
        """Leaf hashes of the node's own files, kept with their file_id (federation/leaves.py)."""
        return self.root / "cache" / "file-leaves"

    @property
    def serve_lock(self) -> Path:
        return self.root / "serve.lock"

    @property
    def scan_lock(self) -> Path:
        return self.root / "scan.lock"

    def exists(self) -> bool:
        return self.config_path.exists()

    def require(self) -> None:
        if not self.exists():
            raise NotInitialised(
                f"no node in {self.root}: run `sonantica --data {self.root} init --music PATH` first"
            )

    def load_config(self) -> Config:
        self.require()
        return parse_config(self.config_path.read_text("utf-8"), str(self.config_path))

    def save_config(self, config: Config) -> None:
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(config.to_toml(), "utf-8")
        os.replace(tmp, self.config_path)
