//! The audit trail over the API: what the data owner, the reader and a third account see of
//! one access, writes recorded once with their transaction, denials, and checkpoints and
//! proofs that verify independently of the server.

use axum::http::Method;
use base64::Engine as _;
use serde_json::{json, Value};
use steward_audit::merkle;

use super::{partner_role, TestAccount, TestApp};

async fn audit(app: &TestApp, who: &TestAccount, query: &str) -> Vec<Value> {
    let reply = app
        .call(
            Method::GET,
            &format!("/audit{query}"),
            Some(&who.secret),
            None,
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    reply.json()["records"].as_array().unwrap().clone()
}

fn b64(text: &str) -> [u8; 32] {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
        .try_into()
        .unwrap()
}

/// The shop/courier story: a twin with an address the courier may read and an invoice it may
/// not; returns (shop, courier, stranger, twin).
async fn story(app: &TestApp) -> (TestAccount, TestAccount, TestAccount, String) {
    let shop = app.create_account("Shop").await;
    let courier = app.create_account("Courier").await;
    let stranger = app.create_account("Stranger").await;
    partner_role(app, &courier).await;
    let twin = app
        .call(Method::POST, "/twins", Some(&shop.secret), None)
        .await
        .json()["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let written = app
        .call(Method::POST, &format!("/twins/{twin}/ledgers/personal"), Some(&shop.secret),
              Some(json!({"entries": {
                  "delivery_address": {"value": "Main 1", "visibility": format!("account == '{}'", courier.account)},
                  "invoice": {"value": 120},
              }})))
        .await;
    assert_eq!(written.status.as_u16(), 201, "{}", written.text());
    (shop, courier, stranger, twin)
}

api_tests! {
    async fn the_owner_and_the_reader_see_one_access_and_a_third_account_sees_nothing(app) {
        let (shop, courier, stranger, twin) = story(&app).await;
        let read = app
            .call(Method::GET, &format!("/twins/{twin}/ledgers/{}", shop.account), Some(&courier.secret), None)
            .await;
        assert_eq!(read.status.as_u16(), 200, "{}", read.text());

        let owner_view = audit(&app, &shop, "?operation=get_twin_ledger_entry").await;
        assert_eq!(owner_view.len(), 1, "{owner_view:?}");
        let record = &owner_view[0];
        assert_eq!(record["actor_account"], courier.account.as_str());
        assert_eq!(record["actor_user"], courier.user.as_str());
        assert_eq!(record["owner"], shop.account.as_str());
        assert_eq!(record["twin"], twin.as_str());
        assert_eq!(record["outcome"], "allowed");
        assert_eq!(record["status"], 200);
        assert_eq!(record["auth"], "secret");
        assert_eq!(record["returned"], json!(["delivery_address"]));
        assert_eq!(record["withheld"], json!(["invoice"]));
        let basis = record["basis"].as_str().unwrap();
        assert!(basis.contains("twin_rule: `true`"), "{basis}");
        let entry_basis = record["entry_basis"].as_str().unwrap();
        assert!(entry_basis.contains(&format!("delivery_address: visibility `account == '{}'`", courier.account)), "{entry_basis}");

        // The courier sees the same access, without the names withheld from it.
        let reader_view = audit(&app, &courier, "?operation=get_twin_ledger_entry").await;
        assert_eq!(reader_view.len(), 1, "{reader_view:?}");
        assert_eq!(reader_view[0]["seq"], record["seq"]);
        assert_eq!(reader_view[0]["returned"], json!(["delivery_address"]));
        assert_eq!(reader_view[0]["withheld"], json!([]));
        assert_eq!(reader_view[0]["withheld_count"], 1);
        assert_eq!(reader_view[0]["entry_basis"], Value::Null, "the owner's rules are the owner's");
        assert_eq!(reader_view[0]["basis"], record["basis"], "its own role's part it sees");
        assert!(!serde_json::to_string(&reader_view).unwrap().contains("invoice"));

        // Other reads of the shop's twin are the shop's records too.
        let twin_read = app.call(Method::GET, &format!("/twins/{twin}"), Some(&courier.secret), None).await;
        assert_eq!(twin_read.status.as_u16(), 200, "{}", twin_read.text());
        let twin_reads = audit(&app, &shop, "?operation=get_twin").await;
        assert_eq!(twin_reads.len(), 1, "{twin_reads:?}");
        assert_eq!(twin_reads[0]["actor_account"], courier.account.as_str());
        assert_eq!(twin_reads[0]["twin"], twin.as_str());

        // A third account sees neither the access nor the shop's own write.
        let third = audit(&app, &stranger, "").await;
        assert!(!serde_json::to_string(&third).unwrap().contains(&twin), "{third:?}");
        assert!(third.iter().all(|record| record["actor_account"] == stranger.account.as_str()), "{third:?}");
    }

    async fn writes_are_recorded_once_and_denials_reach_the_owner(app) {
        let (shop, _courier, stranger, twin) = story(&app).await;
        let writes = audit(&app, &shop, "?operation=add_twin_ledger_entry").await;
        assert_eq!(writes.len(), 1, "stored with the write, not again by the HTTP layer: {writes:?}");
        assert_eq!(writes[0]["status"], 201);
        assert_eq!(writes[0]["returned"], json!(["delivery_address", "invoice"]));

        let refused = app
            .call(Method::GET, &format!("/twins/{twin}/ledgers/{}", shop.account), Some(&stranger.secret), None)
            .await;
        refused.assert_tt_error(403, 403_535);
        let denied = audit(&app, &shop, "?outcome=denied").await;
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert_eq!(denied[0]["actor_account"], stranger.account.as_str());
        assert_eq!(denied[0]["twin"], twin.as_str());
        assert_eq!(denied[0]["status"], 403);
        assert!(denied[0]["basis"].as_str().unwrap().contains("twin_rule hides the twin"), "{}", denied[0]);
        assert_eq!(audit(&app, &stranger, "?outcome=denied").await.len(), 1, "the actor sees its own denial");
        // Filters and paging.
        let page = app.call(Method::GET, "/audit?limit=1", Some(&shop.secret), None).await.json();
        assert_eq!(page["records"].as_array().unwrap().len(), 1);
        let cursor = page["cursor"].as_u64().unwrap();
        let next = audit(&app, &shop, &format!("?limit=1&cursor={cursor}")).await;
        assert!(next[0]["seq"].as_u64().unwrap() < cursor);
        for bad in ["?limit=0", "?outcome=maybe", "?twin=x", "?nope=1"] {
            app.call(Method::GET, &format!("/audit{bad}"), Some(&shop.secret), None).await.assert_tt_error(400, 400_589);
        }
    }

    async fn checkpoints_and_proofs_verify_without_trusting_the_server(app) {
        let (shop, courier, stranger, twin) = story(&app).await;
        app.call(Method::GET, &format!("/twins/{twin}/ledgers/{}", shop.account), Some(&courier.secret), None).await;
        app.call(Method::GET, "/audit/checkpoint", Some(&shop.secret), None).await.assert_tt_error(404, 404_653);
        app.steward.flush_audit().await.unwrap();
        assert!(app.steward.seal_audit().await.unwrap() > 0);

        let reply = app.call(Method::GET, "/audit/checkpoint", Some(&courier.secret), None).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
        let key = reply.headers["x-steward-audit-key"].to_str().unwrap().to_owned();
        let verifier = steward_audit::NoteVerifier::parse(&key).unwrap();
        let checkpoint = steward_audit::Checkpoint::open(&reply.body, "steward.test/audit", &verifier).unwrap();

        let records = audit(&app, &shop, "?operation=get_twin_ledger_entry").await;
        let seq = records[0]["seq"].as_u64().unwrap();
        let path = format!("/audit/proof/inclusion?index={seq}&size={}", checkpoint.size);
        let proof = app.call(Method::GET, &path, Some(&shop.secret), None).await.json();
        let hashes: Vec<[u8; 32]> = proof["hashes"].as_array().unwrap().iter().map(|h| b64(h.as_str().unwrap())).collect();
        let text = proof["record"].as_str().unwrap();
        let leaf = merkle::leaf_hash(text.as_bytes());
        assert_eq!(leaf, b64(proof["leaf_hash"].as_str().unwrap()));
        merkle::check_record(&hashes, checkpoint.size, &checkpoint.root_hash, seq, &leaf).unwrap();
        // The record proven is the one listed.
        let proven: Value = serde_json::from_str(text).unwrap();
        assert_eq!(proven["withheld"], json!(["invoice"]));
        // The reader gets the proof without the text; a third account gets nothing.
        let reader = app.call(Method::GET, &path, Some(&courier.secret), None).await.json();
        assert_eq!(reader["hashes"], proof["hashes"]);
        assert!(reader.get("record").is_none());
        app.call(Method::GET, &path, Some(&stranger.secret), None).await.assert_tt_error(404, 404_653);

        // More activity, a new checkpoint, and a consistency proof between the two.
        app.call(Method::GET, "/whoami", Some(&stranger.secret), None).await;
        app.steward.flush_audit().await.unwrap();
        app.steward.seal_audit().await.unwrap();
        let newer = app.call(Method::GET, "/audit/checkpoint", Some(&shop.secret), None).await;
        let newer = steward_audit::Checkpoint::open(&newer.body, "steward.test/audit", &verifier).unwrap();
        assert!(newer.size > checkpoint.size);
        let consistency = app
            .call(Method::GET, &format!("/audit/proof/consistency?from={}&to={}", checkpoint.size, newer.size), Some(&shop.secret), None)
            .await
            .json();
        let hashes: Vec<[u8; 32]> = consistency["hashes"].as_array().unwrap().iter().map(|h| b64(h.as_str().unwrap())).collect();
        merkle::check_tree(&hashes, newer.size, &newer.root_hash, checkpoint.size, &checkpoint.root_hash).unwrap();
        app.call(Method::GET, &format!("/audit/proof/consistency?from=0&to={}", newer.size), Some(&shop.secret), None)
            .await
            .assert_tt_error(400, 400_589);
        app.call(Method::GET, &format!("/audit/proof/inclusion?index=0&size={}", newer.size + 1), Some(&shop.secret), None)
            .await
            .assert_tt_error(400, 400_589);
    }
}
