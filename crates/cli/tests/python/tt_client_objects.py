"""Drives twins and ledgers of a running Steward server with the official Trusted Twin client.

Usage: python tt_client_objects.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET
       COURIER_ACCOUNT COURIER_USER

The shop/courier story of docs/shared-objects.md: the shop owns an order twin, the courier sees
only what the shop makes visible to it. Every step prints one line; the first mismatch prints
what was sent, what was expected and what came back, and exits with status 1.

Query parameters go through the client's `params=` (passed on to `requests`): booleans arrive as
`True`/`False`, a list as a repeated parameter.
"""

import json
import sys

from trustedtwin.tt_api import TTRESTService

from tt_client_flow import HTTP_TIMEOUT, Mismatch, call, check, check_error, check_fields, step

ENTRY_TIMESTAMPS = {"entry_created_ts", "entry_updated_ts", "value_changed_ts"}


def check_entry_names(operation, body, names):
    """`body` is `{"entries": {...}}` (plus ledger timestamps) holding exactly `names`."""
    check(isinstance(body, dict) and isinstance(body.get("entries"), dict),
          f"{operation}: expected {{\"entries\": {{...}}}}, got {body!r}")
    check(set(body["entries"]) == set(names),
          f"{operation}: entries are {sorted(body['entries'])}, expected {sorted(names)}: {body}")


def check_never_invoice(operation, body):
    check("invoice" not in json.dumps(body) and "120.5" not in json.dumps(body),
          f"{operation}: the courier sees the shop's private invoice: {body}")


def run(base_url, shop_secret, shop_account, courier_secret, courier_account, courier_user):
    shop = TTRESTService(tt_auth=shop_secret, tt_base=base_url)
    shop_user = call(shop, "who_am_i", expect=200)["user"]
    courier = TTRESTService(tt_auth=courier_secret, tt_base=base_url)

    # --- twins ---------------------------------------------------------------------------
    twin = call(shop, "create_twin", body={"description": {"kind": "order"}}, expect=201)
    check_fields("create_twin", twin, {"status": "alive", "owner": shop_account,
                                       "description": {"kind": "order"}})
    check("termination_certificate" not in twin, f"create_twin: terminated? {twin}")
    certificate = twin["creation_certificate"]
    check_fields("create_twin", certificate, {"creator": shop_account})
    order = certificate["uuid"]
    step(f"create_twin: order {order}")

    fetched = call(shop, "get_twin", order, expect=200)
    check(fetched == twin, f"get_twin: {fetched} differs from created {twin}")
    step("get_twin returns the created twin")

    bare = call(shop, "create_twin", expect=201)
    check("description" not in bare, f"create_twin without body: description in {bare}")
    step("create_twin without a body: no description")

    body = call(shop, "get_twin", "00000000-0000-4000-8000-000000000000", expect=404)
    check_error("get_twin", body, 404653)
    step("get_twin of an unknown twin -> 404 / 404653")

    body = call(courier, "get_twin", order, expect=403)
    check_error("get_twin", body, 403535)
    step("the courier without twin rules cannot see the order -> 403 / 403535")

    # --- the courier's role --------------------------------------------------------------
    role = call(
        courier,
        "create_user_role",
        body={"name": "Partner",
              "rules": {"twin_rule": "TWIN.kind == 'order'", "entry_rule": "true"}},
        expect=201,
    )
    call(courier, "update_user", courier_user, body={"role": role["uuid"]}, expect=200)
    seen = call(courier, "get_twin", order, expect=200)
    check_fields("get_twin", seen, {"owner": shop_account, "description": {"kind": "order"}})
    step("courier role with twin_rule TWIN.kind == 'order': the order is visible")

    body = call(courier, "get_twin", bare["creation_certificate"]["uuid"], expect=403)
    check_error("get_twin", body, 403535)
    step("a twin without kind stays hidden from the courier -> 403 / 403535")

    # --- the shop's entries --------------------------------------------------------------
    visible_to_courier = f"account == '{courier_account}'"
    added = call(
        shop,
        "add_twin_ledger_entry",
        order,
        body={"entries": {
            "delivery_address": {"value": "Main 1, Gdansk", "visibility": visible_to_courier},
            "invoice": {"value": {"total": 120.5}},
        }},
        expect=201,
    )
    check_entry_names("add_twin_ledger_entry", added, ["delivery_address", "invoice"])
    check_fields("add_twin_ledger_entry", added["entries"]["delivery_address"],
                 {"value": "Main 1, Gdansk", "visibility": visible_to_courier})
    check_fields("add_twin_ledger_entry", added["entries"]["invoice"],
                 {"value": {"total": 120.5}, "visibility": None})
    check(ENTRY_TIMESTAMPS <= set(added["entries"]["invoice"]),
          f"add_twin_ledger_entry: timestamps missing in {added}")
    step("add_twin_ledger_entry (default ledger personal): delivery_address and invoice")

    body = call(shop, "add_twin_ledger_entry", order,
                body={"entries": {"invoice": {"value": 1}}}, expect=400)
    check_error("add_twin_ledger_entry", body, 400358)
    step("adding an existing entry -> 400 / 400358")

    own = call(shop, "get_twin_ledger_entry", order, expect=200)
    check_entry_names("get_twin_ledger_entry", own, ["delivery_address", "invoice"])
    check_fields("get_twin_ledger_entry", own["entries"]["invoice"], {"value": {"total": 120.5}})
    step("the shop reads its personal ledger with both entries")

    # --- the courier reads the shop's ledger ---------------------------------------------
    for ledger in ["owner", shop_account, "creator"]:
        read = call(courier, "get_twin_ledger_entry", order, ledger, expect=200)
        check_entry_names("get_twin_ledger_entry", read, ["delivery_address"])
        check_never_invoice("get_twin_ledger_entry", read)
        entry = read["entries"]["delivery_address"]
        check(entry.get("value") == "Main 1, Gdansk", f"get_twin_ledger_entry: {read}")
        check("visibility" not in entry, f"get_twin_ledger_entry: config shown to courier {read}")
        step(f"courier get_twin_ledger_entry ledger={ledger[:8]}: delivery_address only")

    for label, params in [
        ("comma-separated", {"entries": "delivery_address,invoice"}),
        ("repeated", {"entries": ["delivery_address", "invoice"]}),
        ("only invoice", {"entries": "invoice"}),
    ]:
        expected = [] if label == "only invoice" else ["delivery_address"]
        read = call(courier, "get_twin_ledger_entry", order, "owner", params=params,
                    expect=200)
        check_entry_names("get_twin_ledger_entry", read, expected)
        check_never_invoice("get_twin_ledger_entry", read)
        values = call(courier, "get_twin_ledger_entry_value", order, "owner", params=params,
                      expect=200)
        check_entry_names("get_twin_ledger_entry_value", values, expected)
        check_never_invoice("get_twin_ledger_entry_value", values)
        step(f"courier reads entries and values with entries {label}: never the invoice")

    values = call(courier, "get_twin_ledger_entry_value", order, shop_account, expect=200)
    check_entry_names("get_twin_ledger_entry_value", values, ["delivery_address"])
    check_never_invoice("get_twin_ledger_entry_value", values)
    check_fields("get_twin_ledger_entry_value", values["entries"]["delivery_address"],
                 {"value": "Main 1, Gdansk"})
    check(set(values["entries"]["delivery_address"]) == {"value"} | ENTRY_TIMESTAMPS,
          f"get_twin_ledger_entry_value: fields {values}")
    step("courier get_twin_ledger_entry_value by shop account uuid: value and timestamps")

    own_values = call(shop, "get_twin_ledger_entry_value", order,
                      params={"entries": "invoice"}, expect=200)
    check_entry_names("get_twin_ledger_entry_value", own_values, ["invoice"])
    step("the shop reads its invoice value")

    # --- the courier writes its own ledger, the shop reads it ----------------------------
    visible_to_shop = f"account == '{shop_account}'"
    added = call(
        courier,
        "add_twin_ledger_entry",
        order,
        body={"entries": {
            "delivery_status": {"value": "picked_up", "visibility": visible_to_shop},
            "driver_notes": {"value": "gate code 1234"},
        }},
        expect=201,
    )
    check_entry_names("add_twin_ledger_entry", added, ["delivery_status", "driver_notes"])
    step("courier add_twin_ledger_entry: delivery_status (visible to shop), driver_notes")

    read = call(shop, "get_twin_ledger_entry", order, courier_account, expect=200)
    check_entry_names("get_twin_ledger_entry", read, [])
    step("the shop's role has no entry_rule: no foreign entries (docs/decisions.md)")

    shop_role = call(shop, "create_user_role",
                     body={"name": "Shop", "rules": {"entry_rule": "true"}}, expect=201)
    call(shop, "update_user", shop_user, body={"role": shop_role["uuid"]}, expect=200)
    read = call(shop, "get_twin_ledger_entry", order, courier_account, expect=200)
    check_entry_names("get_twin_ledger_entry", read, ["delivery_status"])
    check_fields("get_twin_ledger_entry", read["entries"]["delivery_status"],
                 {"value": "picked_up"})
    step("the shop reads the courier's ledger: delivery_status only")

    for ledger in ["owner", shop_account]:
        for operation, body in [
            ("add_twin_ledger_entry", {"entries": {"forged": {"value": 1}}}),
            ("update_twin_ledger_entry", {"entries": {"delivery_address": {"value": "x"}}}),
            ("update_twin_ledger_entry_value",
             {"entries": {"delivery_address": {"value": "x"}}}),
        ]:
            answer = call(courier, operation, order, ledger, body=body, expect=403)
            check_error(operation, answer, 403535)
        answer = call(courier, "delete_twin_ledger_entry", order, ledger,
                      params={"entries": "delivery_address"}, expect=403)
        check_error("delete_twin_ledger_entry", answer, 403535)
        step(f"courier writes to the shop's ledger ({ledger[:8]}) -> 403 / 403535")
    still = call(shop, "get_twin_ledger_entry", order, expect=200)
    check(still["entries"]["delivery_address"]["value"] == "Main 1, Gdansk"
          and set(still["entries"]) == {"delivery_address", "invoice"},
          f"the shop's ledger changed after refused writes: {still}")
    step("the shop's ledger is unchanged")

    # --- updates and conditions ----------------------------------------------------------
    before = call(shop, "get_twin_ledger_entry", order, expect=200)["entries"]
    updated = call(
        shop,
        "update_twin_ledger_entry",
        order,
        body={"entries": {"invoice": {"visibility": visible_to_courier}}},
        expect=200,
    )
    check_fields("update_twin_ledger_entry", updated["entries"]["invoice"],
                 {"value": {"total": 120.5}, "visibility": visible_to_courier})
    check(updated["entries"]["invoice"]["value_changed_ts"]
          == before["invoice"]["value_changed_ts"],
          f"update_twin_ledger_entry: value_changed_ts moved without a value change {updated}")
    read = call(courier, "get_twin_ledger_entry", order, "owner", expect=200)
    check_entry_names("get_twin_ledger_entry", read, ["delivery_address", "invoice"])
    step("update_twin_ledger_entry: visibility only; value kept; now the courier sees it")

    updated = call(
        shop,
        "update_twin_ledger_entry",
        order,
        body={"entries": {"invoice": {"visibility": None}}},
        expect=200,
    )
    check_fields("update_twin_ledger_entry", updated["entries"]["invoice"], {"visibility": None})
    read = call(courier, "get_twin_ledger_entry", order, "owner", expect=200)
    check_entry_names("get_twin_ledger_entry", read, ["delivery_address"])
    check_never_invoice("get_twin_ledger_entry", read)
    address = read["entries"]["delivery_address"]
    for key in ENTRY_TIMESTAMPS:
        check(read.get(key) == address[key],
              f"get_twin_ledger_entry: ledger-level `{key}` {read.get(key)} is not that of the "
              f"only visible entry ({address[key]}), so it tells about hidden entries: {read}")
    step("update_twin_ledger_entry: invoice private again; the courier no longer sees it, "
         "not even in the ledger timestamps")

    body = call(
        shop,
        "update_twin_ledger_entry_value",
        order,
        body={"entries": {"invoice": {"value": {"total": 99}}},
              "conditions": {"invoice": "entry_value.total == 1"}},
        expect=400,
    )
    check_error("update_twin_ledger_entry_value", body, 400592)
    body = call(
        shop,
        "update_twin_ledger_entry",
        order,
        body={"entries": {"invoice": {"value": {"total": 99}},
                          "delivery_address": {"value": "Elsewhere 2"}},
              "conditions": {"delivery_address": "true", "invoice": "false"}},
        expect=400,
    )
    check_error("update_twin_ledger_entry", body, 400592)
    body = call(shop, "delete_twin_ledger_entry", order, params={"entries": "invoice"},
                body={"conditions": {"invoice": "entry_value.total == 1"}}, expect=400)
    check_error("delete_twin_ledger_entry", body, 400592)
    after = call(shop, "get_twin_ledger_entry", order, expect=200)["entries"]
    check(after["invoice"]["value"] == {"total": 120.5}
          and after["delivery_address"]["value"] == "Main 1, Gdansk",
          f"a false condition changed the ledger: {after}")
    step("false conditions on value update, update and delete -> 400 / 400592, nothing changed")

    updated = call(
        shop,
        "update_twin_ledger_entry_value",
        order,
        body={"entries": {"invoice": {"value": {"total": 99}}},
              "conditions": {"invoice": "entry_value.total == 120.5"}},
        expect=200,
    )
    check_fields("update_twin_ledger_entry_value", updated["entries"]["invoice"],
                 {"value": {"total": 99}})
    check(updated["entries"]["invoice"]["value_changed_ts"]
          >= after["invoice"]["value_changed_ts"],
          f"update_twin_ledger_entry_value: value_changed_ts went back {updated}")
    step("update_twin_ledger_entry_value with a true condition")

    updated = call(
        shop,
        "update_twin_ledger_entry",
        order,
        body={"entries": {"delivery_address": {"value": "Long 5, Gdansk"}}},
        expect=200,
    )
    check_fields("update_twin_ledger_entry", updated["entries"]["delivery_address"],
                 {"value": "Long 5, Gdansk", "visibility": visible_to_courier})
    values = call(courier, "get_twin_ledger_entry_value", order, "owner",
                  params={"entries": "delivery_address"}, expect=200)
    check_fields("get_twin_ledger_entry_value", values["entries"]["delivery_address"],
                 {"value": "Long 5, Gdansk"})
    step("update_twin_ledger_entry value, visibility kept; the courier reads the new address")

    body = call(shop, "update_twin_ledger_entry", order,
                body={"entries": {"missing": {"value": 1}}}, expect=404)
    check_error("update_twin_ledger_entry", body, 404653)
    step("update_twin_ledger_entry of a missing entry -> 404 / 404653")

    request = {"entries": {"x": {"value": 1}}, "transaction": "t-1"}
    first = call(shop, "add_twin_ledger_entry", order, body=request, expect=201)
    retry = call(shop, "add_twin_ledger_entry", order, body=request, expect=201)
    check(retry == first, f"a retried transaction answers the first result: {retry} != {first}")
    body = call(shop, "add_twin_ledger_entry", order,
                body={"entries": {"y": {"value": 1}}, "transaction": "t-1"}, expect=400)
    check_error("add_twin_ledger_entry", body, 400358)
    body = call(shop, "add_twin_ledger_entry", order,
                body={"entries": {"y": {"value": 1}}, "transaction": 5}, expect=400)
    check_error("add_twin_ledger_entry", body, 400589)
    call(shop, "delete_twin_ledger_entry", order, params={"entries": "x"}, expect=200)
    step("transaction ids: a retry answers the first result; reuse for another request -> 400358")

    source = f"twin://{order}/{courier_account}/delivery_status"
    added = call(shop, "add_twin_ledger_entry", order,
                 body={"entries": {"status_copy": {"ref": {"source": source}}}}, expect=201)
    check_fields("add_twin_ledger_entry", added["entries"]["status_copy"]["ref"],
                 {"source": source, "status": "ok"})
    call(shop, "delete_twin_ledger_entry", order, params={"entries": "status_copy"}, expect=200)
    step("a `ref` entry to the courier's status resolves (tt_client_history.py covers more)")

    # --- deletes -------------------------------------------------------------------------
    deleted = call(courier, "delete_twin_ledger_entry", order,
                   params={"entries": ["driver_notes", "never_written"]}, expect=200)
    check_entry_names("delete_twin_ledger_entry", deleted, ["driver_notes"])
    step("courier delete_twin_ledger_entry (repeated entries): only existing ones returned")

    deleted = call(shop, "delete_twin_ledger_entry", order, params={"entries": "invoice"},
                   body={"conditions": {"invoice": "entry_value.total == 99"}}, expect=200)
    check_entry_names("delete_twin_ledger_entry", deleted, ["invoice"])
    check_fields("delete_twin_ledger_entry", deleted["entries"]["invoice"],
                 {"value": {"total": 99}})
    own = call(shop, "get_twin_ledger_entry", order, expect=200)
    check_entry_names("get_twin_ledger_entry", own, ["delivery_address"])
    step("delete_twin_ledger_entry with a true condition: invoice gone")

    body = call(shop, "delete_twin_ledger_entry", order, expect=400)
    check_error("delete_twin_ledger_entry", body, 400589)
    step("delete_twin_ledger_entry without entries -> 400 / 400589")

    # --- scan ----------------------------------------------------------------------------
    orders = [order]
    for number in range(4):
        created = call(shop, "create_twin",
                       body={"description": {"kind": "order", "n": number}}, expect=201)
        orders.append(created["creation_certificate"]["uuid"])
    bare_id = bare["creation_certificate"]["uuid"]

    scanned = call(shop, "scan_twins", expect=200)
    check(set(scanned) == {"cursor", "twins"}, f"scan_twins: keys {scanned}")
    check(scanned["cursor"] is None, f"scan_twins: cursor {scanned}")
    check(set(scanned["twins"]) == set(orders) | {bare_id}, f"scan_twins: {scanned}")
    step(f"scan_twins: all {len(scanned['twins'])} own twins, cursor null")

    scanned = call(shop, "scan_twins", params={"match": "TWIN.kind == 'order'"}, expect=200)
    check(sorted(scanned["twins"]) == sorted(orders), f"scan_twins match: {scanned}")
    step("scan_twins with match: the orders only")

    paged, cursor, pages = [], None, 0
    while True:
        params = {"count": 2, "match": "TWIN.kind == 'order'"}
        if cursor is not None:
            params["cursor"] = cursor
        page = call(shop, "scan_twins", params=params, expect=200)
        check(len(page["twins"]) <= 2, f"scan_twins count=2: {page}")
        paged.extend(page["twins"])
        pages += 1
        cursor = page["cursor"]
        check(pages < 10, f"scan_twins: paging does not end: {page}")
        if cursor is None:
            break
    check(sorted(paged) == sorted(orders) and len(paged) == len(orders),
          f"scan_twins paging: {paged}, expected {orders}")
    step(f"scan_twins count=2 with cursor: {pages} pages, every order once")

    detailed = call(shop, "scan_twins", params={"details": True, "match": "TWIN.n == 2"},
                    expect=200)
    check(isinstance(detailed["twins"], dict) and len(detailed["twins"]) == 1,
          f"scan_twins details=True: {detailed}")
    (detail,) = detailed["twins"].values()
    check_fields("scan_twins", detail, {"status": "alive", "owner": shop_account,
                                        "description": {"kind": "order", "n": 2}})
    plain = call(shop, "scan_twins", params={"details": False, "match": "TWIN.n == 2"},
                 expect=200)
    check(plain["twins"] == list(detailed["twins"]), f"scan_twins details=False: {plain}")
    step("scan_twins details=True: twin objects; details=False: uuids")

    courier_scan = call(courier, "scan_twins", params={"details": True}, expect=200)
    check(courier_scan["twins"] == {} or courier_scan["twins"] == [],
          f"scan_twins: the courier sees the shop's twins {courier_scan}")
    step("the courier's scan_twins: only its own twins (none)")

    body = call(shop, "scan_twins", params={"count": 0}, expect=400)
    check_error("scan_twins", body, 400589)
    step("scan_twins count=0 -> 400 / 400589")

    # --- update and terminate ------------------------------------------------------------
    body = call(courier, "update_twin", order, body={"description": {"kind": "x"}}, expect=403)
    check_error("update_twin", body, 403535)
    body = call(courier, "terminate_twin", order, expect=403)
    check_error("terminate_twin", body, 403535)
    step("the courier cannot update or terminate the shop's twin -> 403 / 403535")

    updated = call(shop, "update_twin", order,
                   body={"description": {"kind": "order", "state": "shipped"}}, expect=200)
    check_fields("update_twin", updated,
                 {"status": "alive", "description": {"kind": "order", "state": "shipped"}})
    step("update_twin replaces the description")

    terminated = call(shop, "terminate_twin", order, expect=200)
    check_fields("terminate_twin", terminated, {"status": "terminated"})
    check_fields("terminate_twin", terminated["termination_certificate"],
                 {"issuer": shop_account})
    step("terminate_twin: status terminated, termination certificate")

    body = call(shop, "terminate_twin", order, expect=400)
    check_error("terminate_twin", body, 400358)
    step("terminate_twin again -> 400 / 400358")

    body = call(shop, "update_twin", order, body={"description": {"kind": "order"}}, expect=400)
    check_error("update_twin", body, 400897)
    step("update_twin of a terminated twin -> 400 / 400897")

    shown = call(shop, "get_twin", order, expect=200)
    check_fields("get_twin", shown, {"status": "terminated"})
    shown = call(shop, "get_twin", order, params={"show_terminated": True}, expect=200)
    check_fields("get_twin", shown, {"status": "terminated"})
    body = call(shop, "get_twin", order, params={"show_terminated": False}, expect=404)
    check_error("get_twin", body, 404653)
    body = call(courier, "get_twin", order, params={"show_terminated": False}, expect=404)
    check_error("get_twin", body, 404653)
    step("get_twin of the terminated twin: shown by default and with True; False -> 404 / 404653")

    added = call(courier, "update_twin_ledger_entry_value", order,
                 body={"entries": {"delivery_status": {"value": "delivered"}}}, expect=200)
    check_fields("update_twin_ledger_entry_value", added["entries"]["delivery_status"],
                 {"value": "delivered"})
    read = call(shop, "get_twin_ledger_entry_value", order, courier_account, expect=200)
    check_fields("get_twin_ledger_entry_value", read["entries"]["delivery_status"],
                 {"value": "delivered"})
    step("a terminated twin still takes entries: the courier marks it delivered")


def main():
    args = sys.argv[1:]
    if len(args) != 6:
        print(
            "usage: tt_client_objects.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET "
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
