"""Drives entry history and reference entries of a running Steward server with the official
Trusted Twin client.

Usage: python tt_client_history.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET
       COURIER_ACCOUNT COURIER_USER

The shop/courier story: the shop keeps history of its order's `delivery_address` (visible to
the courier) and `invoice` (private). The courier reads the address history and is told the
invoice is not accessible; references written by either side resolve only to what the reader
may see, through `get_twin_ledger_entry`, `get_twin_ledger_entry_value` and history.
"""

import json
import sys
import time

from trustedtwin.tt_api import TTRESTService

from tt_client_flow import Mismatch, call, check, check_error, check_fields, step

NOT_ACCESSIBLE = "Entry not accessible."


def check_never_invoice(operation, body):
    check("120.5" not in json.dumps(body) and "99.9" not in json.dumps(body),
          f"{operation}: the courier sees the shop's private invoice: {body}")


def run(base_url, shop_secret, shop_account, courier_secret, courier_account, courier_user):
    shop = TTRESTService(tt_auth=shop_secret, tt_base=base_url)
    courier = TTRESTService(tt_auth=courier_secret, tt_base=base_url)

    order = call(shop, "create_twin", body={"description": {"kind": "order"}},
                 expect=201)["creation_certificate"]["uuid"]
    role = call(courier, "create_user_role",
                body={"name": "Partner",
                      "rules": {"twin_rule": "TWIN.kind == 'order'", "entry_rule": "true"}},
                expect=201)
    call(courier, "update_user", courier_user, body={"role": role["uuid"]}, expect=200)
    shop_user = call(shop, "who_am_i", expect=200)["user"]
    shop_role = call(shop, "create_user_role",
                     body={"name": "Partner",
                           "rules": {"twin_rule": "TWIN.kind == 'order'", "entry_rule": "true"}},
                     expect=201)
    call(shop, "update_user", shop_user, body={"role": shop_role["uuid"]}, expect=200)
    step(f"order {order}; both roles see orders and let entry visibility decide")

    # --- history -------------------------------------------------------------------------
    call(shop, "add_twin_ledger_entry", order, body={"entries": {
        "delivery_address": {"value": {"city": "Gdansk"}, "history": "3M",
                             "visibility": f"account == '{courier_account}'"},
        "invoice": {"value": {"total": 120.5}, "history": "INF"},
    }}, expect=201)
    time.sleep(0.01)
    call(shop, "update_twin_ledger_entry_value", order, body={"entries": {
        "delivery_address": {"value": {"city": "Sopot"}},
        "invoice": {"value": {"total": 99.9}},
    }}, expect=200)
    own = call(shop, "get_twin_ledger_entry_history", order, expect=200)["entries"]
    check(set(own) == {"delivery_address", "invoice"}, f"history entries: {own}")
    cities = [value["city"] for value in own["delivery_address"].values()]
    check(sorted(cities) == ["Gdansk", "Sopot"], f"address history: {own['delivery_address']}")
    newest = max(own["delivery_address"], key=float)
    check(own["delivery_address"][newest] == {"city": "Sopot"},
          f"newest record is the last value: {own['delivery_address']}")
    step("get_twin_ledger_entry_history: one record per value change, keyed by timestamp")

    limited = call(shop, "get_twin_ledger_entry_history", order,
                   params={"entries": "invoice", "limit": 1}, expect=200)["entries"]
    check(list(limited["invoice"].values()) == [{"total": 99.9}], f"limit=1: {limited}")
    ge = float(newest)
    bounded = call(shop, "get_twin_ledger_entry_history", order,
                   params={"entries": "delivery_address", "ge": ge}, expect=200)["entries"]
    check(list(bounded["delivery_address"].values()) == [{"city": "Sopot"}], f"ge: {bounded}")
    step("history limit and ge narrow the records")

    foreign = call(courier, "get_twin_ledger_entry_history", order, "owner",
                   params={"entries": ["delivery_address", "invoice"]}, expect=200)
    check(foreign["entries"]["invoice"] == NOT_ACCESSIBLE, f"invoice history: {foreign}")
    check(len(foreign["entries"]["delivery_address"]) == 2, f"address history: {foreign}")
    check_never_invoice("get_twin_ledger_entry_history", foreign)
    listed = call(courier, "get_twin_ledger_entry_history", order, shop_account, expect=200)
    check(set(listed["entries"]) == {"delivery_address"}, f"listed history: {listed}")
    step("courier: address history readable, invoice 'Entry not accessible.'")

    for params in ({"limit": 0}, {"limit": 5000}, {"ge": "yesterday"}, {"when": 1}):
        body = call(shop, "get_twin_ledger_entry_history", order, params=params, expect=400)
        check_error("get_twin_ledger_entry_history", body, 400589)
    step("bad history queries -> 400 / 400589")

    # --- references ----------------------------------------------------------------------
    call(courier, "add_twin_ledger_entry", order, body={"entries": {
        "delivery_status": {"value": "picked up", "visibility": "true"},
        "address": {"ref": {"source": f"twin://{order}/{shop_account}/delivery_address"}},
        "peek": {"ref": {"source": f"twin://{order}/{shop_account}/invoice"}},
    }}, expect=201)
    mine = call(courier, "get_twin_ledger_entry", order, expect=200)["entries"]
    check(mine["address"]["value"] == {"city": "Sopot"}, f"address reference: {mine}")
    check(mine["address"]["ref"]["status"] == "ok", f"address reference: {mine}")
    check(mine["peek"]["value"] is None and mine["peek"]["ref"]["status"] == "no_access",
          f"invoice reference: {mine['peek']}")
    check_never_invoice("get_twin_ledger_entry", mine)
    values = call(courier, "get_twin_ledger_entry_value", order,
                  params={"entries": "address,peek"}, expect=200)["entries"]
    check(values["address"]["value"] == {"city": "Sopot"} and values["peek"]["value"] is None,
          f"reference values: {values}")
    step("courier references: address resolves, invoice reference says no_access")

    call(shop, "add_twin_ledger_entry", order, body={"entries": {
        "courier_status": {"ref": {"source": f"twin://{order}/{courier_account}/delivery_status"}},
        "invoice_copy": {"ref": {"source": f"twin://{order}/{shop_account}/invoice"},
                         "visibility": "true"},
    }}, expect=201)
    own = call(shop, "get_twin_ledger_entry", order, expect=200)["entries"]
    check_fields("get_twin_ledger_entry", own["courier_status"], {"value": "picked up"})
    check(own["invoice_copy"]["value"] == {"total": 99.9}, f"own copy: {own['invoice_copy']}")
    seen = call(courier, "get_twin_ledger_entry", order, "owner", expect=200)["entries"]
    check(seen["invoice_copy"]["value"] is None
          and seen["invoice_copy"]["ref"]["status"] == "no_access",
          f"the shop's visible reference to its invoice: {seen['invoice_copy']}")
    check_never_invoice("get_twin_ledger_entry", seen)
    step("shop references: the courier's status resolves; a visible reference to the invoice "
         "stays empty for the courier")

    body = call(shop, "add_twin_ledger_entry", order,
                body={"entries": {"bad": {"ref": {"source": "https://example.com/x"}}}},
                expect=400)
    check_error("add_twin_ledger_entry", body, 400589)
    body = call(shop, "update_twin_ledger_entry_value", order,
                body={"entries": {"courier_status": {"value": "forged"}}}, expect=400)
    check_error("update_twin_ledger_entry_value", body, 400897)
    step("bad sources -> 400589; values on references -> 400897")

    # --- every ledger error sub-code through the client ----------------------------------
    for label, body in [
        ("entry name with capitals", {"entries": {"Bad Name": {"value": 1}}}),
        ("history 7d", {"entries": {"x": {"value": 1, "history": "7d"}}}),
        ("rule that does not parse", {"entries": {"x": {"value": 1, "visibility": "1 +"}}}),
        ("condition that does not parse",
         {"entries": {"x": {"value": 1}}, "conditions": {"x": "=="}}),
        ("value and ref", {"entries": {"x": {"value": 1, "ref": {"source": "twin://a/b/c"}}}}),
    ]:
        answer = call(shop, "add_twin_ledger_entry", order, body=body, expect=400)
        check_error(f"add_twin_ledger_entry ({label})", answer, 400589)
    step("bad entry name, history, rule, condition, two contents -> 400 / 400589")

    answer = call(shop, "add_twin_ledger_entry", order,
                  body={"entries": {"x": {"value": 1}}, "conditions": {"x": "entry_value == 5"}},
                  expect=400)
    check_error("add_twin_ledger_entry (condition not met)", answer, 400592)
    answer = call(shop, "add_twin_ledger_entry", order,
                  body={"entries": {"invoice": {"value": 1}}}, expect=400)
    check_error("add_twin_ledger_entry (existing entry)", answer, 400358)
    answer = call(shop, "update_twin_ledger_entry", order,
                  body={"entries": {"invoice": {"ref": {"source": f"twin://{order}/{shop_account}/x"}}}},
                  expect=400)
    check_error("update_twin_ledger_entry (value -> ref)", answer, 400897)
    step("false condition on add -> 400592; existing entry -> 400358; type change -> 400897")

    chunk = "x" * 30000
    call(shop, "add_twin_ledger_entry", order, body={"entries": {"big1": {"value": chunk}}},
         expect=201)
    call(shop, "add_twin_ledger_entry", order, body={"entries": {"big2": {"value": chunk}}},
         expect=201)
    answer = call(shop, "add_twin_ledger_entry", order,
                  body={"entries": {"big3": {"value": chunk}}}, expect=400)
    check_error("add_twin_ledger_entry (ledger over 64 kB)", answer, 400141)
    answer = call(shop, "add_twin_ledger_entry", order,
                  body={"entries": {"huge": {"value": "y" * 70000}}}, expect=400)
    check_error("add_twin_ledger_entry (body over 64 kB)", answer, 400141)
    call(shop, "delete_twin_ledger_entry", order, params={"entries": "big1,big2"}, expect=200)
    step("a ledger or a body over 64 kB -> 400 / 400141")

    hidden = call(shop, "create_twin", body={"description": {"kind": "warehouse"}},
                  expect=201)["creation_certificate"]["uuid"]
    answer = call(courier, "get_twin_ledger_entry_history", hidden, "owner", expect=403)
    check_error("get_twin_ledger_entry_history (hidden twin)", answer, 403535)
    answer = call(courier, "get_twin_ledger_entry_history",
                  "00000000-0000-4000-8000-000000000000", expect=404)
    check_error("get_twin_ledger_entry_history (unknown twin)", answer, 404653)
    answer = call(courier, "add_twin_ledger_entry", order, shop_account,
                  body={"entries": {"planted": {"value": 1}}}, expect=403)
    check_error("add_twin_ledger_entry (the shop's ledger)", answer, 403535)
    step("history of a hidden twin -> 403535, of an unknown twin -> 404653; writing the "
         "shop's ledger -> 403535")


def main():
    args = sys.argv[1:]
    if len(args) != 6:
        print(
            "usage: tt_client_history.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET "
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
