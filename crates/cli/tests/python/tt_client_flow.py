"""Drives a running Steward server with the official Trusted Twin Python client.

Usage: python tt_client_flow.py BASE_URL ADMIN_SECRET
(or the environment variables STEWARD_BASE_URL and STEWARD_ADMIN_SECRET).

Every step prints one line. The first mismatch prints what was sent, what was expected and what
came back, and exits with status 1, so the Rust test that runs this script shows the culprit.
"""

import json
import os
import sys
import time

from trustedtwin.tt_api import TTRESTService

# The client retries 5xx five times with a 2 s sleep; a 5xx here is a server bug, so fail fast.
RETRIES = 1
# Seconds before a request that gets no answer fails (passed through to `requests`).
HTTP_TIMEOUT = 30

UUID_LENGTH = 36


class Mismatch(Exception):
    """A response that is not what the Trusted Twin API promises."""


def call(client, operation, *args, expect, **kwargs):
    """Calls `operation` through the client; checks the status and returns the parsed body."""
    status, text = getattr(client, operation)(
        *args, retries=RETRIES, timeout=HTTP_TIMEOUT, **kwargs
    )
    try:
        body = json.loads(text) if text else None
    except ValueError as error:
        raise Mismatch(f"{operation}: response is not json ({error}): {text!r}") from None
    if status != expect:
        sent = {key: value for key, value in kwargs.items() if key != "headers"}
        raise Mismatch(
            f"{operation}{list(args)} {sent}: expected status {expect}, got {status}: {text}"
        )
    return body


def check(condition, message):
    if not condition:
        raise Mismatch(message)


def check_fields(operation, body, expected):
    """Every key of `expected` is in `body` with that value."""
    check(isinstance(body, dict), f"{operation}: expected a json object, got {body!r}")
    for key, value in expected.items():
        check(key in body, f"{operation}: field `{key}` missing in {body}")
        check(
            body[key] == value,
            f"{operation}: field `{key}` is {body[key]!r}, expected {value!r} in {body}",
        )


def check_keys(operation, body, keys):
    """`body` has exactly these keys."""
    check(isinstance(body, dict), f"{operation}: expected a json object, got {body!r}")
    check(
        set(body) == set(keys),
        f"{operation}: keys are {sorted(body)}, expected {sorted(keys)}",
    )


def check_timestamp(operation, body, key):
    check(
        isinstance(body.get(key), (int, float)) and body[key] > 1_600_000_000,
        f"{operation}: `{key}` is not a unix timestamp: {body}",
    )


def check_error(operation, body, subcode):
    """Trusted Twin's error body: exactly subcode, trace, description and help."""
    check_keys(operation, body, ["subcode", "trace", "description", "help"])
    check(
        body["subcode"] == subcode,
        f"{operation}: subcode is {body['subcode']!r}, expected {subcode}: {body}",
    )


def step(message):
    print(f"ok   {message}", flush=True)


def run(base_url, admin_secret):
    admin = TTRESTService(tt_auth=admin_secret, tt_base=base_url)
    anonymous = TTRESTService(tt_base=base_url)
    now = time.time()

    # --- who am I ------------------------------------------------------------------------
    me = call(admin, "who_am_i", expect=200)
    check_keys("who_am_i", me, ["account", "user", "role"])
    account, admin_user = me["account"], me["user"]
    check(len(account) == UUID_LENGTH, f"who_am_i: account is not a uuid: {me}")
    step(f"who_am_i as admin: account {account}")

    call(admin, "who_am_i", expect=200, dictionary={"serial": "b0f531c3", "n": 1})
    step("who_am_i with an X-TrustedTwin dictionary")

    body = call(admin, "who_am_i", expect=400, headers={"X-TrustedTwin": "%%not-base64%%"})
    check_error("who_am_i", body, 400793)
    step("malformed X-TrustedTwin -> 400 / 400793")

    not_json = "bm90IGpzb24="  # base64 of `not json`
    body = call(admin, "who_am_i", expect=400, headers={"X-TrustedTwin": not_json})
    check_error("who_am_i", body, 400793)
    step("X-TrustedTwin that is not base64 json -> 400 / 400793")

    body = call(anonymous, "who_am_i", expect=401)
    check_error("who_am_i", body, 401000)
    step("who_am_i without credentials -> 401 / 401000")

    body = call(TTRESTService(tt_auth="x" * 64, tt_base=base_url), "who_am_i", expect=401)
    check_error("who_am_i", body, 401000)
    step("who_am_i with a wrong secret -> 401 / 401000")

    # --- roles ---------------------------------------------------------------------------
    actions = ["who_am_i", "create_user_token", "refresh_user_token", "get_user_secret"]
    role_body = {
        "name": "Token minter",
        "statement": {"effect": "allow", "actions": actions},
        "rules": {
            "twin_rule": "TWIN.company == USER.company",
            "entry_rule": None,
            "identity_rule": None,
        },
    }
    role = call(admin, "create_user_role", body=role_body, expect=201)
    check_keys(
        "create_user_role",
        role,
        ["uuid", "account", "name", "statement", "rules", "created_ts", "updated_ts"],
    )
    check_fields(
        "create_user_role",
        role,
        {"account": account, "name": "Token minter", "statement": role_body["statement"]},
    )
    check_fields("create_user_role", role["rules"], role_body["rules"])
    check_timestamp("create_user_role", role, "created_ts")
    role_id = role["uuid"]
    step(f"create_user_role: {role_id}")

    body = call(
        admin,
        "create_user_role",
        body={"name": "Bad", "statement": {"effect": "allow", "actions": ["get_twinz"]}},
        expect=400,
    )
    check_error("create_user_role", body, 400589)
    check("get_twinz" in body["description"], f"error does not name the action: {body}")
    step("create_user_role with an unknown action -> 400 / 400589")

    body = call(
        admin,
        "create_user_role",
        body={"name": "Bad", "rules": {"twin_rule": "TWIN.a == "}},
        expect=400,
    )
    check_error("create_user_role", body, 400589)
    step("create_user_role with an unparsable twin_rule -> 400 / 400589")

    roles = call(admin, "get_user_roles", expect=200)
    check_keys("get_user_roles", roles, ["roles"])
    check(role_id in roles["roles"], f"get_user_roles: {role_id} missing in {roles}")
    check_fields("get_user_roles", roles["roles"][role_id], {"name": "Token minter"})
    check_timestamp("get_user_roles", roles["roles"][role_id], "updated_ts")
    step(f"get_user_roles: {len(roles['roles'])} roles")

    fetched = call(admin, "get_user_role", role_id, expect=200)
    check(fetched == role, f"get_user_role: {fetched} differs from created {role}")
    step("get_user_role returns the created role")

    updated = call(
        admin,
        "update_user_role",
        role_id,
        body={"name": "Token minter 2", "rules": {"twin_rule": "TWIN.region == 'eu'"}},
        expect=200,
    )
    check_fields(
        "update_user_role",
        updated,
        {"uuid": role_id, "name": "Token minter 2", "statement": role_body["statement"]},
    )
    check_fields(
        "update_user_role",
        updated["rules"],
        {"twin_rule": "TWIN.region == 'eu'", "entry_rule": None, "identity_rule": None},
    )
    step("update_user_role: name and rules replaced, statement kept")

    # --- users ---------------------------------------------------------------------------
    user_body = {
        "name": "first_user",
        "role": role_id,
        "description": {"company": "ACME", "profession": "accounting"},
    }
    user = call(admin, "create_user", body=user_body, expect=201)
    check_keys(
        "create_user",
        user,
        [
            "uuid",
            "role",
            "account",
            "name",
            "description",
            "activity",
            "created_ts",
            "updated_ts",
        ],
    )
    check_fields(
        "create_user",
        user,
        {
            "role": role_id,
            "account": account,
            "name": "first_user",
            "description": user_body["description"],
            "activity": None,
        },
    )
    user_id = user["uuid"]
    step(f"create_user: {user_id}")

    users = call(admin, "get_users", expect=200)
    check_keys("get_users", users, ["users"])
    check(
        {user_id, admin_user} <= set(users["users"]),
        f"get_users: expected {user_id} and {admin_user} in {users}",
    )
    check_fields("get_users", users["users"][user_id], {"name": "first_user", "role": role_id})
    step(f"get_users: {len(users['users'])} users")

    fetched = call(admin, "get_user", user_id, expect=200)
    check(fetched == user, f"get_user: {fetched} differs from created {user}")
    step("get_user returns the created user")

    updated = call(
        admin,
        "update_user",
        user_id,
        body={"name": "first user", "description": {"company": "ACME"}},
        expect=200,
    )
    check_fields(
        "update_user",
        updated,
        {
            "uuid": user_id,
            "name": "first user",
            "role": role_id,
            "description": {"company": "ACME"},
        },
    )
    step("update_user: name and description replaced")

    # --- PIN -> secret -------------------------------------------------------------------
    pin_body = call(admin, "create_user_secret_pin", user_id, expect=201)
    check_keys("create_user_secret_pin", pin_body, ["pin"])
    pin = pin_body["pin"]
    check(isinstance(pin, str) and pin, f"create_user_secret_pin: bad pin {pin_body}")
    step("create_user_secret_pin as admin")

    issued = call(anonymous, "create_user_secret", account, pin, expect=201)
    check_keys(
        "create_user_secret",
        issued,
        ["account", "user", "secret", "validity_ts", "created_ts", "updated_ts"],
    )
    check_fields(
        "create_user_secret", issued, {"account": account, "user": user_id, "validity_ts": None}
    )
    user_secret = issued["secret"]
    check(len(user_secret) == 64, f"create_user_secret: secret is not 64 characters: {issued}")
    step("create_user_secret without credentials: 64-character secret")

    body = call(anonymous, "create_user_secret", account, pin, expect=404)
    check_error("create_user_secret", body, 404653)
    step("the PIN is single use: second redemption -> 404 / 404653")

    as_user = TTRESTService(tt_auth=user_secret, tt_base=base_url)
    me = call(as_user, "who_am_i", expect=200)
    check_fields("who_am_i", me, {"account": account, "user": user_id, "role": role_id})
    step("who_am_i with the new secret is the new user")

    body = call(as_user, "get_users", expect=403)
    check_error("get_users", body, 403535)
    step("the new user's role does not allow get_users -> 403 / 403535")

    body = call(
        as_user,
        "create_user_role",
        body={"name": "Escalated", "statement": {"effect": "deny", "actions": None}},
        expect=403,
    )
    check_error("create_user_role", body, 403535)
    step("the new user cannot create roles -> 403 / 403535")

    secret_meta = call(admin, "get_user_secret", user_id, expect=200)
    check_keys(
        "get_user_secret",
        secret_meta,
        ["account", "user", "validity_ts", "created_ts", "updated_ts", "fingerprint"],
    )
    check_fields(
        "get_user_secret",
        secret_meta,
        {"account": account, "user": user_id, "validity_ts": None, "fingerprint": user_secret[-4:]},
    )
    step(f"get_user_secret: fingerprint {secret_meta['fingerprint']}")

    own_meta = call(as_user, "get_user_secret", user_id, expect=200)
    check_fields("get_user_secret", own_meta, {"fingerprint": user_secret[-4:]})
    step("get_user_secret by the user itself")

    secret_validity = round(now + 7 * 24 * 3600, 3)
    secret_meta = call(
        admin, "update_user_secret", user_id, body={"validity_ts": secret_validity}, expect=200
    )
    check_fields(
        "update_user_secret", secret_meta, {"user": user_id, "fingerprint": user_secret[-4:]}
    )
    check(
        abs(secret_meta["validity_ts"] - secret_validity) < 0.01,
        f"update_user_secret: validity_ts {secret_meta['validity_ts']}, expected {secret_validity}",
    )
    step("update_user_secret: validity_ts set")

    # --- tokens --------------------------------------------------------------------------
    token_validity = round(now + 3600, 3)
    token_body = call(
        as_user,
        "create_user_token",
        body={
            "options": ["refresh"],
            "validity_ts": token_validity,
            "secret_dict": {"serial": "b0f531c3"},
        },
        expect=201,
    )
    check_keys("create_user_token", token_body, ["token", "options", "validity_ts"])
    check_fields("create_user_token", token_body, {"options": ["refresh"]})
    check(
        abs(token_body["validity_ts"] - token_validity) < 0.01,
        f"create_user_token: validity_ts {token_body['validity_ts']}, expected {token_validity}",
    )
    token = token_body["token"]
    step('create_user_token with options ["refresh"]')

    long_token = call(
        as_user,
        "create_user_token",
        body={"validity_ts": round(now + 30 * 24 * 3600, 3)},
        expect=201,
    )
    check(
        long_token["validity_ts"] is not None
        and long_token["validity_ts"] <= secret_meta["validity_ts"] + 0.01,
        f"create_user_token: validity {long_token['validity_ts']} beyond the secret's "
        f"{secret_meta['validity_ts']}",
    )
    step("a token never outlives its secret")

    as_token = TTRESTService(tt_auth=token, tt_base=base_url)
    me = call(as_token, "who_am_i", expect=200)
    check_fields("who_am_i", me, {"account": account, "user": user_id, "role": role_id})
    step("who_am_i with the token is the new user")

    refreshed_validity = round(now + 1800, 3)
    refreshed = call(
        as_token, "refresh_user_token", body={"validity_ts": refreshed_validity}, expect=201
    )
    check(
        {"token", "validity_ts"} <= set(refreshed),
        f"refresh_user_token: expected token and validity_ts in {refreshed}",
    )
    check(
        abs(refreshed["validity_ts"] - refreshed_validity) < 0.01,
        f"refresh_user_token: validity_ts {refreshed['validity_ts']}, expected {refreshed_validity}",
    )
    as_refreshed = TTRESTService(tt_auth=refreshed["token"], tt_base=base_url)
    me = call(as_refreshed, "who_am_i", expect=200)
    check_fields("who_am_i", me, {"user": user_id})
    step("refresh_user_token: the refreshed token works")

    no_refresh = TTRESTService(tt_auth=long_token["token"], tt_base=base_url)
    body = call(
        no_refresh, "refresh_user_token", body={"validity_ts": refreshed_validity}, expect=403
    )
    check_error("refresh_user_token", body, 403535)
    step('refresh_user_token with a token lacking "refresh" -> 403 / 403535')

    # --- revocation ----------------------------------------------------------------------
    deleted = call(admin, "delete_user_secret", user_id, expect=200)
    check_fields("delete_user_secret", deleted, {"user": user_id, "fingerprint": user_secret[-4:]})
    step("delete_user_secret")

    for label, client in [
        ("secret", as_user),
        ("token", as_token),
        ("refreshed token", as_refreshed),
    ]:
        body = call(client, "who_am_i", expect=401)
        check_error("who_am_i", body, 401000)
        step(f"who_am_i with the deleted secret's {label} -> 401 / 401000")

    body = call(admin, "get_user_secret", user_id, expect=404)
    check_error("get_user_secret", body, 404653)
    step("get_user_secret after delete -> 404 / 404653")

    # A new secret replaces the old one and revokes every token minted from it.
    def issue_secret(label, validity_ts=None):
        pin_body = {"validity_ts": validity_ts} if validity_ts else None
        pin = call(admin, "create_user_secret_pin", user_id, body=pin_body, expect=201)["pin"]
        issued = call(anonymous, "create_user_secret", account, pin, expect=201)
        check_fields("create_user_secret", issued, {"user": user_id})
        check(
            validity_ts is None
            if issued["validity_ts"] is None
            else abs(issued["validity_ts"] - validity_ts) < 0.01,
            f"create_user_secret: validity_ts {issued['validity_ts']}, expected {validity_ts}",
        )
        step(f"PIN flow again: {label}")
        return TTRESTService(tt_auth=issued["secret"], tt_base=base_url), issued

    as_user_2, _ = issue_secret("second secret")
    call(as_user_2, "who_am_i", expect=200)
    creator = call(as_user_2, "create_user_token", body={"options": ["create"]}, expect=201)
    check_fields("create_user_token", creator, {"options": ["create"], "validity_ts": None})
    as_creator = TTRESTService(tt_auth=creator["token"], tt_base=base_url)
    child = call(as_creator, "create_user_token", expect=201)
    as_child = TTRESTService(tt_auth=child["token"], tt_base=base_url)
    check_fields("who_am_i", call(as_child, "who_am_i", expect=200), {"user": user_id})
    step('a token with "create" mints another token')

    body = call(as_child, "create_user_token", expect=403)
    check_error("create_user_token", body, 403535)
    step('a token without "create" cannot mint tokens -> 403 / 403535')

    third_validity = round(now + 24 * 3600, 3)
    as_user_3, third = issue_secret(
        "third secret (PIN with validity_ts) replaces the second", third_validity
    )
    for label, client in [("secret", as_user_2), ("token", as_creator), ("child token", as_child)]:
        body = call(client, "who_am_i", expect=401)
        check_error("who_am_i", body, 401000)
        step(f"who_am_i with the replaced secret's {label} -> 401 / 401000")
    call(as_user_3, "who_am_i", expect=200)
    token_3 = call(as_user_3, "create_user_token", expect=201)
    check_fields("create_user_token", token_3, {"options": [], "validity_ts": third["validity_ts"]})
    as_token_3 = TTRESTService(tt_auth=token_3["token"], tt_base=base_url)
    call(as_token_3, "who_am_i", expect=200)
    step("the third secret and its token (valid as long as the secret) work")

    body = call(admin, "delete_user_role", role_id, expect=400)
    check_error("delete_user_role", body, 400897)
    step("delete_user_role while a user has it -> 400 / 400897")

    deleted_user = call(admin, "delete_user", user_id, expect=200)
    check_fields("delete_user", deleted_user, {"uuid": user_id, "name": "first user"})
    step("delete_user")

    for label, client in [("secret", as_user_3), ("token", as_token_3)]:
        body = call(client, "who_am_i", expect=401)
        check_error("who_am_i", body, 401000)
        step(f"who_am_i with the deleted user's {label} -> 401 / 401000")

    body = call(admin, "get_user", user_id, expect=404)
    check_error("get_user", body, 404653)
    step("get_user after delete -> 404 / 404653")

    deleted_role = call(admin, "delete_user_role", role_id, expect=200)
    check_fields("delete_user_role", deleted_role, {"uuid": role_id, "name": "Token minter 2"})
    body = call(admin, "get_user_role", role_id, expect=404)
    check_error("get_user_role", body, 404653)
    step("delete_user_role, then get_user_role -> 404 / 404653")

    # --- account -------------------------------------------------------------------------
    account_body = call(admin, "get_account", expect=200)
    check_keys(
        "get_account", account_body, ["uuid", "resource_access_log", "created_ts", "updated_ts"]
    )
    check_fields("get_account", account_body, {"uuid": account})
    step("get_account")

    log_config = {"access_log": {"rule": "True", "dimensions": {"twin": "{TWIN.uuid}"}}}
    account_body = call(
        admin, "update_account", body={"resource_access_log": log_config}, expect=200
    )
    check_fields(
        "update_account", account_body, {"uuid": account, "resource_access_log": log_config}
    )
    account_body = call(admin, "update_account", body={"resource_access_log": None}, expect=200)
    check_fields("update_account", account_body, {"resource_access_log": None})
    step("update_account: resource_access_log set and cleared")

    # --- PIN brute force -----------------------------------------------------------------
    # One failure so far (the second redemption of a used PIN); the limit is 10 per account.
    statuses = []
    for attempt in range(12):
        status, text = anonymous.create_user_secret(
            account, f"WRONG{attempt}", retries=RETRIES, timeout=HTTP_TIMEOUT
        )
        statuses.append(status)
        if status == 429:
            check_error("create_user_secret", json.loads(text), 429000)
            break
        check(status == 404, f"create_user_secret with a wrong PIN: {status} {text}")
    check(statuses[-1] == 429, f"wrong PINs never got 429: {statuses}")
    step(f"wrong PINs: {len(statuses) - 1} x 404, then 429 / 429000")


def main():
    args = sys.argv[1:]
    base_url = args[0] if len(args) > 0 else os.environ.get("STEWARD_BASE_URL")
    admin_secret = args[1] if len(args) > 1 else os.environ.get("STEWARD_ADMIN_SECRET")
    if not base_url or not admin_secret:
        print("usage: tt_client_flow.py BASE_URL ADMIN_SECRET", file=sys.stderr)
        return 2
    try:
        run(base_url.rstrip("/"), admin_secret)
    except Mismatch as mismatch:
        print(f"FAIL {mismatch}", flush=True)
        return 1
    print("all steps passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
