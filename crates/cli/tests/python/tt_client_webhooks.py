"""Subscribes a webhook with the official Trusted Twin client and checks what Steward sends.

Usage: python tt_client_webhooks.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET
       COURIER_ACCOUNT COURIER_USER

A real HTTP receiver on 127.0.0.1 (in this process) answers 500 to the first three messages
and 200 afterwards. The shop subscribes with a client secret; the confirmation message must
arrive four times with the same message uuid (retried with back-off), its hash must verify with
`trustedtwin_utils.TTSignedJson`, and confirming, refreshing and unsubscribing go through the
client's own methods. The courier may subscribe to the shop's topic only once the shop grants it.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

from trustedtwin.tt_api import TTRESTService
from trustedtwin_utils.json.tt_signed_json import TTSignedJson

from tt_client_flow import Mismatch, call, check, check_error, check_fields, step

CLIENT_SECRET = "AbCdEfGh12345678"
CONFIRMATION_KEYS = ["type", "message", "sent_ts", "confirmation_url", "subscription"]
NOTIFICATION_KEYS = ["type", "trigger", "message", "twin", "event", "sent_ts", "subscription"]
FAILURES = 3


class Receiver(BaseHTTPRequestHandler):
    """Records every POSTed body; answers 500 to the first FAILURES, then 200."""

    received = []
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        with Receiver.lock:
            Receiver.received.append((time.monotonic(), body))
            status = 500 if len(Receiver.received) <= FAILURES else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def wait_for(count, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with Receiver.lock:
            if len(Receiver.received) >= count:
                return list(Receiver.received)
        time.sleep(0.05)
    with Receiver.lock:
        raise Mismatch(f"expected {count} deliveries within {limit} s, got {Receiver.received}")


def run(base_url, shop_secret, shop_account, courier_secret, courier_account, courier_user):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{server.server_address[1]}/hook"
    shop = TTRESTService(tt_auth=shop_secret, tt_base=base_url)
    courier = TTRESTService(tt_auth=courier_secret, tt_base=base_url)

    # --- subscribe -------------------------------------------------------------------------
    subscribed = call(shop, "webhook_subscribe", expect=201, body={
        "callback_url": callback, "topic": "orders", "client_secret": CLIENT_SECRET,
        "expires": 3600})
    check_fields("webhook_subscribe", subscribed["subscription"],
                 {"topic": "orders", "account": shop_account})
    server_secret = subscribed["server_secret"]
    check(len(server_secret) == 16, f"server_secret: {subscribed}")
    step("webhook_subscribe with a client secret -> 201 with a 16-character server secret")

    # --- the confirmation message: retried after 500s, same uuid, hash verifies ------------
    deliveries = wait_for(FAILURES + 1, 30)
    bodies = [body for _, body in deliveries]
    check(len(set(bodies)) == 1, f"every attempt carries the same message: {bodies}")
    gaps = [later - earlier for (earlier, _), (later, _) in zip(deliveries, deliveries[1:])]
    check(all(gap >= 0.8 for gap in gaps), f"attempts are spaced by back-off: {gaps}")
    checker = TTSignedJson("hash", CONFIRMATION_KEYS, (CLIENT_SECRET + server_secret).encode())
    message = checker.loads(bodies[0])
    check(checker.is_signature_valid(), f"hash does not verify: {checker.get_signatures()}")
    check_fields("confirmation", message, {"type": "SubscriptionConfirmation"})
    check_fields("confirmation", message["subscription"],
                 {"topic": "orders", "account": shop_account})
    tampered = bodies[0].replace('"orders"', '"orderz"')
    checker.loads(tampered)
    check(not checker.is_signature_valid(), "a tampered message must not verify")
    step(f"confirmation: 500 x{FAILURES} then 200, same message uuid each time, "
         "hash verifies with trustedtwin_utils.TTSignedJson")

    time.sleep(1.5)
    with Receiver.lock:
        check(len(Receiver.received) == FAILURES + 1,
              f"delivered once accepted, never again: {len(Receiver.received)}")

    # --- confirm, refresh, unsubscribe through the client ----------------------------------
    url = urlparse(message["confirmation_url"])
    token = parse_qs(url.query)["token"][0]
    check(url.path == f"/notifications/webhooks/{shop_account}", f"confirmation_url: {url}")
    anonymous = TTRESTService(tt_auth="", tt_base=base_url)
    confirmed = call(anonymous, "webhook_confirm_subscription", shop_account,
                     params={"token": token}, expect=200)
    check("unsubscribe_url" in confirmed["subscription"] and "refresh_url" in
          confirmed["subscription"], f"confirmed: {confirmed}")
    refreshed = call(anonymous, "webhook_refresh_subscription", shop_account,
                     params={"token": token}, expect=200)
    check(refreshed["subscription"]["validity_ts"] >= subscribed["subscription"]["validity_ts"],
          f"refresh extends: {refreshed}")
    # --- a ledger change published to the topic, signed too ----------------------------------
    order = call(shop, "create_twin", body={"description": {"kind": "order"}},
                 expect=201)["creation_certificate"]["uuid"]
    call(shop, "add_twin_ledger_entry", order, expect=201, body={"entries": {
        "status": {"value": "packed", "publish": {"orders": "true"}},
        "quiet": {"value": 1}}})
    deliveries = wait_for(FAILURES + 2, 10)
    checker = TTSignedJson("hash", NOTIFICATION_KEYS, (CLIENT_SECRET + server_secret).encode())
    notification = checker.loads(deliveries[-1][1])
    check(checker.is_signature_valid(), f"notification hash: {checker.get_signatures()}")
    check_fields("notification", notification,
                 {"type": "Notification", "trigger": "ledger.entry.added", "twin": order})
    check(notification["event"] == {"status": {"new_value": "packed", "old_value": None,
                                               "changed_ts": notification["event"]["status"]
                                               ["changed_ts"]}},
          f"event: {notification['event']}")
    step("an entry added with publish {orders: true} -> a signed Notification for the topic")

    # The dispatcher counts each delivered message for the topic's account (after the receiver
    # answered, so wait for it): the confirmation and the notification.
    deadline, published = time.time() + 10, 0
    while time.time() < deadline:
        usage = call(shop, "get_account_usage", expect=200)["usage"]
        published = sum(bucket.get("task_publish_topic_count", 0) for bucket in usage.values())
        if published >= 2:
            break
        time.sleep(0.1)
    check(published == 2, f"get_account_usage: task_publish_topic_count is {published}: {usage}")
    step("get_account_usage counts the two delivered messages (task_publish_topic_count)")

    body = call(anonymous, "webhook_confirm_subscription", shop_account,
                params={"token": "0" * 64}, expect=404)
    check_error("webhook_confirm_subscription (wrong token)", body, 404653)
    ended = call(anonymous, "webhook_unsubscribe", shop_account, params={"token": token},
                 expect=200)
    check_fields("webhook_unsubscribe", ended, {"topic": "orders"})
    call(anonymous, "webhook_unsubscribe", shop_account, params={"token": token}, expect=404)
    step("confirm, refresh and unsubscribe with the token (no credentials); a wrong token "
         "-> 404 / 404653")

    # --- access grants -----------------------------------------------------------------------
    foreign = {"callback_url": callback, "topic": "orders", "account": shop_account}
    body = call(courier, "webhook_subscribe", body=foreign, expect=403)
    check_error("webhook_subscribe (no grant)", body, 403535)
    granted = call(shop, "update_notifications_account_access", courier_account,
                   body={"topics": ["orders", "stickers"]}, expect=200)
    check(granted == {"topics": ["orders", "stickers"]}, f"grant: {granted}")
    access = call(shop, "get_notifications_access", expect=200)
    check(access == {"accounts": {courier_account: {"topics": ["orders", "stickers"]}}},
          f"access: {access}")
    call(courier, "webhook_subscribe", body=foreign, expect=201)
    call(shop, "update_notifications_account_access", courier_account, body={"topics": []},
         expect=200)
    check(call(shop, "get_notifications_access", expect=200) == {"accounts": {}}, "revoked")
    body = call(courier, "webhook_subscribe", body=foreign, expect=403)
    check_error("webhook_subscribe (revoked)", body, 403535)
    step("another account subscribes to the shop's topic only while granted -> 201 / 403535")

    for label, request in [
        ("internal address", {"callback_url": "http://169.254.169.254/x", "topic": "orders"}),
        ("private address", {"callback_url": "http://10.0.0.1/x", "topic": "orders"}),
        ("not http", {"callback_url": "ftp://example.com/x", "topic": "orders"}),
        ("short topic", {"callback_url": callback, "topic": "ab"}),
        ("bad client secret", {"callback_url": callback, "topic": "orders",
                               "client_secret": "short"}),
        ("lifetime over 7 days", {"callback_url": callback, "topic": "orders",
                                  "expires": 604801}),
    ]:
        body = call(shop, "webhook_subscribe", body=request, expect=400)
        check_error(f"webhook_subscribe ({label})", body, 400589)
    step("bad callbacks (internal addresses too), topics, secrets and lifetimes -> 400589")
    server.shutdown()


def main():
    args = sys.argv[1:]
    if len(args) != 6:
        print("usage: tt_client_webhooks.py BASE_URL SHOP_SECRET SHOP_ACCOUNT COURIER_SECRET "
              "COURIER_ACCOUNT COURIER_USER", file=sys.stderr)
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
