"""Internet radio: getInternetRadioStations (everyone), create/update/deleteInternetRadioStation (admins,
else error 50), over :mod:`...store.radio`. ``coverArt`` is the station's id (getCoverArt answers its
picture, or a placeholder); ``streamUrl`` is always the station's own stream (apps play it themselves;
the node's optional relay, ``radio_proxy``, serves the web app).
"""

from __future__ import annotations

from ...store import radio as radio_store
from .. import params
from . import shapes
from .core import Call, method
from .envelope import NOT_AUTHORISED, SubsonicError


def _station(s: dict) -> dict:
    return shapes.clean({"id": s["id"], "name": s["name"], "streamUrl": s["stream_url"],
                         "homePageUrl": s["homepage_url"], "coverArt": s["id"]})


def _admin(call: Call) -> None:
    if call.user["role"] not in ("owner", "admin"):
        raise SubsonicError(NOT_AUTHORISED, "only an admin or the owner manages radio stations")


@method("getInternetRadioStations")
async def get_stations(call: Call) -> dict:
    rows = await call.store.read(radio_store.listing)
    return {"internetRadioStations": {"internetRadioStation": [_station(s) for s in rows]}}


@method("createInternetRadioStation")
async def create_station(call: Call) -> dict:
    _admin(call)
    await call.store.write(radio_store.create, call.require("name"), call.require("streamUrl"),
                           call.get("homepageUrl"))
    return {}


@method("updateInternetRadioStation")
async def update_station(call: Call) -> dict:
    """``id``, ``streamUrl`` and ``name`` are required (as the method says); ``homepageUrl`` is replaced
    by what is given, absent clearing it."""
    _admin(call)
    station_id = params.ident(call.require("id"), "id")
    name, url, home = call.require("name"), call.require("streamUrl"), call.get("homepageUrl") or ""
    await call.store.write(lambda db: radio_store.update(db, station_id, name=name, stream_url=url,
                                                         homepage_url=home))
    return {}


@method("deleteInternetRadioStation")
async def delete_station(call: Call) -> dict:
    _admin(call)
    await call.store.write(radio_store.delete, params.ident(call.require("id"), "id"))
    return {}

