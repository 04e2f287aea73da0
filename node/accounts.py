"""Who may manage which account: the one rule book for the native API, the Subsonic API and the CLI.

Roles rank ``owner`` > ``admin`` > ``listener``. The rules (specs/api.md, "Who manages whom"):

============================  ==============  ==============  ===============
action                        on a listener   on an admin     on an owner
============================  ==============  ==============  ===============
create with that role         admin, owner    owner           owner
set another's password        admin, owner    owner           nobody
change another's role         owner           owner           nobody
remove                        admin, owner    owner           nobody
choose the music folders      admin, owner    owner           nobody
============================  ==============  ==============  ===============

Granting the admin or owner role is the owner's alone, whatever the target's
role was. Nobody changes their own role (an admin cannot promote themselves,
the owner cannot demote themselves), and anyone may change their own password
only by proving the current one (the caller passes ``proved_current=True``).
An owner is never demoted or removed through an API; the node's operator
(:data:`OPERATOR`, the person running the CLI on the node's data folder, who
can read the database anyway) may do anything, except remove the last owner
(:func:`sonantica.node.store.users.remove` refuses that).

Music folders (store/scope.py) limit listeners only: the owner and admins see every folder, as in
Navidrome. An admin's chosen folders are kept and apply if the owner makes them a listener again,
so only the owner chooses them. The folders new accounts get (the default) are the owner's to set.

Every check raises :class:`~sonantica.node.errors.Forbidden` with a reason a
person can act on; the HTTP layers map it to 403 / Subsonic error 50.
"""

from __future__ import annotations

from .errors import Forbidden, InvalidInput
from .store import playlists, users
from .store.users import ROLES

RANK = {"listener": 1, "admin": 2, "owner": 3}
OPERATOR: dict = {"id": None, "name": "(the node's operator)", "role": "operator"}


def _is_operator(actor: dict) -> bool:
    return actor is OPERATOR


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def _needed_to_manage(role: str) -> str:
    """The least role that may create, reset or remove an account holding ``role``."""
    return "admin" if role == "listener" else "owner"


def _require(actor: dict, least: str, why: str) -> None:
    if RANK.get(actor.get("role", ""), 0) < RANK[least]:
        raise Forbidden(f"only {'an admin or ' if least == 'admin' else ''}the owner can {why}")


def check_create(actor: dict, role: str) -> None:
    """``actor`` may create an account with ``role``."""
    if _is_operator(actor):
        _check_role(role)
        return
    _require(actor, _needed_to_manage(_check_role(role)), f"create {_article(role)} {role}")


def check_password(actor: dict, target: dict, *, proved_current: bool = False) -> None:
    """``actor`` may set ``target``'s password (their own only with the current password)."""
    if _is_operator(actor):
        return
    if actor["id"] == target["id"]:
        if not proved_current:
            raise Forbidden("to change your own password, prove the current one: the web app's account page, "
                            "PUT /api/v1/me/password, or a Subsonic call signed with it (p=, not a token, "
                            "app password or API key)")
        return
    if target["role"] == "owner":
        raise Forbidden("nobody can set the owner's password: the owner changes it themselves")
    _require(actor, _needed_to_manage(target["role"]), f"set the password of {_article(target['role'])} "
                                                       f"{target['role']}")


def check_role(actor: dict, target: dict, role: str) -> None:
    """``actor`` may give ``target`` the role ``role`` (a no-op change is always allowed)."""
    _check_role(role)
    if role == target["role"]:
        return
    if _is_operator(actor):
        return
    if actor["id"] == target["id"]:
        raise Forbidden("nobody can change their own role")
    if target["role"] == "owner":
        raise Forbidden("the owner cannot be demoted")
    _require(actor, "owner", "change roles")


def check_remove(actor: dict, target: dict) -> None:
    """``actor`` may remove ``target``."""
    if _is_operator(actor):
        return
    if target["role"] == "owner":
        raise Forbidden("the owner cannot be removed (the node's operator can, with `sonantica user remove`)")
    _require(actor, _needed_to_manage(target["role"]), f"remove {_article(target['role'])} {target['role']}")


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"


def check_folders(actor: dict, target: dict) -> None:
    """``actor`` may choose which music folders ``target`` sees."""
    if _is_operator(actor):
        return
    if target["role"] == "owner":
        raise Forbidden("the owner sees every music folder: there is nothing to choose")
    _require(actor, _needed_to_manage(target["role"]), f"choose the music folders of {_article(target['role'])} "
                                                       f"{target['role']}")


def check_default_folders(actor: dict) -> None:
    if not _is_operator(actor):
        _require(actor, "owner", "choose the music folders new accounts get")


#: ``folders=UNCHANGED``: leave the account's music folders as they are (None means every folder).
UNCHANGED: object = object()


# -- the checked operations, each one write (``store.write(accounts.update, actor, …)``) --------
def create(db, actor: dict, name: str, password_hash: str, role: str, folders: object = UNCHANGED) -> dict:
    """A new account; ``folders`` (a list of folder ids, or None for every folder) instead of the default."""
    check_create(actor, role)
    user = users.create(db, name, password_hash, role)
    if folders is not UNCHANGED:
        check_folders(actor, user)
        users.set_folders(db, user["id"], folders)  # type: ignore[arg-type]
    return users.get(db, user["id"])


def check_update(db, actor: dict, user_id: str, role: str | None, password: bool,
                 proved_current: bool = False, folders: bool = False) -> dict:
    """Raise unless ``actor`` may make this change to ``user_id``; the target as it is now."""
    target = users.get(db, user_id)
    if role is not None:
        check_role(actor, target, role)
    if password:
        check_password(actor, target, proved_current=proved_current)
    if folders:
        check_folders(actor, target)
    return target


def update(db, actor: dict, user_id: str, *, role: str | None = None, password_hash: str | None = None,
           proved_current: bool = False, folders: object = UNCHANGED) -> dict:
    check_update(db, actor, user_id, role, password_hash is not None, proved_current, folders is not UNCHANGED)
    if password_hash is not None:
        users.set_password(db, user_id, password_hash)
    if role is not None:
        users.set_role(db, user_id, role)
    if folders is not UNCHANGED:
        users.set_folders(db, user_id, folders)  # type: ignore[arg-type]
    if folders is not UNCHANGED or role is not None:  # what they see may have changed
        playlists.drop_generated(db, user_id)  # made from what they saw before
    return users.get(db, user_id)


def set_default_folders(db, actor: dict, folders: list[int] | None) -> list[int] | None:
    check_default_folders(actor)
    users.set_default_folders(db, folders)
    return users.default_folders(db)


def remove(db, actor: dict, user_id: str) -> None:
    check_remove(actor, users.get(db, user_id))
    users.remove(db, user_id)
