"""Drives identities and identity resolution of a running Steward server with the official
Trusted Twin client.

Usage: python tt_client_identities.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET
       COURIER_ACCOUNT COURIER_USER

The shop/courier story of docs/identities.md: the shop attaches identities to an order twin, one
shared with the courier and one private; the courier resolves the shared one and never the
private one. Every step prints one line; the first mismatch prints what was sent, what was
expected and what came back, and exits with status 1.

The client percent-encodes path arguments (`RFID#1` travels as `RFID%231`), sends query
booleans as `True`/`False` and a list as a repeated parameter.
"""

import sys
import time

from trustedtwin.tt_api import TTRESTService

from tt_client_flow import Mismatch, call, check, check_error, check_fields, step

PUBLIC = "RFID#parcel-4411"
PRIVATE = "INV#2024-0001"
ENCODED = "HID#aGVsbG8+d29ybGQ="


def check_names(operation, body, names):
    """`body` is `{"identities": {...}}` holding exactly `names`."""
    check(isinstance(body, dict) and isinstance(body.get("identities"), dict),
          f"{operation}: expected {{\"identities\": {{...}}}}, got {body!r}")
    check(set(body["identities"]) == set(names),
          f"{operation}: identities are {sorted(body['identities'])}, expected "
          f"{sorted(names)}: {body}")


def check_twins(operation, body, twins):
    """`body` is `{"twins": [...]}` holding exactly `twins`."""
    check(isinstance(body, dict) and isinstance(body.get("twins"), list),
          f"{operation}: expected {{\"twins\": [...]}}, got {body!r}")
    check(sorted(body["twins"]) == sorted(twins),
          f"{operation}: twins are {body['twins']}, expected {sorted(twins)}")


def check_never_private(operation, body):
    check(PRIVATE not in str(body), f"{operation}: the courier sees the private identity: {body}")


def run(base_url, shop_secret, shop_account, courier_secret, courier_account, courier_user):
    shop = TTRESTService(tt_auth=shop_secret, tt_base=base_url)
    courier = TTRESTService(tt_auth=courier_secret, tt_base=base_url)

    order = call(shop, "create_twin", body={"description": {"kind": "order"}},
                 expect=201)["creation_certificate"]["uuid"]
    step(f"create_twin: order {order}")

    # --- the shop attaches identities ----------------------------------------------------
    shared_with_courier = f"account == '{courier_account}'"
    validity = round(time.time() + 3600, 3)
    created = call(
        shop,
        "create_twin_identity",
        order,
        body={"identities": {
            PUBLIC: {"visibility": shared_with_courier, "validity_ts": validity},
            PRIVATE: {},
            ENCODED: {"visibility": None, "validity_ts": None},
        }},
        expect=201,
    )
    check_names("create_twin_identity", created, [PUBLIC, PRIVATE, ENCODED])
    public = created["identities"][PUBLIC]
    check_fields("create_twin_identity", public,
                 {"visibility": shared_with_courier, "validity_ts": validity})
    check_fields("create_twin_identity", public["creation_certificate"],
                 {"identity": PUBLIC, "creator": shop_account})
    check_fields("create_twin_identity", created["identities"][PRIVATE],
                 {"visibility": None, "validity_ts": None})
    step("create_twin_identity: a public, a private and a base64 identity")

    again = call(shop, "create_twin_identity", order,
                 body={"identities": {PRIVATE: {"visibility": "true"}}}, expect=201)
    check(again == {"identities": {PRIVATE: {"error": "Identity already exists."}}},
          f"create_twin_identity again: {again}")
    step("create_twin_identity of an existing identity: per-item error, stored one kept")

    for label, body in [
        ("bad identity", {"identities": {"RFID#a b": {}}}),
        ("prefix too long", {"identities": {"NINECHARS#1": {}}}),
        ("bad rule", {"identities": {"RFID#1": {"visibility": "account =="}}}),
        ("validity in the past", {"identities": {"RFID#1": {"validity_ts": 1000.0}}}),
        ("wrong type", {"identities": {"RFID#1": {"validity_ts": "tomorrow"}}}),
        ("unknown field", {"identities": {"RFID#1": {"visible": True}}}),
        ("no identities", {"identities": {}}),
    ]:
        answer = call(shop, "create_twin_identity", order, body=body, expect=400)
        check_error("create_twin_identity", answer, 400589)
        step(f"create_twin_identity with {label} -> 400 / 400589")

    answer = call(shop, "create_twin_identity", "not-a-uuid", body={"identities": {"A#1": {}}},
                  expect=400)
    check_error("create_twin_identity", answer, 400589)
    answer = call(shop, "create_twin_identity", "00000000-0000-4000-8000-000000000000",
                  body={"identities": {"A#1": {}}}, expect=404)
    check_error("create_twin_identity", answer, 404653)
    step("create_twin_identity on a malformed / unknown twin -> 400589 / 404653")

    # --- the shop reads, lists and resolves its own identities ----------------------------
    fetched = call(shop, "get_twin_identity", order, PUBLIC, expect=200)
    check(fetched == public, f"get_twin_identity: {fetched} differs from created {public}")
    fetched = call(shop, "get_twin_identity", order, ENCODED, expect=200)
    check_fields("get_twin_identity", fetched["creation_certificate"], {"identity": ENCODED})
    step("get_twin_identity (identities with `#`, `+` and `=` in the path)")

    answer = call(shop, "get_twin_identity", order, "RFID#missing", expect=404)
    check_error("get_twin_identity", answer, 404653)
    answer = call(shop, "get_twin_identity", order, "RFID", expect=400)
    check_error("get_twin_identity", answer, 400589)
    step("get_twin_identity of a missing / malformed identity -> 404653 / 400589")

    listed = call(shop, "get_twin_identities", order, expect=200)
    check_names("get_twin_identities", listed, [PUBLIC, PRIVATE, ENCODED])
    check_fields("get_twin_identities", listed["identities"][PUBLIC],
                 {"validity_ts": validity, "visibility": shared_with_courier})
    listed = call(shop, "get_twin_identities", order, params={"show_private": False},
                  expect=200)
    check_names("get_twin_identities show_private=False", listed, [PUBLIC])
    listed = call(shop, "get_twin_identities", order, params={"show_public": False},
                  expect=200)
    check_names("get_twin_identities show_public=False", listed, [PRIVATE, ENCODED])
    answer = call(shop, "get_twin_identities", order, params={"show_everything": True},
                  expect=400)
    check_error("get_twin_identities", answer, 400589)
    step("get_twin_identities with show_* switches; an unknown parameter -> 400 / 400589")

    resolved = call(shop, "resolve_twin_identity", PRIVATE, expect=200)
    check_twins("resolve_twin_identity", resolved, [order])
    step("resolve_twin_identity: the shop resolves its private identity (context personal)")

    # --- the courier -----------------------------------------------------------------------
    answer = call(courier, "get_twin_identities", order, expect=403)
    check_error("get_twin_identities", answer, 403535)
    step("the courier without a twin rule cannot list the order's identities -> 403")

    role = call(
        courier,
        "create_user_role",
        body={"name": "Courier",
              "rules": {"twin_rule": "TWIN.kind == 'order'", "identity_rule": "true"}},
        expect=201,
    )
    call(courier, "update_user", courier_user, body={"role": role["uuid"]}, expect=200)
    step("courier role: twin_rule TWIN.kind == 'order', identity_rule true")

    listed = call(courier, "get_twin_identities", order, expect=200)
    check_names("get_twin_identities", listed, [])
    listed = call(courier, "get_twin_identities", order, params={"show_foreign": True},
                  expect=200)
    check_names("get_twin_identities show_foreign=True", listed, [PUBLIC])
    check_never_private("get_twin_identities", listed)
    check_fields("get_twin_identities", listed["identities"][PUBLIC]["creation_certificate"],
                 {"creator": shop_account})
    check("visibility" not in listed["identities"][PUBLIC],
          f"get_twin_identities: the shop's rule is shown to the courier: {listed}")
    listed = call(courier, "get_twin_identities", order,
                  params={"show_foreign": shop_account, "show_private": True}, expect=200)
    check_names("get_twin_identities show_foreign=<shop>", listed, [PUBLIC])
    step("courier get_twin_identities: the shared identity only, without its rule")

    for context_label, params in [
        ("shop account", {"context": shop_account}),
        ("system", {"context": "system"}),
        ("list", {"context": [shop_account, "personal"]}),
        ("comma-separated", {"context": f"personal,{shop_account}"}),
        ("system, details=False", {"context": "system", "details": False}),
    ]:
        resolved = call(courier, "resolve_twin_identity", PUBLIC, params=params, expect=200)
        check_twins("resolve_twin_identity", resolved, [order])
        hidden = call(courier, "resolve_twin_identity", PRIVATE, params=params, expect=200)
        check_twins("resolve_twin_identity", hidden, [])
        step(f"courier resolve_twin_identity context {context_label}: public yes, private no")

    resolved = call(courier, "resolve_twin_identity", PUBLIC, expect=200)
    check_twins("resolve_twin_identity personal", resolved, [])
    detailed = call(courier, "resolve_twin_identity", PUBLIC,
                    params={"context": "system", "details": True}, expect=200)
    check(isinstance(detailed.get("twins"), dict) and list(detailed["twins"]) == [order],
          f"resolve_twin_identity details=True: {detailed}")
    check_fields("resolve_twin_identity", detailed["twins"][order],
                 {"owner": shop_account, "description": {"kind": "order"}})
    step("courier resolve_twin_identity: personal finds nothing; details=True gives the twin")

    for label, identity, params in [
        ("a malformed identity", "RFID", {}),
        ("system with another context", PUBLIC, {"context": ["system", "personal"]}),
        ("an unknown context", PUBLIC, {"context": "everyone"}),
        ("a bad details flag", PUBLIC, {"details": "maybe"}),
    ]:
        answer = call(courier, "resolve_twin_identity", identity, params=params, expect=400)
        check_error("resolve_twin_identity", answer, 400589)
        step(f"resolve_twin_identity with {label} -> 400 / 400589")

    for operation, kwargs in [
        ("get_twin_identity", {}),
        ("update_twin_identity", {"body": {"visibility": "true"}}),
        ("delete_twin_identity", {}),
    ]:
        for identity in [PUBLIC, PRIVATE]:
            answer = call(courier, operation, order, identity, expect=404, **kwargs)
            check_error(operation, answer, 404653)
    step("the courier cannot read, update or delete the shop's identities -> 404 / 404653")

    # --- the shop updates and deletes --------------------------------------------------------
    updated = call(shop, "update_twin_identity", order, PRIVATE,
                   body={"visibility": shared_with_courier}, expect=200)
    check_fields("update_twin_identity", updated,
                 {"visibility": shared_with_courier, "validity_ts": None})
    resolved = call(courier, "resolve_twin_identity", PRIVATE, params={"context": "system"},
                    expect=200)
    check_twins("resolve_twin_identity", resolved, [order])
    updated = call(shop, "update_twin_identity", order, PRIVATE, body={"visibility": None},
                   expect=200)
    check_fields("update_twin_identity", updated, {"visibility": None})
    resolved = call(courier, "resolve_twin_identity", PRIVATE, params={"context": "system"},
                    expect=200)
    check_twins("resolve_twin_identity", resolved, [])
    step("update_twin_identity shares the private identity and takes it back (200)")

    for label, body in [
        ("no fields", {}),
        ("a bad rule", {"visibility": "account =="}),
        ("a past validity", {"validity_ts": 1000.0}),
        ("an unknown field", {"name": "x"}),
    ]:
        answer = call(shop, "update_twin_identity", order, PUBLIC, body=body, expect=400)
        check_error("update_twin_identity", answer, 400589)
        step(f"update_twin_identity with {label} -> 400 / 400589")

    deleted = call(shop, "delete_twin_identity", order, PUBLIC, expect=200)
    check_fields("delete_twin_identity", deleted["creation_certificate"], {"identity": PUBLIC})
    answer = call(shop, "delete_twin_identity", order, PUBLIC, expect=404)
    check_error("delete_twin_identity", answer, 404653)
    resolved = call(courier, "resolve_twin_identity", PUBLIC, params={"context": "system"},
                    expect=200)
    check_twins("resolve_twin_identity", resolved, [])
    step("delete_twin_identity: gone for everyone; deleting again -> 404 / 404653")

    long_suffix = "RFID#" + "x" * 129
    answer = call(shop, "create_twin_identity", order,
                  body={"identities": {long_suffix: {}}}, expect=400)
    check_error("create_twin_identity (suffix over 128 characters)", answer, 400589)
    answer = call(courier, "resolve_twin_identity", PRIVATE,
                  params={"context": [f"00000000-0000-4000-8000-{index:012d}"
                                      for index in range(101)]},
                  expect=400)
    check_error("resolve_twin_identity (101 accounts)", answer, 400589)
    step("an identity suffix over 128 characters, a context of 101 accounts -> 400 / 400589")

    hidden = call(shop, "create_twin", body={"description": {"kind": "warehouse"}},
                  expect=201)["creation_certificate"]["uuid"]
    call(shop, "create_twin_identity", hidden, body={"identities": {"BIN#7": {}}}, expect=201)
    for operation, args, kwargs in [
        ("create_twin_identity", (hidden,), {"body": {"identities": {"BIN#8": {}}}}),
        ("get_twin_identities", (hidden,), {}),
        ("get_twin_identity", (hidden, "BIN#7"), {}),
        ("update_twin_identity", (hidden, "BIN#7"), {"body": {"visibility": "true"}}),
        ("delete_twin_identity", (hidden, "BIN#7"), {}),
    ]:
        answer = call(courier, operation, *args, expect=403, **kwargs)
        check_error(f"{operation} on a hidden twin", answer, 403535)
    step("identity operations on a twin the courier may not see -> 403 / 403535")

    narrow = call(courier, "create_user_role",
                  body={"name": "NoResolve",
                        "statement": {"effect": "deny", "actions": ["resolve_twin_identity"]}},
                  expect=201)
    call(courier, "update_user", courier_user, body={"role": narrow["uuid"]}, expect=200)
    answer = call(courier, "resolve_twin_identity", PRIVATE, expect=403)
    check_error("resolve_twin_identity without the action", answer, 403535)
    step("a role that denies resolve_twin_identity -> 403 / 403535")


def main():
    args = sys.argv[1:]
    if len(args) != 6:
        print(
            "usage: tt_client_identities.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET "
            "COURIER_ACCOUNT COURIER_USER",
            file=sys.stderr,
        )
        return 2
    base_url, *rest = args
    try:
        run(base_url.rstrip("/"), *rest)
    except Mismatch as mismatch:
        print(f"FAIL {mismatch}", flush=True)
        return 1
    print("all steps passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
