"""Pure mapping from raw tags to a track's fields.

:mod:`.tags` reads a file with mutagen and turns every container's frames into
one vocabulary: lower-case Vorbis-comment names mapped to lists of strings
(``{"artist": ["A", "B"], "tracknumber": ["3/12"]}``). This module maps that
vocabulary to the fields of a track. It does no I/O, so every rule here is
tested directly (tests/unit/test_tagmap.py), in the manner of Navidrome's
``model/metadata``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath

RawTags = dict[str, list[str]]

VARIOUS_ARTISTS = "Various Artists"

# Splitting a single artist string is a fallback for files that carry one
# value; repeated fields and ID3v2.4 null-separated values are preferred.
_ARTIST_SPLIT = re.compile(
    r"\s*(?:;|\s/\s|\s+feat\.?\s+|\s+ft\.?\s+|\s+featuring\s+)\s*", re.IGNORECASE
)
_GENRE_SPLIT = re.compile(r"\s*[;/|]\s*|\s*,\s+")
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_YEAR = re.compile(r"(\d{4})")
_GAIN = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(?:dB)?\s*$", re.IGNORECASE)
_FILENAME = re.compile(r"^(?:(?P<no>\d{1,3})[\s.\-_]+)?(?:(?P<artist>.+?)\s+-\s+)?(?P<title>.+)$")

MAX_TEXT = 4096
MAX_LYRICS = 64 * 1024
MAX_VALUES = 64
_LRC_STAMP = re.compile(r"\[\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?\]")


@dataclass(frozen=True)
class MappedTags:
    """The tag fields of one track, after every fallback has been applied."""

    title: str
    artists: tuple[str, ...]
    album: str
    album_artists: tuple[str, ...]
    track_no: int | None = None
    track_total: int | None = None
    disc_no: int | None = None
    disc_total: int | None = None
    disc_subtitle: str | None = None
    year: int | None = None
    date: str | None = None
    original_date: str | None = None
    genres: tuple[str, ...] = ()
    composers: tuple[str, ...] = ()
    label: str | None = None
    compilation: bool = False
    comment: str | None = None
    lyrics: str | None = None
    bpm: float | None = None
    mb_recording_id: str | None = None
    mb_release_track_id: str | None = None
    mb_album_id: str | None = None
    mb_artist_ids: tuple[str, ...] = ()
    mb_album_artist_ids: tuple[str, ...] = ()
    rg_track_gain: float | None = None
    rg_track_peak: float | None = None
    rg_album_gain: float | None = None
    rg_album_peak: float | None = None
    sort_title: str | None = None
    sort_artist: str | None = None
    sort_album: str | None = None
    sort_album_artist: str | None = None
    isrc: tuple[str, ...] = ()
    groupings: tuple[str, ...] = ()
    work: str | None = None
    mb_work_id: str | None = None
    movement_name: str | None = None
    movement_no: int | None = None
    movement_total: int | None = None
    album_version: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def artist(self) -> str:
        return display_artists(self.artists)

    @property
    def album_artist(self) -> str:
        return display_artists(self.album_artists)


def display_artists(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names)


def clean(value: str, limit: int = MAX_TEXT) -> str:
    """Repair mis-declared encodings, drop control characters, strip and bound one tag value."""
    value = repair_encoding(value[: limit * 4])
    if not value.isprintable():
        value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    value = unicodedata.normalize("NFC", value.strip())
    return value[:limit]


def repair_encoding(value: str) -> str:
    """Text whose bytes were decoded with the wrong charset, read again with the right one.

    Only text made of Latin-1 characters can be mis-decoded bytes (anything beyond U+00FF came
    from a real Unicode encoding), so all else is returned as is. Then, in order of certainty:
    UTF-8 read as Latin-1 (``BjÃ¶rk`` → ``Björk``); Windows-1252 punctuation read as Latin-1
    (C1 controls where ``’`` or ``…`` were meant); Windows-1251 read as Latin-1, which ID3v1
    and old Russian taggers produce (``Êèíî`` → ``Кино``), recognised by letters that are nearly
    all from the upper half of Latin-1, as no Western text is.
    """
    if value.isascii() or max(value) > "\xff":
        return value
    data = value.encode("latin-1")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    letters = [ch for ch in value if ch.isalpha()]
    high = [ch for ch in letters if ch >= "\xc0"]
    if len(set(high)) >= 3 and len(high) >= 0.6 * len(letters) and "\xd7" not in value and "\xf7" not in value:
        return data.decode("cp1251", "replace")
    if any("\x80" <= ch <= "\x9f" for ch in value):
        return data.decode("cp1252", "replace").replace("\ufffd", "")
    return value


def values(raw: RawTags, *keys: str, limit: int = MAX_TEXT) -> list[str]:
    """The non-empty cleaned values of the first key present."""
    for key in keys:
        found = [clean(v, limit) for v in raw.get(key, ())[:MAX_VALUES]]
        found = [v for v in found if v]
        if found:
            return found
    return []


def lyrics_of(raw: RawTags) -> str | None:
    """Embedded lyrics, timed ones first: SYLT (read as LRC), then LRC text in a lyrics tag."""
    found = [v for key in ("syncedlyrics", "lyrics", "unsyncedlyrics") for v in values(raw, key, limit=MAX_LYRICS)]
    for text in found:
        if _LRC_STAMP.search(text):
            return text
    return found[0] if found else None


def first(raw: RawTags, *keys: str) -> str | None:
    found = values(raw, *keys)
    return found[0] if found else None


def split_artists(names: list[str]) -> list[str]:
    """Multi-valued artists: keep repeated values; split a lone value on ';', ' / ' and 'feat.'."""
    if len(names) != 1:
        return dedupe(names)
    return dedupe([p for p in _ARTIST_SPLIT.split(names[0]) if p])


def split_genres(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        parts = _GENRE_SPLIT.split(name) if len(names) == 1 else [name]
        out.extend(_id3_genre(p) for p in parts if p)
    return dedupe([g for g in out if g])


_ID3V1_GENRES = (
    "Blues Classic Rock,Country,Dance,Disco,Funk,Grunge,Hip-Hop,Jazz,Metal,New Age,Oldies,Other,Pop,"
    "R&B,Rap,Reggae,Rock,Techno,Industrial,Alternative,Ska,Death Metal,Pranks,Soundtrack,Euro-Techno,"
    "Ambient,Trip-Hop,Vocal,Jazz+Funk,Fusion,Trance,Classical,Instrumental,Acid,House,Game,Sound Clip,"
    "Gospel,Noise,AlternRock,Bass,Soul,Punk,Space,Meditative,Instrumental Pop,Instrumental Rock,Ethnic,"
    "Gothic,Darkwave,Techno-Industrial,Electronic,Pop-Folk,Eurodance,Dream,Southern Rock,Comedy,Cult,"
    "Gangsta,Top 40,Christian Rap,Pop/Funk,Jungle,Native American,Cabaret,New Wave,Psychadelic,Rave,"
    "Showtunes,Trailer,Lo-Fi,Tribal,Acid Punk,Acid Jazz,Polka,Retro,Musical,Rock & Roll,Hard Rock"
).replace("Blues Classic", "Blues,Classic").split(",")


def _id3_genre(name: str) -> str:
    """ID3v1 numeric genres: '(17)', '17' or '(17)Rock' become 'Rock'."""
    m = re.fullmatch(r"\((\d+)\)(.*)|(\d+)", name)
    if not m:
        return name
    if m.group(2):
        return m.group(2).strip()
    index = int(m.group(1) or m.group(3))
    return _ID3V1_GENRES[index] if index < len(_ID3V1_GENRES) else name


def dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def parse_number_pair(text: str | None) -> tuple[int | None, int | None]:
    """'3/12' → (3, 12); '03' → (3, None); junk → (None, None)."""
    if not text:
        return None, None
    m = re.match(r"^\s*(\d{1,4})?\s*(?:/\s*(\d{1,4}))?", text)
    if not m:
        return None, None
    no = int(m.group(1)) if m.group(1) else None
    total = int(m.group(2)) if m.group(2) else None
    return (no or None), (total or None)


def parse_int(text: str | None) -> int | None:
    if not text:
        return None
    m = re.match(r"^\s*(\d{1,6})", text)
    return int(m.group(1)) if m else None


def parse_year(text: str | None) -> int | None:
    if not text:
        return None
    m = _YEAR.search(text)
    if not m:
        return None
    year = int(m.group(1))
    return year if 1000 <= year <= 2999 else None


def parse_gain(text: str | None) -> float | None:
    if not text:
        return None
    m = _GAIN.match(text)
    return float(m.group(1)) if m else None


def parse_float(text: str | None) -> float | None:
    if not text:
        return None
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if value == value and abs(value) < 1e6 else None


def parse_bool(text: str | None) -> bool:
    return bool(text) and text.strip().lower() in {"1", "true", "yes", "y"}


def mbid(text: str | None) -> str | None:
    if not text:
        return None
    text = text.strip().lower()
    return text if _MBID.match(text) else None


def from_filename(relpath: str) -> tuple[str | None, str, int | None]:
    """'01 - Artist - Title.flac' → ('Artist', 'Title', 1); the fallback for untagged files."""
    stem = PurePosixPath(relpath).stem
    m = _FILENAME.match(stem)
    if not m:
        return None, stem, None
    artist = m.group("artist")
    no = int(m.group("no")) if m.group("no") else None
    return (artist.strip() if artist else None), m.group("title").strip(), no


def folder_album(relpath: str) -> str | None:
    parent = PurePosixPath(relpath).parent
    if parent.name.lower().startswith(("cd", "disc", "disk")) and re.search(r"\d", parent.name):
        parent = parent.parent
    return parent.name or None


def map_tags(raw: RawTags, relpath: str) -> MappedTags:
    """Map the common tag vocabulary to track fields, with every fallback."""
    fn_artist, fn_title, fn_no = from_filename(relpath)
    title = first(raw, "title") or fn_title
    artists = split_artists(values(raw, "artists", "artist"))
    if not artists:
        artists = [fn_artist] if fn_artist else ["Unknown Artist"]
    compilation = parse_bool(first(raw, "compilation"))
    album_artists = split_artists(values(raw, "albumartists", "albumartist", "album artist"))
    if not album_artists:
        album_artists = [VARIOUS_ARTISTS] if compilation else artists[:1]
    if len(album_artists) == 1 and album_artists[0].casefold() in {"various artists", "various"}:
        compilation = True
    album = first(raw, "album") or folder_album(relpath) or "Unknown Album"
    track_no, track_total = parse_number_pair(first(raw, "tracknumber"))
    track_total = track_total or parse_int(first(raw, "tracktotal", "totaltracks"))
    disc_no, disc_total = parse_number_pair(first(raw, "discnumber"))
    disc_total = disc_total or parse_int(first(raw, "disctotal", "totaldiscs"))
    date = first(raw, "date", "year")
    original = first(raw, "originaldate", "originalyear")
    return MappedTags(
        title=title,
        artists=tuple(artists),
        album=album,
        album_artists=tuple(album_artists),
        track_no=track_no or fn_no,
        track_total=track_total,
        disc_no=disc_no,
        disc_total=disc_total,
        disc_subtitle=first(raw, "discsubtitle"),
        year=parse_year(date) or parse_year(original),
        date=date,
        original_date=original,
        genres=tuple(split_genres(values(raw, "genre"))),
        composers=tuple(split_artists(values(raw, "composer"))),
        label=first(raw, "label", "organization", "publisher"),
        compilation=compilation,
        comment=first(raw, "comment", "description"),
        lyrics=lyrics_of(raw),
        bpm=parse_float(first(raw, "bpm")),
        mb_recording_id=mbid(first(raw, "musicbrainz_trackid")),
        mb_release_track_id=mbid(first(raw, "musicbrainz_releasetrackid")),
        mb_album_id=mbid(first(raw, "musicbrainz_albumid")),
        mb_artist_ids=tuple(filter(None, map(mbid, values(raw, "musicbrainz_artistid")))),
        mb_album_artist_ids=tuple(filter(None, map(mbid, values(raw, "musicbrainz_albumartistid")))),
        rg_track_gain=parse_gain(first(raw, "replaygain_track_gain")),
        rg_track_peak=parse_float(first(raw, "replaygain_track_peak")),
        rg_album_gain=parse_gain(first(raw, "replaygain_album_gain")),
        rg_album_peak=parse_float(first(raw, "replaygain_album_peak")),
        sort_title=first(raw, "titlesort"),
        sort_artist=first(raw, "artistsort"),
        sort_album=first(raw, "albumsort"),
        sort_album_artist=first(raw, "albumartistsort"),
        **classical(raw),
    )


_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")


def classical(raw: RawTags) -> dict:
    """ISRCs, groupings, work and movement, album version.

    ID3 has two conventions for TIT1: the standard's "content group" (a grouping), and
    iTunes', which writes the grouping to GRP1 and the *work* to TIT1. So TIT1 is the work
    when GRP1 is present and no explicit work tag is, else a grouping.
    """
    groupings = values(raw, "grouping")
    content_group = values(raw, "contentgroup")
    work = first(raw, "work")
    if groupings and content_group and not work:
        work = content_group[0]
    elif not groupings:
        groupings = content_group
    movement_no, movement_total = parse_number_pair(first(raw, "movement", "movementnumber"))
    isrc = [v.replace("-", "").replace(" ", "").upper() for v in values(raw, "isrc")]
    return {
        "isrc": tuple(dedupe([v for v in isrc if _ISRC.match(v)])),
        "groupings": tuple(dedupe(groupings)),
        "work": work,
        "mb_work_id": mbid(first(raw, "musicbrainz_workid")),
        "movement_name": first(raw, "movementname"),
        "movement_no": movement_no,
        "movement_total": movement_total or parse_int(first(raw, "movementtotal", "movementcount")),
        "album_version": first(raw, "albumversion", "musicbrainz_albumcomment", "releasecomment"),
    }


def normalise(text: str) -> str:
    """Case- and accent-insensitive key: 'Björk' and 'bjork' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())
