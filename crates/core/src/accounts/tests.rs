use std::sync::Arc;

use steward_domain::{AccountStatus, ManualClock, Timestamp};
use steward_store_sqlite::SqliteStore;

use crate::{ErrorCode, Steward};

async fn steward_on_temp_sqlite() -> (Steward, tempfile::TempDir, Arc<ManualClock>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_700_000_000_000)));
    let steward = Steward::start(Arc::new(store), clock.clone(), Default::default())
        .await
        .unwrap();
    (steward, dir, clock)
}

#[tokio::test]
async fn created_account_has_super_admin_user_holding_a_working_secret_hash() {
    let (steward, _dir, _clock) = steward_on_temp_sqlite().await;
    let created = steward.create_account("Acme Logistics").await.unwrap();
    let bootstrap = &created.bootstrap;
    assert_eq!(created.secret.len(), 64);
    assert_eq!(bootstrap.admin_user.role, bootstrap.admin_role.id);
    assert_eq!(bootstrap.admin_role.name, "Super Admin");
    let found = steward
        .store()
        .find_secret_by_hash(&crate::credentials::hash_credential(&created.secret))
        .await
        .unwrap()
        .expect("the admin secret should be findable by its hash");
    assert_eq!(found.user, bootstrap.admin_user.id);
    assert_eq!(found.fingerprint, &created.secret[60..]);
}

#[tokio::test]
async fn account_names_are_validated() {
    let (steward, _dir, _clock) = steward_on_temp_sqlite().await;
    for bad in ["", " padded", "tab\there", &"x".repeat(65)] {
        let error = steward.create_account(bad).await.unwrap_err();
        assert_eq!(error.code, ErrorCode::RequestFormat, "{bad:?}");
    }
}

#[tokio::test]
async fn suspend_and_resume_update_status_and_timestamp() {
    let (steward, _dir, clock) = steward_on_temp_sqlite().await;
    let account = steward
        .create_account("Courier")
        .await
        .unwrap()
        .bootstrap
        .account;
    clock.advance_millis(5_000);
    let suspended = steward
        .set_account_status(account.id, AccountStatus::Suspended)
        .await
        .unwrap();
    assert_eq!(suspended.status, AccountStatus::Suspended);
    assert_eq!(
        suspended.updated_ts.as_millis(),
        account.created_ts.as_millis() + 5_000
    );
    let resumed = steward
        .set_account_status(account.id, AccountStatus::Active)
        .await
        .unwrap();
    assert_eq!(resumed.status, AccountStatus::Active);
}

#[tokio::test]
async fn listing_pages_through_all_accounts_without_repeats() {
    let (steward, _dir, _clock) = steward_on_temp_sqlite().await;
    for index in 0..5 {
        steward
            .create_account(&format!("Partner {index}"))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = steward.list_accounts(after, 2).await.unwrap();
        seen.extend(page.accounts.iter().map(|account| account.id));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut deduplicated = seen.clone();
    deduplicated.dedup();
    assert_eq!(seen.len(), 5);
    assert_eq!(deduplicated, seen);
    assert_eq!(
        steward.list_accounts(None, 0).await.unwrap_err().code,
        ErrorCode::RequestFormat
    );
}

#[tokio::test]
async fn operator_token_is_generated_once_and_then_reused() {
    let (steward, _dir, _clock) = steward_on_temp_sqlite().await;
    let first = steward.setup_operator_token(None).await.unwrap();
    let token = first
        .generated_token
        .expect("first start should generate a token");
    let second = steward.setup_operator_token(None).await.unwrap();
    assert!(second.generated_token.is_none());
    assert!(second.auth.verify(&token));
    assert!(!second.auth.verify("wrong-token-wrong-token"));
}

#[tokio::test]
async fn configured_operator_token_wins_and_must_be_long_enough() {
    let (steward, _dir, _clock) = steward_on_temp_sqlite().await;
    let setup = steward
        .setup_operator_token(Some("a-configured-operator-token"))
        .await
        .unwrap();
    assert!(setup.generated_token.is_none());
    assert!(setup.auth.verify("a-configured-operator-token"));
    let error = steward
        .setup_operator_token(Some("short"))
        .await
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::RequestFormat);
}
