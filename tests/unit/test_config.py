"""Settings: parsed strictly, and every one documented."""

from dataclasses import fields
from pathlib import Path

import pytest

from sonantica.node.config import Config, parse_config
from sonantica.node.errors import ConfigError


def test_round_trip_of_every_setting():
    config = Config(name='Ana "the" node', music=("/m/a", "/m/b"), share="folders", share_folders=("a",))
    assert parse_config(config.to_toml()) == config


@pytest.mark.parametrize("text, message", [
    ("nmae = 'x'", "unknown setting 'nmae'"),
    ("watch = 'yes'", "watch must be true or false"),
    ("max_transcodes = 'four'", "max_transcodes must be an integer"),
    ("music = '/m'", "music must be a list"),
    ("name = [", "not valid TOML"),
])
def test_bad_settings_are_refused_with_their_name(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(text)


def test_every_setting_is_documented():
    doc = (Path(__file__).parents[2] / "docs/configuration.md").read_text()
    missing = [f.name for f in fields(Config) if f"`{f.name}`" not in doc]
    assert not missing, f"document these settings in docs/configuration.md: {missing}"
