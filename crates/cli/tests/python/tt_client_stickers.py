"""Drives stickers of a running Steward server with the official Trusted Twin client.

Usage: python tt_client_stickers.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET
       COURIER_ACCOUNT COURIER_USER

The shop/courier story of docs/stickers.md: the shop puts a "ready-for-pickup" sticker on its
order twin for the courier's account; the courier finds it (`get_stickers`, `list_stickers`),
reads it (`get_sticker`) and takes the job by removing it (`remove_sticker`); a second removal
finds nothing. Every step prints one line; the first mismatch prints what was sent, what was
expected and what came back, and exits with status 1.

Query parameters go through the client's `params=` (passed on to `requests`): a list arrives as
a repeated parameter, which Steward accepts like a comma-separated one.
"""

import sys
import time

from trustedtwin.tt_api import TTRESTService

from tt_client_flow import Mismatch, call, check, check_error, check_fields, check_keys, step

COLOR = "ready-for-pickup"


def run(base_url, shop_secret, shop_account, courier_secret, courier_account, courier_user):
    shop = TTRESTService(tt_auth=shop_secret, tt_base=base_url)
    courier = TTRESTService(tt_auth=courier_secret, tt_base=base_url)

    # --- the order and the courier's role ------------------------------------------------
    twin = call(shop, "create_twin", body={"description": {"kind": "order"}}, expect=201)
    order = twin["creation_certificate"]["uuid"]
    role = call(
        courier,
        "create_user_role",
        body={"name": "Partner", "rules": {"twin_rule": "TWIN.kind == 'order'"}},
        expect=201,
    )
    call(courier, "update_user", courier_user, body={"role": role["uuid"]}, expect=200)
    call(courier, "get_twin", order, expect=200)
    step(f"the shop's order {order[:8]} is visible to the courier (twin_rule on kind)")

    # --- put -----------------------------------------------------------------------------
    validity = round(time.time() + 3600, 3)
    publish = {"on_put": ["pickups"], "on_remove": "pickups-taken"}
    put = call(
        shop,
        "put_sticker",
        order,
        body={"stickers": {COLOR: {
            "note": "parcel at the back door",
            "recipients": [courier_account],
            "validity_ts": validity,
            "publish": publish,
        }}},
        expect=201,
    )
    check_keys("put_sticker", put, ["stickers"])
    stored = put["stickers"][COLOR]
    check_fields("put_sticker", stored, {
        "note": "parcel at the back door",
        "recipients": [courier_account],
        "validity_ts": validity,
        "publish": publish,
    })
    created = stored["created_ts"]
    check(isinstance(created, float) and abs(created - time.time()) < 300,
          f"put_sticker: created_ts is not now: {stored}")
    step("shop put_sticker ready-for-pickup for the courier's account -> 201")

    # --- the courier finds it ------------------------------------------------------------
    summary = {"note": "parcel at the back door", "validity_ts": validity, "created_ts": created}
    expected_on_twin = {"accounts": {shop_account: {COLOR: summary}}}
    found = call(courier, "get_stickers", order, expect=200)
    check(found == expected_on_twin, f"get_stickers: {found}, expected {expected_on_twin}")
    found = call(courier, "get_stickers", order, params={"context": [shop_account]}, expect=200)
    check(found == expected_on_twin, f"get_stickers context=[shop]: {found}")
    found = call(courier, "get_stickers", order, params={"context": "personal"}, expect=200)
    check(found == {"accounts": {}}, f"get_stickers context=personal: {found}")
    step("courier get_stickers (system, [shop account], personal): the shop's sticker only "
         "where the context includes the shop")

    shop_view = call(shop, "get_stickers", order, expect=200)
    check(shop_view == {"accounts": {}}, f"the shop sees a sticker it did not address to "
                                         f"itself: {shop_view}")
    step("the shop did not list itself among the recipients: it sees nothing")

    listed = call(courier, "list_stickers", expect=200)
    check(listed == {"stickers": []}, f"list_stickers default context personal: {listed}")
    item = {"twin": order, "account": shop_account, "color": COLOR, **summary}
    for params in [
        {"context": "system"},
        {"context": [shop_account], "color": COLOR, "limit": 10, "offset": 0},
        {"context": f"personal,{shop_account}", "ge": created, "le": created},
    ]:
        listed = call(courier, "list_stickers", params=params, expect=200)
        check(listed == {"stickers": [item]}, f"list_stickers {params}: {listed}")
    listed = call(courier, "list_stickers", params={"context": "system", "offset": 1},
                  expect=200)
    check(listed == {"stickers": []}, f"list_stickers offset=1: {listed}")
    step("courier list_stickers: none by default (personal), the sticker with system, the shop "
         "account, colour, ge/le and limit")

    sticker = call(courier, "get_sticker", order, COLOR, params={"context": shop_account},
                   expect=200)
    check(sticker == {"account": shop_account, **summary},
          f"get_sticker: {sticker}, expected the shop's sticker without its configuration")
    body = call(courier, "get_sticker", order, COLOR, expect=404)
    check_error("get_sticker", body, 404653)
    body = call(shop, "get_sticker", order, COLOR, expect=404)
    check_error("get_sticker", body, 404653)
    step("courier get_sticker with context=shop account; without it (personal) and for the "
         "shop -> 404 / 404653")

    # --- the courier takes the job -------------------------------------------------------
    removed = call(courier, "remove_sticker", order, COLOR, params={"context": shop_account},
                   expect=200)
    check(removed == {"account": shop_account, **summary}, f"remove_sticker: {removed}")
    body = call(courier, "remove_sticker", order, COLOR, params={"context": shop_account},
                expect=404)
    check_error("remove_sticker", body, 404653)
    check(body["description"] == "sticker not found", f"remove_sticker: {body}")
    listed = call(courier, "list_stickers", params={"context": "system"}, expect=200)
    check(listed == {"stickers": []}, f"list_stickers after removal: {listed}")
    step("courier remove_sticker -> 200 with the sticker; again -> 404 / 404653; gone")

    # --- the shop addresses itself too ---------------------------------------------------
    put = call(shop, "put_sticker", order,
               body={"stickers": {"invoice-due": {"recipients": [shop_account, courier_user]}}},
               expect=201)
    default_validity = put["stickers"]["invoice-due"]["validity_ts"]
    check(abs(default_validity - put["stickers"]["invoice-due"]["created_ts"]
              - 365 * 24 * 3600) < 0.001,
          f"put_sticker: the default validity is not one year: {put}")
    own = call(shop, "get_sticker", order, "invoice-due", expect=200)
    check_fields("get_sticker", own, {"account": shop_account, "note": "",
                                      "recipients": [shop_account, courier_user],
                                      "publish": None})
    step("a sticker the shop addresses to itself: get_sticker shows recipients and publish; "
         "validity defaults to one year")

    # --- bad input -----------------------------------------------------------------------
    good = {"recipients": [courier_account]}
    for label, body in [
        ("colour too short", {"stickers": {"re": good}}),
        ("note over 512 characters", {"stickers": {"red": {**good, "note": "n" * 513}}}),
        ("recipient not a uuid", {"stickers": {"red": {"recipients": ["courier"]}}}),
        ("no recipients", {"stickers": {"red": {"recipients": []}}}),
        ("validity in the past", {"stickers": {"red": {**good, "validity_ts": time.time() - 5}}}),
        ("validity beyond a year",
         {"stickers": {"red": {**good, "validity_ts": time.time() + 400 * 24 * 3600}}}),
        ("unknown publish event", {"stickers": {"red": {**good, "publish": {"on_read": "t-1"}}}}),
    ]:
        answer = call(shop, "put_sticker", order, body=body, expect=400)
        check_error(f"put_sticker ({label})", answer, 400589)
    step("put_sticker with a short colour, long note, bad or no recipients, past or far "
         "validity, unknown publish event -> 400 / 400589")

    for params in [{"limit": 101}, {"limit": 0}, {"context": "everyone"}, {"offset": "x"}]:
        answer = call(courier, "list_stickers", params=params, expect=400)
        check_error(f"list_stickers {params}", answer, 400589)
    answer = call(courier, "remove_sticker", order, COLOR, params={"context": "system"},
                  expect=400)
    check_error("remove_sticker context=system", answer, 400589)
    answer = call(courier, "get_stickers", "not-a-uuid", expect=400)
    check_error("get_stickers not-a-uuid", answer, 400589)
    answer = call(courier, "get_stickers", "00000000-0000-4000-8000-000000000000", expect=404)
    check_error("get_stickers unknown twin", answer, 404653)
    step("list_stickers limit 101/0, bad context or offset, remove_sticker context=system, "
         "malformed twin -> 400 / 400589; unknown twin -> 404 / 404653")

    many = [courier_account] + [f"00000000-0000-4000-8000-{index:012d}" for index in range(100)]
    for label, body in [
        ("101 recipients", {"stickers": {"red": {"recipients": many}}}),
        ("colour over 48 characters", {"stickers": {"r" * 49: good}}),
        ("colour with a space", {"stickers": {"red one": good}}),
        ("publish not an object", {"stickers": {"red": {**good, "publish": "t-1"}}}),
        ("bad publish topic", {"stickers": {"red": {**good, "publish": {"on_put": "a b"}}}}),
        ("note not a string", {"stickers": {"red": {**good, "note": 5}}}),
    ]:
        answer = call(shop, "put_sticker", order, body=body, expect=400)
        check_error(f"put_sticker ({label})", answer, 400589)
    for params in [{"offset": 10001}, {"ge": "yesterday"}, {"color": ["red", "blue"]}]:
        answer = call(courier, "list_stickers", params=params, expect=400)
        check_error(f"list_stickers {params}", answer, 400589)
    step("put_sticker with 101 recipients, bad colours, bad publish or note; list_stickers "
         "offset 10001, bad ge, repeated colour -> 400 / 400589")

    hidden = call(shop, "create_twin", body={"description": {"kind": "warehouse"}},
                  expect=201)["creation_certificate"]["uuid"]
    call(shop, "put_sticker", hidden, body={"stickers": {COLOR: good}}, expect=201)
    for operation, args, kwargs in [
        ("put_sticker", (hidden,), {"body": {"stickers": {"blue": {"recipients": [shop_account]}}}}),
        ("get_stickers", (hidden,), {}),
        ("get_sticker", (hidden, COLOR), {"params": {"context": shop_account}}),
        ("remove_sticker", (hidden, COLOR), {"params": {"context": shop_account}}),
    ]:
        answer = call(courier, operation, *args, expect=403, **kwargs)
        check_error(f"{operation} on a hidden twin", answer, 403535)
    step("sticker operations on a twin the courier may not see -> 403 / 403535")


def main():
    args = sys.argv[1:]
    if len(args) != 6:
        print(
            "usage: tt_client_stickers.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET "
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
