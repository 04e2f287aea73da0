"""The provider interface: what a provider is given, what it answers.

A provider is a small object with a ``name`` (its on/off setting is ``metadata_<name>``), the
``kind`` of item it fills in (``album``, ``artist`` or ``track``) and one coroutine,
``lookup(ctx, item) -> findings``. The worker hands each provider of a kind the item as the
library knows it, merged with what earlier providers found (MusicBrainz runs before the Cover
Art Archive, which needs the release MBID), and stores the findings. A provider never writes:
it asks through ``ctx.http`` (polite, bounded, cached) and keeps pictures through
``ctx.keep_image`` (checked, bounded). ``http.Unavailable`` means "try this item later".

Findings are plain dicts of the columns of ``meta_album`` / ``meta_artist`` / ``meta_track``,
plus ``recordings`` ({track id: recording MBID}) for albums and a few hints passed on to later
providers of the same item (``wikidata``, ``caa_front``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import trio

from . import images
from .http import Endpoint, Http


@dataclass
class Context:
    """What a provider may use for one item."""

    http: Http
    config: object
    image_dir: Path
    fresh: bool = False  # an owner asked to refresh this item: skip cached answers

    async def json(self, ep: Endpoint, path: str, params: dict | None = None) -> dict | None:
        return await self.http.json(ep, path, params, fresh=self.fresh)

    async def keep_image(self, ep: Endpoint, url: str) -> str | None:
        """Fetch, check and keep a picture; its cover id, or None if the provider has none there.

        A picture that is not one, or is too large, raises ``http.Unavailable`` (reported in status)."""
        data = await self.http.image(ep, url)
        if data is None:
            return None
        try:
            return await trio.to_thread.run_sync(images.store, self.image_dir, data)
        except images.NotAnImage as exc:
            from .http import Unavailable

            raise Unavailable(ep.name, f"refused picture from {url}: {exc}") from None


class Provider(Protocol):
    name: str
    kind: str

    async def lookup(self, ctx: Context, item: dict) -> dict: ...


def enabled(provider: Provider, config) -> bool:
    """On when ``metadata`` is, and the provider's own switch (``metadata_<name>``, or its ``is_enabled``)."""
    if not getattr(config, "metadata", False):
        return False
    if hasattr(provider, "is_enabled"):
        return provider.is_enabled(config)
    return bool(getattr(config, f"metadata_{provider.name}", False))
