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
        assert!(entry_basis.contains(&format!("visibility `account == '{}'` admits delivery_address", courier.account)), "{entry_basis}");

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

/// Per-account retention over the operator API, and what pruning leaves in each view.
mod retention {
    use super::*;

    api_tests! {
        async fn the_operator_sets_retention_per_account_and_pruning_removes_only_expired_records(app) {
            let (shop, courier, _stranger, twin) = story(&app).await;
            let path = format!("/operator/accounts/{}/audit-retention", shop.account);
            let shown = app.operator(Method::GET, &path, None).await;
            assert_eq!(shown.status.as_u16(), 200, "{}", shown.text());
            assert_eq!(shown.json(), json!({"account": shop.account, "days": null, "effective_days": 0}));
            let set = app.operator(Method::PUT, &path, Some(r#"{"days": 1}"#)).await;
            assert_eq!(set.status.as_u16(), 200, "{}", set.text());
            assert_eq!(set.json(), json!({"account": shop.account, "days": 1, "effective_days": 1}));
            assert_eq!(app.operator(Method::GET, &path, None).await.json()["days"], 1);
            // Bad input.
            app.operator(Method::PUT, &path, Some(r#"{"days": 36501}"#)).await.assert_tt_error(400, 400_589);
            app.operator(Method::PUT, &path, Some(r#"{"days": -1}"#)).await.assert_tt_error(400, 400_589);
            app.operator(Method::PUT, &path, Some(r#"{"days": 1, "extra": 2}"#)).await.assert_tt_error(400, 400_589);
            let nobody = format!("/operator/accounts/{}/audit-retention", uuid::Uuid::new_v4());
            assert_eq!(app.operator(Method::PUT, &nobody, Some(r#"{"days": 1}"#)).await.status.as_u16(), 404);
            assert_eq!(app.operator(Method::GET, &nobody, None).await.status.as_u16(), 404);
            // Only the operator.
            let refused = app.call(Method::PUT, &path, Some(&shop.secret), Some(json!({"days": 0}))).await;
            assert_eq!(refused.status.as_u16(), 401, "{}", refused.text());

            // The courier reads the shop's ledger; the courier keeps everything (default: forever).
            app.call(Method::GET, &format!("/twins/{twin}/ledgers/{}", shop.account), Some(&courier.secret), None).await;
            app.steward.flush_audit().await.unwrap();
            app.steward.seal_audit().await.unwrap();
            assert_eq!(audit(&app, &shop, "?operation=add_twin_ledger_entry").await.len(), 1);

            // Two days later: the shop's own operations go; the courier's read of the shop's data
            // stays for both, because the courier's retention has not passed.
            app.clock.advance_millis(2 * 86_400_000);
            let pruned = app.steward.prune_audit().await.unwrap();
            assert!(pruned > 0);
            assert!(audit(&app, &shop, "?operation=add_twin_ledger_entry").await.is_empty());
            assert_eq!(audit(&app, &shop, "?operation=get_twin_ledger_entry").await.len(), 1);
            assert_eq!(audit(&app, &courier, "?operation=get_twin_ledger_entry").await.len(), 1);
            // Once the courier keeps one day too, that read goes as well.
            app.operator(Method::PUT, &format!("/operator/accounts/{}/audit-retention", courier.account), Some(r#"{"days": 1}"#)).await;
            app.steward.prune_audit().await.unwrap();
            assert!(audit(&app, &shop, "?operation=get_twin_ledger_entry").await.is_empty());
            assert!(audit(&app, &courier, "?operation=get_twin_ledger_entry").await.is_empty());
            // Removing the account's own retention returns it to the default.
            let unset = app.operator(Method::PUT, &path, Some(r#"{"days": null}"#)).await;
            assert_eq!(unset.json(), json!({"account": shop.account, "days": null, "effective_days": 0}));
        }
    }
}

/// `audit_enabled = false` (for measuring what auditing costs) records nothing: neither reads
/// nor writes, and the API answers as usual.
#[tokio::test]
async fn a_node_with_auditing_switched_off_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = steward_store_sqlite::SqliteStore::open(dir.path())
        .await
        .unwrap();
    let settings = steward_core::ServiceSettings {
        audit_enabled: false,
        ..Default::default()
    };
    let app = TestApp::on_store_with(std::sync::Arc::new(store), Some(dir), settings).await;
    let (shop, courier, _stranger, twin) = story(&app).await;
    let read = app
        .call(
            Method::GET,
            &format!("/twins/{twin}/ledgers/{}", shop.account),
            Some(&courier.secret),
            None,
        )
        .await;
    assert_eq!(read.status.as_u16(), 200, "{}", read.text());
    app.steward.flush_audit().await.unwrap();
    assert!(audit(&app, &shop, "").await.is_empty());
    assert_eq!(app.steward.store().audit_record_count().await.unwrap(), 0);
}

/// Reads other than ledger entries and values: history, identities, resolution and scans. Each
/// data owner sees exactly the access to its own data (returned and withheld names, the rules
/// that decided), the reader sees its accesses without what was withheld from it, and nobody
/// sees another owner's share.
mod reads {
    use super::*;

    /// The raw `GET /audit` answer of `who`, to check what it never contains.
    async fn audit_text(app: &TestApp, who: &TestAccount, query: &str) -> String {
        let reply = app
            .call(
                Method::GET,
                &format!("/audit{query}"),
                Some(&who.secret),
                None,
            )
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
        reply.text()
    }

    /// Percent-encodes an identity for a path segment.
    fn enc(identity: &str) -> String {
        identity.replace('#', "%23")
    }

    async fn twin_of(app: &TestApp, who: &TestAccount) -> String {
        let reply = app
            .call(Method::POST, "/twins", Some(&who.secret), None)
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
        reply.json()["creation_certificate"]["uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Gives `who`'s admin user a role that sees every twin and lets identity visibility decide.
    async fn identity_reader(app: &TestApp, who: &TestAccount, identity_rule: &str) {
        let role = app
            .call(Method::POST, "/roles", Some(&who.secret),
                  Some(json!({"name": "Reader", "rules": {"twin_rule": "true", "entry_rule": "true", "identity_rule": identity_rule}})))
            .await;
        assert_eq!(role.status.as_u16(), 201, "{}", role.text());
        let role = role.json()["uuid"].as_str().unwrap().to_owned();
        let user = app
            .call(
                Method::PATCH,
                &format!("/users/{}", who.user),
                Some(&who.secret),
                Some(json!({"role": role})),
            )
            .await;
        assert_eq!(user.status.as_u16(), 200, "{}", user.text());
    }

    async fn attach(app: &TestApp, who: &TestAccount, twin: &str, identities: Value) {
        let reply = app
            .call(
                Method::POST,
                &format!("/twins/{twin}/identities"),
                Some(&who.secret),
                Some(json!({"identities": identities})),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
    }

    fn ids(records: &[Value], key: &str) -> Vec<Value> {
        records.iter().map(|record| record[key].clone()).collect()
    }

    /// The single record of `operation` `who` sees about `owner`'s data.
    async fn only_record(app: &TestApp, who: &TestAccount, operation: &str, owner: &str) -> Value {
        let records: Vec<Value> = audit(app, who, &format!("?operation={operation}"))
            .await
            .into_iter()
            .filter(|record| record["owner"] == owner)
            .collect();
        assert_eq!(records.len(), 1, "{operation} about {owner}: {records:?}");
        records[0].clone()
    }

    /// A hidden name never reaches the reader, and a third account sees nothing at all of it.
    async fn reader_and_third_see_no_more(
        app: &TestApp,
        reader: &TestAccount,
        third: &TestAccount,
        hidden: &[&str],
        foreign: &[&str],
    ) {
        let reader_text = audit_text(app, reader, "").await;
        for name in hidden {
            assert!(
                !reader_text.contains(name),
                "{name} reached the reader: {reader_text}"
            );
        }
        let third_text = audit_text(app, third, "").await;
        for name in hidden.iter().chain(foreign) {
            assert!(
                !third_text.contains(name),
                "{name} reached a third account: {third_text}"
            );
        }
    }
    api_tests! {
        async fn history_reads_record_returned_and_withheld_entries_for_the_owner(app) {
            let shop = app.create_account("Shop").await;
            let courier = app.create_account("Courier").await;
            let stranger = app.create_account("Stranger").await;
            partner_role(&app, &courier).await;
            let twin = twin_of(&app, &shop).await;
            let written = app
                .call(Method::POST, &format!("/twins/{twin}/ledgers/personal"), Some(&shop.secret),
                      Some(json!({"entries": {
                          "gps": {"value": 1, "history": "1D", "visibility": format!("account == '{}'", courier.account)},
                          "margin": {"value": 2, "history": "1D"},
                          "note": {"value": 3},
                      }})))
                .await;
            assert_eq!(written.status.as_u16(), 201, "{}", written.text());
            let read = app
                .call(Method::GET, &format!("/twins/{twin}/ledgers/{}/history", shop.account), Some(&courier.secret), None)
                .await;
            assert_eq!(read.status.as_u16(), 200, "{}", read.text());
            // Naming entries: those asked for and existing are returned or withheld.
            let named = app
                .call(Method::GET, &format!("/twins/{twin}/ledgers/{}/history?entries=note,nope", shop.account), Some(&courier.secret), None)
                .await;
            assert_eq!(named.status.as_u16(), 200, "{}", named.text());

            let owner_view = audit(&app, &shop, "?operation=get_twin_ledger_entry_history").await;
            assert_eq!(owner_view.len(), 2, "{owner_view:?}");
            let (named, all) = (&owner_view[0], &owner_view[1]);
            assert_eq!(all["actor_account"], courier.account.as_str());
            assert_eq!(all["owner"], shop.account.as_str());
            assert_eq!(all["twin"], twin.as_str());
            assert_eq!(all["returned"], json!(["gps"]));
            assert_eq!(all["withheld"], json!(["margin"]), "only entries keeping history are asked for");
            assert!(all["basis"].as_str().unwrap().contains("allows get_twin_ledger_entry_history; twin_rule: `true`"), "{all}");
            assert!(all["entry_basis"].as_str().unwrap().contains(&format!("visibility `account == '{}'` admits gps", courier.account)), "{all}");
            assert_eq!(named["returned"], json!([]));
            assert_eq!(named["withheld"], json!(["note"]));

            let reader_view = audit(&app, &courier, "?operation=get_twin_ledger_entry_history").await;
            assert_eq!(ids(&reader_view, "seq"), ids(&owner_view, "seq"));
            assert_eq!(reader_view[1]["returned"], json!(["gps"]));
            assert_eq!(reader_view[1]["withheld"], json!([]));
            assert_eq!(reader_view[1]["withheld_count"], 1);
            assert_eq!(reader_view[1]["entry_basis"], Value::Null);
            reader_and_third_see_no_more(&app, &courier, &stranger, &["margin", "\"note\""], &[&twin]).await;
        }

        async fn identity_reads_record_each_identity_for_the_account_it_belongs_to(app) {
            let shop = app.create_account("Shop").await;
            let courier = app.create_account("Courier").await;
            let stranger = app.create_account("Stranger").await;
            identity_reader(&app, &courier, "true").await;
            let twin = twin_of(&app, &shop).await;
            attach(&app, &shop, &twin, json!({
                "RFID#shared": {"visibility": format!("account == '{}'", courier.account)},
                "RFID#refused": {"visibility": "account == '00000000-0000-4000-8000-000000000000'"},
                "INV#private": {},
            })).await;
            // The courier's own (private) identity on the shop's twin is the courier's data.
            attach(&app, &courier, &twin, json!({"NFC#van-7": {}})).await;

            let listed = app
                .call(Method::GET, &format!("/twins/{twin}/identities?show_foreign=true"), Some(&courier.secret), None)
                .await;
            assert_eq!(listed.status.as_u16(), 200, "{}", listed.text());
            let single = app
                .call(Method::GET, &format!("/twins/{twin}/identities/{}", enc("NFC#van-7")), Some(&courier.secret), None)
                .await;
            assert_eq!(single.status.as_u16(), 200, "{}", single.text());

            // The shop: its identities returned and withheld, with its rule; nothing of the courier's.
            let listing = only_record(&app, &shop, "get_twin_identities", &shop.account).await;
            assert_eq!(listing["actor_account"], courier.account.as_str());
            assert_eq!(listing["twin"], twin.as_str());
            assert_eq!(listing["returned"], json!(["RFID#shared"]));
            assert_eq!(listing["withheld"], json!(["RFID#refused"]));
            assert!(listing["basis"].as_str().unwrap().contains("identity_rule: `true`"), "{listing}");
            assert!(listing["basis"].as_str().unwrap().contains("data of 1 other account"), "{listing}");
            assert!(listing["entry_basis"].as_str().unwrap().contains("RFID#shared: visibility `account =="), "{listing}");
            let reading = only_record(&app, &shop, "get_twin_identity", &shop.account).await;
            assert_eq!(reading["twin"], twin.as_str());
            assert_eq!(reading["returned"], json!([]), "the identity read is the courier's");
            let shop_text = audit_text(&app, &shop, "").await;
            assert!(!shop_text.contains("NFC#van-7"), "{shop_text}");

            // The courier: the same accesses without the shop's withheld names, plus its own share.
            let seen = only_record(&app, &courier, "get_twin_identities", &shop.account).await;
            assert_eq!(seen["seq"], listing["seq"]);
            assert_eq!((seen["withheld"].clone(), seen["withheld_count"].clone()), (json!([]), json!(1)));
            assert_eq!(seen["entry_basis"], Value::Null);
            let own = only_record(&app, &courier, "get_twin_identities", &courier.account).await;
            assert_eq!(own["twin"], twin.as_str());
            assert_eq!(own["returned"], json!(["NFC#van-7"]));
            let own_single = only_record(&app, &courier, "get_twin_identity", &courier.account).await;
            assert_eq!(own_single["returned"], json!(["NFC#van-7"]));
            reader_and_third_see_no_more(&app, &courier, &stranger, &["RFID#refused", "INV#private"], &[&twin, "RFID#shared", "NFC#van-7"]).await;

            // An own identity the reader's identity_rule hides is withheld in the reader's share.
            identity_reader(&app, &courier, "identity =~ 'RFID#.*'").await;
            app.call(Method::GET, &format!("/twins/{twin}/identities/{}", enc("NFC#van-7")), Some(&courier.secret), None)
                .await
                .assert_tt_error(404, 404_653);
            let refused: Vec<Value> = audit(&app, &courier, "?operation=get_twin_identity&outcome=denied").await;
            assert_eq!(refused.len(), 2, "the twin owner's record and the courier's own: {refused:?}");
            let own_refused = refused.iter().find(|record| record["owner"] == courier.account.as_str()).unwrap();
            assert_eq!(own_refused["withheld"], json!(["NFC#van-7"]));
            let shop_denied = only_record(&app, &shop, "get_twin_identity&outcome=denied", &shop.account).await;
            assert_eq!(shop_denied["status"], 404);
            assert!(!audit_text(&app, &shop, "").await.contains("NFC#van-7"));
        }

        async fn resolution_over_two_owners_makes_one_record_per_owner(app) {
            let first = app.create_account("First shop").await;
            let second = app.create_account("Second shop").await;
            let courier = app.create_account("Courier").await;
            let stranger = app.create_account("Stranger").await;
            identity_reader(&app, &courier, "true").await;
            let shared_rule = format!("account == '{}'", courier.account);
            let (first_shared, first_refused) = (twin_of(&app, &first).await, twin_of(&app, &first).await);
            let second_shared = twin_of(&app, &second).await;
            attach(&app, &first, &first_shared, json!({"RFID#parcel": {"visibility": shared_rule}})).await;
            attach(&app, &first, &first_refused, json!({"RFID#parcel": {"visibility": "account == '00000000-0000-4000-8000-000000000000'"}})).await;
            attach(&app, &second, &second_shared, json!({"RFID#parcel": {"visibility": shared_rule}})).await;

            for details in ["false", "true"] {
                let resolved = app
                    .call(Method::GET, &format!("/resolve/{}?context=system&details={details}", enc("RFID#parcel")), Some(&courier.secret), None)
                    .await;
                assert_eq!(resolved.status.as_u16(), 200, "{}", resolved.text());
                let text = resolved.text();
                assert!(text.contains(&first_shared) && text.contains(&second_shared) && !text.contains(&first_refused), "{text}");
            }

            let first_view = audit(&app, &first, "?operation=resolve_twin_identity").await;
            assert_eq!(first_view.len(), 2, "one record per resolution: {first_view:?}");
            for record in &first_view {
                assert_eq!(record["owner"], first.account.as_str());
                assert_eq!(record["actor_account"], courier.account.as_str());
                assert_eq!(record["twin"], Value::Null, "two twins concerned");
                assert_eq!(record["returned"], json!([first_shared]));
                assert_eq!(record["withheld"], json!([first_refused]));
                assert!(record["basis"].as_str().unwrap().contains("resolved `RFID#parcel`"), "{record}");
            }
            let second_view = audit(&app, &second, "?operation=resolve_twin_identity").await;
            assert_eq!(second_view.len(), 2, "{second_view:?}");
            for record in &second_view {
                assert_eq!(record["owner"], second.account.as_str());
                assert_eq!(record["twin"], second_shared.as_str());
                assert_eq!(record["returned"], json!([second_shared]));
                assert_eq!(record["withheld"], json!([]));
            }
            // Neither owner ever reads the other's ids.
            let first_text = audit_text(&app, &first, "?operation=resolve_twin_identity").await;
            assert!(!first_text.contains(&second_shared) && !first_text.contains(&second.account), "{first_text}");
            let second_text = audit_text(&app, &second, "?operation=resolve_twin_identity").await;
            for other in [&first_shared, &first_refused, &first.account] {
                assert!(!second_text.contains(other.as_str()), "{second_text}");
            }

            // The courier: its own request record (owner itself, the count of owners) and both
            // owners' records, without the twin withheld from it.
            let courier_view = audit(&app, &courier, "?operation=resolve_twin_identity").await;
            assert_eq!(courier_view.len(), 6, "{courier_view:?}");
            let own: Vec<&Value> = courier_view.iter().filter(|record| record["owner"] == courier.account.as_str()).collect();
            assert_eq!(own.len(), 2);
            assert!(own[0]["basis"].as_str().unwrap().contains("context: system; data of 2 other accounts"), "{}", own[0]);
            assert_eq!(own[0]["returned"], json!([]));
            let about_first = courier_view.iter().find(|record| record["owner"] == first.account.as_str()).unwrap();
            assert_eq!((about_first["withheld"].clone(), about_first["withheld_count"].clone()), (json!([]), json!(1)));
            reader_and_third_see_no_more(&app, &courier, &stranger, &[&first_refused], &[&first_shared, &second_shared]).await;
        }

        async fn scans_record_the_owned_twins_each_owner_scanned(app) {
            let first = app.create_account("First shop").await;
            let second = app.create_account("Second shop").await;
            let first_twins = [twin_of(&app, &first).await, twin_of(&app, &first).await];
            let second_twin = twin_of(&app, &second).await;
            for who in [&first, &second] {
                let scanned = app.call(Method::GET, "/twins?count=10", Some(&who.secret), None).await;
                assert_eq!(scanned.status.as_u16(), 200, "{}", scanned.text());
            }
            let mut sorted = first_twins.to_vec();
            sorted.sort();
            let first_scan = only_record(&app, &first, "scan_twins", &first.account).await;
            assert_eq!(first_scan["actor_account"], first.account.as_str());
            assert_eq!(first_scan["returned"], json!(sorted));
            assert_eq!(first_scan["twin"], Value::Null);
            assert!(first_scan["basis"].as_str().unwrap().contains("allows scan_twins"), "{first_scan}");
            let second_scan = only_record(&app, &second, "scan_twins", &second.account).await;
            assert_eq!(second_scan["returned"], json!([second_twin]));
            assert_eq!(second_scan["twin"], second_twin.as_str(), "one twin concerned");
            let first_text = audit_text(&app, &first, "").await;
            assert!(!first_text.contains(&second_twin) && !first_text.contains(&second.account), "{first_text}");
            let second_text = audit_text(&app, &second, "").await;
            for other in first_twins.iter().chain([&first.account]) {
                assert!(!second_text.contains(other.as_str()), "{second_text}");
            }
            // A match rule is part of the basis; twins it excludes are not asked for.
            let matched = app.call(Method::GET, "/twins?match=twin_status%20%3D%3D%20%27terminated%27", Some(&first.secret), None).await;
            assert_eq!(matched.status.as_u16(), 200, "{}", matched.text());
            let records = audit(&app, &first, "?operation=scan_twins").await;
            assert_eq!(records[0]["returned"], json!([]));
            assert!(records[0]["basis"].as_str().unwrap().contains("match: `twin_status == 'terminated'`"), "{}", records[0]);
        }
    }
}

/// A node appending more than one sealing batch per interval still gets everything sealed: a
/// backlog is sealed a batch (and a checkpoint) at a time, up to the bound it is given.
#[tokio::test]
async fn a_backlog_larger_than_one_batch_is_sealed_in_batches() {
    let app = TestApp::new().await;
    let records: Vec<steward_domain::AuditRecord> = (0..25_000)
        .map(|i| {
            steward_domain::AuditRecord::new(
                "get_twin",
                format!("req-{i}"),
                steward_domain::Timestamp::from_millis(i),
            )
        })
        .collect();
    let store = app.steward.store().clone();
    store.append_audit_records(&records).await.unwrap();
    assert_eq!(app.steward.seal_audit_backlog(1).await.unwrap(), 10_000);
    assert_eq!(store.audit_tree_size().await.unwrap(), 10_000);
    assert_eq!(app.steward.seal_audit_backlog(10).await.unwrap(), 15_000);
    assert_eq!(store.audit_tree_size().await.unwrap(), 25_000);
    let sizes: Vec<u64> = store
        .list_audit_checkpoints(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|checkpoint| checkpoint.size)
        .collect();
    assert_eq!(sizes, [10_000, 20_000, 25_000]);
    assert_eq!(app.steward.seal_audit_backlog(10).await.unwrap(), 0);
}

/// The account's `resource_access_log` and a user's `activity` select audit records and render
/// their dimensions; configurations are checked when written.
mod named_logs {
    use super::*;

    api_tests! {
        async fn resource_access_logs_and_user_activity_select_records_with_dimensions(app) {
            let (shop, courier, stranger, twin) = story(&app).await;
            // Bad configurations are refused, with the field named.
            for bad in [
                json!({"resource_access_log": {"reads": {"rule": "account =="}}}),
                json!({"resource_access_log": {"reads": {"dimensions": {"who": "{password}"}}}}),
                json!({"resource_access_log": {"two words": {}}}),
                json!({"resource_access_log": ["reads"]}),
            ] {
                let refused = app.call(Method::PATCH, "/account", Some(&shop.secret), Some(bad)).await;
                refused.assert_tt_error(400, 400_589);
                let message = refused.json()["description"].as_str().unwrap().to_owned();
                assert!(message.contains("resource_access_log"), "{message}");
            }
            let config = json!({"foreign_reads": {
                "rule": format!("account != '{}'", shop.account),
                "dimensions": {"who": "{account}", "what": "{operation} of {twin} ({status})"},
            }});
            let set = app.call(Method::PATCH, "/account", Some(&shop.secret), Some(json!({"resource_access_log": config}))).await;
            assert_eq!(set.status.as_u16(), 200, "{}", set.text());

            // The courier reads the shop's ledger, the shop reads its own twin.
            app.call(Method::GET, &format!("/twins/{twin}/ledgers/{}", shop.account), Some(&courier.secret), None).await;
            app.call(Method::GET, &format!("/twins/{twin}"), Some(&shop.secret), None).await;
            let reply = app.call(Method::GET, "/audit?log=foreign_reads", Some(&shop.secret), None).await;
            assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
            let records = reply.json()["records"].as_array().unwrap().clone();
            assert_eq!(records.len(), 1, "{records:?}");
            assert_eq!(records[0]["log"], "foreign_reads");
            assert_eq!(records[0]["operation"], "get_twin_ledger_entry");
            assert_eq!(records[0]["dimensions"]["who"], courier.account.as_str());
            assert_eq!(records[0]["dimensions"]["what"], format!("get_twin_ledger_entry of {twin} (200)"));
            // No such log; a log name of another account is not this account's.
            app.call(Method::GET, "/audit?log=nope", Some(&shop.secret), None).await.assert_tt_error(400, 400_589);
            app.call(Method::GET, "/audit?log=foreign_reads", Some(&stranger.secret), None).await.assert_tt_error(400, 400_589);

            // A user's activity: every call of that user, with its dimensions.
            let activity = json!({"calls": {"dimensions": {"op": "{operation}"}}});
            app.call(Method::PATCH, &format!("/users/{}", courier.user), Some(&courier.secret),
                     Some(json!({"activity": {"calls": {"rule": "status =="}}}))).await.assert_tt_error(400, 400_589);
            let set = app.call(Method::PATCH, &format!("/users/{}", courier.user), Some(&courier.secret), Some(json!({"activity": activity}))).await;
            assert_eq!(set.status.as_u16(), 200, "{}", set.text());
            app.call(Method::GET, "/whoami", Some(&courier.secret), None).await;
            let reply = app.call(Method::GET, &format!("/audit?activity=calls&user={}", courier.user), Some(&courier.secret), None).await;
            assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
            let calls = reply.json()["records"].as_array().unwrap().clone();
            assert!(calls.iter().all(|record| record["actor_user"] == courier.user.as_str()), "{calls:?}");
            let ops: Vec<&str> = calls.iter().map(|record| record["dimensions"]["op"].as_str().unwrap()).collect();
            assert!(ops.contains(&"get_twin_ledger_entry") && ops.contains(&"who_am_i"), "{ops:?}");
            // The user must be the caller's account's; both parameters go together.
            app.call(Method::GET, &format!("/audit?activity=calls&user={}", courier.user), Some(&shop.secret), None)
                .await.assert_tt_error(404, 404_653);
            app.call(Method::GET, "/audit?activity=calls", Some(&courier.secret), None).await.assert_tt_error(400, 400_589);
            app.call(Method::GET, &format!("/audit?log=foreign_reads&activity=calls&user={}", courier.user), Some(&courier.secret), None)
                .await.assert_tt_error(400, 400_589);
        }
    }
}
