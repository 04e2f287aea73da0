"""The account rules (node/accounts.py) as a table: every actor role × target role × action."""

import itertools

import pytest

from sonantica.node import accounts
from sonantica.node.errors import Forbidden

ROLES = ("listener", "admin", "owner")


def who(role: str, uid: str) -> dict:
    return {"id": uid, "name": uid, "role": role}


def allowed(fn, *args, **kw) -> bool:
    try:
        fn(*args, **kw)
    except Forbidden:
        return False
    return True


# (actor, target) -> may set password / remove; the owner manages admins, admins manage listeners
MANAGE = {("listener", t): False for t in ROLES} | {
    ("admin", "listener"): True, ("admin", "admin"): False, ("admin", "owner"): False,
    ("owner", "listener"): True, ("owner", "admin"): True, ("owner", "owner"): False,
}


@pytest.mark.parametrize("actor,target", list(itertools.product(ROLES, ROLES)))
def test_password_and_removal_of_another(actor, target):
    a, t = who(actor, "a"), who(target, "t")
    assert allowed(accounts.check_password, a, t) is MANAGE[actor, target]
    assert allowed(accounts.check_remove, a, t) is MANAGE[actor, target]


@pytest.mark.parametrize("actor,target,role", list(itertools.product(ROLES, ROLES, ROLES)))
def test_role_changes_are_the_owners_and_never_touch_an_owner(actor, target, role):
    expected = role == target or (actor == "owner" and target != "owner")
    assert allowed(accounts.check_role, who(actor, "a"), who(target, "t"), role) is expected


@pytest.mark.parametrize("actor,role", list(itertools.product(ROLES, ROLES)))
def test_create(actor, role):
    expected = actor == "owner" or (actor == "admin" and role == "listener")
    assert allowed(accounts.check_create, who(actor, "a"), role) is expected


@pytest.mark.parametrize("role", ROLES)
def test_self(role):
    me = who(role, "me")
    assert not allowed(accounts.check_password, me, me)
    assert allowed(accounts.check_password, me, me, proved_current=True)
    for other in ROLES:
        assert allowed(accounts.check_role, me, me, other) is (other == role)
    assert not allowed(accounts.check_remove, me, me)  # an admin is removed by the owner; the owner by nobody


@pytest.mark.parametrize("role", ROLES)
def test_the_operator_may_do_anything(role):
    t = who(role, "t")
    assert allowed(accounts.check_create, accounts.OPERATOR, role)
    assert allowed(accounts.check_password, accounts.OPERATOR, t)
    assert allowed(accounts.check_remove, accounts.OPERATOR, t)
    for other in ROLES:
        assert allowed(accounts.check_role, accounts.OPERATOR, t, other)
