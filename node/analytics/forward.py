"""Forwarding counted plays to ListenBrainz and Last.fm: per user, off by default, never in the way.

Theory of operation
-------------------
Nothing leaves the node unless two people agreed: the node's owner (config
``listenbrainz_forwarding = true``, which covers both services) and the user
(an enabled account with credentials). When a play is counted,
:func:`enqueue` adds one row per enabled account to ``forward_queue`` in
the same transaction as the play, so a crash loses nothing and playback never
waits on the network. The analytics service calls :func:`deliver_due`, which
sends due rows in batches (ListenBrainz ``import``, Last.fm up to 50
scrobbles) and sorts every outcome into one of three:

- **sent**: the row is deleted;
- **retry later** (network error, timeout, 429, 5xx, Last.fm errors 11/16/29):
  exponential backoff from 30 s to 6 h, honouring ``Retry-After``; after
  ``GIVE_UP_AFTER`` attempts the row is kept as ``failed``;
- **give up** (the service refuses the listen, 4xx): ``failed`` with the reason;
  refused credentials hold the account's rows (``held_until``) and record the
  error, until the user saves new credentials (:func:`save_account`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time

import httpx

from ..errors import InvalidInput
from ..store import plays as ps
from ..store.db import Database

log = logging.getLogger(__name__)

SERVICES = ("listenbrainz", "lastfm")
DEFAULT_URLS = {"listenbrainz": "https://api.listenbrainz.org", "lastfm": "https://ws.audioscrobbler.com/2.0/"}
BATCH = 50
GIVE_UP_AFTER = 20
BACKOFF_MIN_S, BACKOFF_MAX_S = 30.0, 6 * 3600.0
HOLD_S = 24 * 3600.0
TIMEOUT_S = 10.0
CLIENT_NAME = "Sonántica"


class Retry(Exception):
    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class GiveUp(Exception):
    def __init__(self, reason: str, auth: bool = False) -> None:
        super().__init__(reason)
        self.auth = auth


# -- queueing (inside the play's write transaction) -----------------------------------------
def enqueue(db: Database, play: dict) -> None:
    services = ps.enabled_services(db, play["user_id"])
    if not services:
        return
    payload = json.dumps({"artist": play["artist"], "track": play["title"], "album": play["album"],
                          "listened_at": int(play["started_at"]), "duration_ms": play["duration_ms"],
                          "client": play["client"]}, ensure_ascii=False)
    for service in services:
        ps.queue_put(db, play["user_id"], service, play["id"], payload, time.time())


# -- accounts ----------------------------------------------------------------------------------
def save_account(db: Database, user_id: str, service: str, body: dict) -> dict:
    if service not in SERVICES:
        raise InvalidInput(f"service must be one of {', '.join(SERVICES)}")
    values: dict = {}
    if "enabled" in body:
        values["enabled"] = int(bool(body["enabled"]))
    for key in ("url", "token", "api_key", "api_secret"):
        if key in body:
            value = body[key]
            if value is not None and (not isinstance(value, str) or len(value) > 500):
                raise InvalidInput(f"{key} must be a string of at most 500 characters")
            values[key] = value or None
    if values.get("url") and not values["url"].startswith(("http://", "https://")):
        raise InvalidInput("url must start with http:// or https://")
    credentials_changed = any(k in values for k in ("token", "api_key", "api_secret", "url"))
    if credentials_changed:
        values.update(last_error=None, held_until=None)
    ps.save_account(db, user_id, service, **values)
    account = ps.account(db, user_id, service)
    if account["enabled"] and not account["token"]:
        raise InvalidInput(f"{service} needs a token" + (" (the session key)" if service == "lastfm" else ""))
    if account["enabled"] and service == "lastfm" and not (account["api_key"] and account["api_secret"]):
        raise InvalidInput("lastfm needs api_key and api_secret (from https://www.last.fm/api/account/create)")
    if credentials_changed:
        ps.queue_release(db, user_id, service, time.time())
    return public_account(account)


def public_account(account: dict) -> dict:
    """What the API shows: never a secret back."""
    return {"service": account["service"], "enabled": bool(account["enabled"]),
            "url": account["url"] or DEFAULT_URLS[account["service"]], "has_token": bool(account["token"]),
            "has_api_key": bool(account["api_key"]), "last_error": account["last_error"],
            "held_until": account["held_until"]}


def status(db: Database, user_id: str) -> dict:
    have = {a["service"]: public_account(a) for a in ps.accounts(db, user_id)}
    counts = ps.queue_counts(db, user_id)
    out = {}
    for service in SERVICES:
        entry = have.get(service) or {"service": service, "enabled": False, "url": DEFAULT_URLS[service],
                                      "has_token": False, "has_api_key": False, "last_error": None,
                                      "held_until": None}
        entry["queue"] = {"pending": counts.get(service, {}).get("pending", 0),
                          "failed": counts.get(service, {}).get("failed", 0)}
        out[service] = entry
    return out


# -- delivery ------------------------------------------------------------------------------------
async def deliver_due(node, client: httpx.AsyncClient, now: float | None = None) -> dict:
    """Send every due row once; returns counts of sent, retried and failed rows."""
    now = time.time() if now is None else now
    counts = {"sent": 0, "retried": 0, "failed": 0}
    if not getattr(node.config, "listenbrainz_forwarding", False):
        return counts
    rows = await node.store.read(ps.queue_due, now, 500)
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["user_id"], row["service"]), []).append(row)
    for (user_id, service), items in groups.items():
        account = await node.store.read(ps.account, user_id, service)
        if account is None or not account["enabled"] or (account["held_until"] or 0) > now:
            await node.store.write(ps.queue_retry, [r["id"] for r in items], now + HOLD_S,
                                   "forwarding is off or held for this account", 10**9)
            continue
        for i in range(0, len(items), BATCH):
            batch = items[i:i + BATCH]
            await _deliver(node, client, account, batch, now, counts)
    return counts


async def _deliver(node, client, account: dict, batch: list[dict], now: float, counts: dict) -> None:
    ids = [r["id"] for r in batch]
    listens = [json.loads(r["payload"]) for r in batch]
    try:
        if account["service"] == "listenbrainz":
            await send_listenbrainz(client, account, listens)
        else:
            await send_lastfm(client, account, listens)
    except Retry as exc:
        attempts = min(r["attempts"] for r in batch)
        delay = exc.after if exc.after is not None else min(BACKOFF_MAX_S, BACKOFF_MIN_S * 2 ** attempts)
        await node.store.write(ps.queue_retry, ids, now + delay, str(exc), GIVE_UP_AFTER)
        counts["retried"] += len(ids)
        log.info("forwarding to %s: %s; retrying in %.0f s", account["service"], exc, delay)
    except GiveUp as exc:
        if exc.auth:
            reason = str(exc)

            def hold(db):
                ps.save_account(db, account["user_id"], account["service"], last_error=reason,
                                held_until=now + HOLD_S)
                ps.queue_retry(db, ids, now + HOLD_S, reason, 10**9)
            await node.store.write(hold)
            counts["retried"] += len(ids)
        else:
            await node.store.write(ps.queue_fail, ids, str(exc))
            counts["failed"] += len(ids)
        log.warning("forwarding to %s refused: %s", account["service"], exc)
    else:
        await node.store.write(ps.queue_done, ids)
        counts["sent"] += len(ids)


def _retry_after(resp: httpx.Response) -> float | None:
    for header in ("Retry-After", "X-RateLimit-Reset-In"):
        value = resp.headers.get(header)
        if value:
            try:
                return max(1.0, float(value))
            except ValueError:
                return None
    return None


async def _post(client: httpx.AsyncClient, url: str, **kw) -> httpx.Response:
    try:
        return await client.post(url, timeout=TIMEOUT_S, **kw)
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise Retry(f"{url} unreachable: {exc.__class__.__name__}") from exc


async def send_listenbrainz(client: httpx.AsyncClient, account: dict, listens: list[dict]) -> None:
    url = (account["url"] or DEFAULT_URLS["listenbrainz"]).rstrip("/") + "/1/submit-listens"
    payload = [{"listened_at": x["listened_at"], "track_metadata": {
        "artist_name": x["artist"], "track_name": x["track"], **({"release_name": x["album"]} if x["album"] else {}),
        "additional_info": {"duration_ms": x["duration_ms"], "submission_client": CLIENT_NAME,
                            "media_player": x["client"]}}} for x in listens]
    body = {"listen_type": "single" if len(payload) == 1 else "import", "payload": payload}
    resp = await _post(client, url, json=body, headers={"Authorization": f"Token {account['token']}"})
    if resp.status_code == 200:
        return
    reason = _lb_reason(resp)
    if resp.status_code == 429 or resp.status_code >= 500:
        raise Retry(f"ListenBrainz answered {resp.status_code}: {reason}", _retry_after(resp))
    raise GiveUp(f"ListenBrainz refused ({resp.status_code}): {reason}", auth=resp.status_code in (401, 403))


def _lb_reason(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("error") or resp.json().get("message") or resp.text)[:200]
    except (ValueError, AttributeError):
        return resp.text[:200]


LASTFM_RETRY = {11, 16, 29}
LASTFM_AUTH = {4, 9, 10, 14, 26}


def lastfm_signature(params: dict[str, str], secret: str) -> str:
    raw = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("format", "callback")) + secret
    return hashlib.md5(raw.encode("utf-8")).hexdigest()


async def send_lastfm(client: httpx.AsyncClient, account: dict, listens: list[dict]) -> None:
    params = {"method": "track.scrobble", "api_key": account["api_key"], "sk": account["token"]}
    for i, x in enumerate(listens):
        params.update({f"artist[{i}]": x["artist"], f"track[{i}]": x["track"], f"timestamp[{i}]": str(x["listened_at"]),
                       f"duration[{i}]": str(x["duration_ms"] // 1000)})
        if x["album"]:
            params[f"album[{i}]"] = x["album"]
    params["api_sig"] = lastfm_signature(params, account["api_secret"])
    params["format"] = "json"
    resp = await _post(client, account["url"] or DEFAULT_URLS["lastfm"], data=params)
    try:
        data = resp.json()
    except ValueError:
        data = {}
    code = data.get("error") if isinstance(data, dict) else None
    if resp.status_code == 200 and code is None:
        return
    message = f"Last.fm error {code}: {data.get('message', '')}" if code else f"Last.fm answered {resp.status_code}"
    if code in LASTFM_RETRY or resp.status_code == 429 or resp.status_code >= 500:
        raise Retry(message, _retry_after(resp))
    raise GiveUp(message, auth=code in LASTFM_AUTH)
