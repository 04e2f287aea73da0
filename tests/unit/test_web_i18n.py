"""The web app's message catalogues (web/i18n/*.json) against the keys its code uses (web/js/**/*.js).

Every key the code asks for (``tr('key')``, ``trParts('key', …)``, ``trn('key', n)``) exists in every
language, with the same {placeholders} as in English; no language has a key the code does not use; keys
are literal at the call (a key built at run time could not be checked, so it is refused here).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
PLURAL_FORMS = {"zero", "one", "two", "few", "many", "other"}
CALL = re.compile(r"(?<![\w.$])(tr|trn|trParts)\(\s*(?:'([^'\\]*)'|\"([^\"\\]*)\")?")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def strip_comments(src: str) -> str:
    """JS without its comments (examples in them are not uses); line numbers kept."""
    src = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), src, flags=re.S)
    return re.sub(r"(^|\s)//.*$", r"\1", src, flags=re.M)


def used_keys(sources: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """{key: 'text' | 'plural'} from the calls in ``sources`` (name → JS), and the calls without a literal key."""
    keys: dict[str, str] = {}
    problems: list[str] = []
    for name, src in sources.items():
        code = strip_comments(src)
        for m in CALL.finditer(code):
            if re.search(r"function\s+$", code[: m.start()][-20:]):
                continue  # the definition itself
            line = code.count("\n", 0, m.start()) + 1
            key = m.group(2) if m.group(2) is not None else m.group(3)
            if key is None:
                problems.append(f"{name}:{line}: {m.group(1)}() without a literal key")
                continue
            kind = "plural" if m.group(1) == "trn" else "text"
            if keys.get(key, kind) != kind:
                problems.append(f"{name}:{line}: {key} is used both as a plural (trn) and as text")
            keys[key] = kind
    return keys, problems


def _placeholders(value) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {p for text in texts for p in PLACEHOLDER.findall(str(text))} - {"n"}


def catalogue_problems(keys: dict[str, str], catalogues: dict[str, dict]) -> list[str]:
    """What is wrong with the catalogues (language → {key: value}) for the keys the code uses."""
    problems = []
    english = catalogues.get("en", {})
    for lang, cat in sorted(catalogues.items()):
        for key in sorted(set(keys) - set(cat)):
            problems.append(f"{lang}: missing {key}")
        for key in sorted(set(cat) - set(keys)):
            problems.append(f"{lang}: {key} is not used by the code")
        for key, kind in sorted(keys.items()):
            value = cat.get(key)
            if value is None:
                continue
            if kind == "text" and not (isinstance(value, str) and value.strip()):
                problems.append(f"{lang}: {key} must be a non-empty string")
            elif kind == "plural" and not (isinstance(value, dict) and "other" in value and set(value) <= PLURAL_FORMS
                                           and all(isinstance(v, str) and v for v in value.values())):
                problems.append(f"{lang}: {key} must be plural forms with 'other' (of {sorted(PLURAL_FORMS)})")
            elif key in english and _placeholders(value) != _placeholders(english[key]):
                problems.append(f"{lang}: {key} has placeholders {sorted(_placeholders(value))}, "
                                f"English has {sorted(_placeholders(english[key]))}")
    return problems


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f"duplicate key {k}")
        seen[k] = v
    return seen


def load_catalogues() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text("utf-8"), object_pairs_hook=_no_duplicates)
            for p in sorted((WEB / "i18n").glob("*.json"))}


def load_sources() -> dict[str, str]:
    return {p.relative_to(WEB).as_posix(): p.read_text("utf-8") for p in sorted((WEB / "js").rglob("*.js"))}


def test_every_language_has_exactly_the_keys_the_code_uses():
    keys, problems = used_keys(load_sources())
    catalogues = load_catalogues()
    assert {"en", "es"} <= set(catalogues)
    assert len(keys) > 5
    assert problems + catalogue_problems(keys, catalogues) == []


def test_the_check_finds_a_missing_key_an_unused_one_and_a_dropped_placeholder():
    keys, _ = used_keys(load_sources())
    catalogues = load_catalogues()
    es = dict(catalogues["es"])
    dropped = next(k for k, kind in keys.items() if kind == "text")
    del es[dropped]
    es["nobody.uses.this"] = "nadie"
    with_param = next(k for k, v in catalogues["en"].items() if isinstance(v, str) and PLACEHOLDER.search(v))
    es[with_param] = "sin marcador"
    assert set(catalogue_problems(keys, {**catalogues, "es": es})) == {
        f"es: missing {dropped}", "es: nobody.uses.this is not used by the code",
        f"es: {with_param} has placeholders [], English has {sorted(_placeholders(catalogues['en'][with_param]))}"}


@pytest.mark.parametrize("src, problem", [
    ("h('p', {}, tr(key))", "x.js:1: tr() without a literal key"),
    ("const a = 1;\nlabel = trn(`count.${kind}`, 3)", "x.js:2: trn() without a literal key"),
])
def test_keys_built_at_run_time_are_refused(src, problem):
    assert used_keys({"x.js": src})[1] == [problem]


def test_calls_in_comments_and_other_functions_are_not_keys():
    keys, problems = used_keys({"x.js": "// tr('in.a.comment')\n/* trn('block', 2) */\nformat(tr('real.key'), at('no'), x.tn('no'))\n"
                                        "trn('songs', 3); trParts(\"with.node\", {x})\nexport function tr(key, params) {}"})
    assert (keys, problems) == ({"real.key": "text", "songs": "plural", "with.node": "text"}, [])


def test_the_node_lists_the_catalogues_it_serves_to_the_app():
    from sonantica.node.api import web

    page = web._render_template("index.html")
    languages = re.search(r'data-languages="([^"]*)"', page).group(1).split(",")
    assert languages == sorted(load_catalogues())


# words spelled the same in English and Spanish: a Spanish value equal to the English one may hold only these
SAME_IN_SPANISH = {"Radio", "Jazz", "Rock", "Error", "local", "LUFS", "kbps", "https", "feed"}


def test_spanish_is_translated_not_copied():
    catalogues = load_catalogues()
    copied = [key for key, value in catalogues["en"].items() if catalogues["es"].get(key) == value
              and set(re.findall(r"[A-Za-z]{4,}", PLACEHOLDER.sub("", json.dumps(value)))) - SAME_IN_SPANISH]
    assert copied == []
