"""Drives usage, the account log and traces of a running Steward server with the official
Trusted Twin client.

Usage: python tt_client_usage.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET
       COURIER_ACCOUNT COURIER_USER

The shop makes a few requests and reads its user's usage (`get_user_usage`: exact counts, as the
account is fresh), the courier cannot read the shop's user, the account-level usage
(`get_account_usage`) answers the current hour, a trace (`trace`) answers 201 `{}` and its stage
messages appear in the account log (`get_log`, followed by `fragment`), and a malformed fragment
is 400 / 400589. Every step prints one line; the first mismatch prints what was sent, what was
expected and what came back, and exits with status 1.
"""

import re
import sys
import time

from trustedtwin.tt_api import TTRESTService

from tt_client_flow import Mismatch, call, check, check_error, check_keys, step

BUCKET = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{2}$")
STAGES = ["received", "store", "webhooks", "audit", "completed"]


def total(usage, counter):
    """The sum of a counter over the buckets of a usage answer."""
    return sum(bucket.get(counter, 0) for bucket in usage["usage"].values())


def check_usage_shape(operation, usage):
    check_keys(operation, usage, ["usage"])
    buckets = usage["usage"]
    check(1 <= len(buckets) <= 2, f"{operation}: expected one or two hours, got {usage}")
    for key, counters in buckets.items():
        check(BUCKET.match(key), f"{operation}: `{key}` is not a YYYY-MM-DD-HH bucket")
        check(isinstance(counters, dict), f"{operation}: bucket `{key}` is not an object")
        for name, value in counters.items():
            check(isinstance(value, int), f"{operation}: `{name}` is not a number: {usage}")


def whole_log(client, fragment=None):
    """Every message after `fragment`, following fragments; returns (messages, last fragment)."""
    messages = []
    while True:
        params = {"fragment": fragment} if fragment else None
        page = call(client, "get_log", params=params, expect=200)
        check_keys("get_log", page, ["fragment", "messages"])
        if not page["messages"]:
            check(
                fragment is None or page["fragment"] == fragment,
                f"get_log: an empty page changed the fragment: {page}",
            )
            return messages, page["fragment"]
        messages.extend(page["messages"])
        fragment = page["fragment"]


def run(base_url, shop_secret, shop_account, courier_secret, courier_account, courier_user):
    shop = TTRESTService(tt_auth=shop_secret, tt_base=base_url)
    courier = TTRESTService(tt_auth=courier_secret, tt_base=base_url)

    # --- user usage: exact counts for a fresh account ---------------------------------------
    me = call(shop, "who_am_i", expect=200)
    shop_user = me["user"]
    twin = call(shop, "create_twin", body={"description": {"kind": "order"}}, expect=201)
    call(shop, "get_twin", twin["creation_certificate"]["uuid"], expect=200)
    usage = call(shop, "get_user_usage", shop_user, expect=200)
    check_usage_shape("get_user_usage", usage)
    expected = {
        "request_count": 3,
        "rest_count": 3,
        "db_read_cost": 2,
        "db_write_cost": 1,
        "twins_created": 1,
    }
    for counter, value in expected.items():
        check(
            total(usage, counter) == value,
            f"get_user_usage: `{counter}` is {total(usage, counter)}, expected {value}: {usage}",
        )
    step(f"get_user_usage counts the shop's three requests exactly: {usage['usage']}")

    usage = call(shop, "get_user_usage", shop_user, expect=200)
    check(total(usage, "request_count") == 4, f"get_user_usage: the read is counted: {usage}")
    step("the usage read itself is counted after it answered")

    body = call(courier, "get_user_usage", shop_user, expect=404)
    check_error("get_user_usage", body, 404653)
    step("the courier cannot read the usage of the shop's user -> 404 / 404653")

    account_usage = call(shop, "get_account_usage", expect=200)
    check_usage_shape("get_account_usage", account_usage)
    check(
        total(account_usage, "request_count") == 0,
        f"get_account_usage: user requests are not account-level usage: {account_usage}",
    )
    step("get_account_usage answers the hourly buckets of account-level usage")

    # --- log and trace ------------------------------------------------------------------------
    before, fragment = whole_log(shop)
    check(before == [], f"get_log: a fresh account's log is empty, got {before}")
    step("a fresh account's log is empty")

    traced = call(shop, "trace", expect=201)
    check(traced == {}, f"trace: expected {{}}, got {traced}")
    step("trace answers 201 {}")

    deadline = time.time() + 20
    messages = []
    while time.time() < deadline:
        new, fragment = whole_log(shop, fragment)
        messages.extend(new)
        if any(" completed: " in message for message in messages):
            break
        time.sleep(0.1)
    stages = []
    for message in messages:
        match = re.match(r"^\S+Z INFO trace \S+ (\w+): ", message)
        check(match, f"get_log: not a trace message: {message!r}")
        stages.append(match.group(1))
    check(stages == STAGES, f"get_log: trace stages are {stages}, expected {STAGES}: {messages}")
    step(f"the trace's stages appear in the log: {', '.join(stages)}")

    again, same = whole_log(shop, fragment)
    check(again == [] and same == fragment, f"get_log: nothing new after the fragment: {again}")
    step("the last fragment continues after the last message")

    body = call(shop, "get_log", params={"fragment": "not a fragment!"}, expect=400)
    check_error("get_log", body, 400589)
    step("a malformed fragment -> 400 / 400589")

    courier_log, _ = whole_log(courier)
    check(courier_log == [], f"get_log: the courier's log is its own, got {courier_log}")
    step("another account's log is its own")


def main():
    args = sys.argv[1:]
    if len(args) != 6:
        print(
            "usage: tt_client_usage.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET "
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
