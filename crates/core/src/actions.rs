//! The operation ids of Trusted Twin API 3.18 (plus the two legacy ones): the vocabulary of
//! role statements.

/// Every action a role statement may name, in the spec's order.
pub const ALL_ACTIONS: &[&str] = &[
    "get_account",
    "update_account",
    "who_am_i",
    "get_users",
    "create_user",
    "get_user",
    "update_user",
    "delete_user",
    "get_user_secret",
    "create_user_secret_pin",
    "update_user_secret",
    "delete_user_secret",
    "create_user_secret",
    "create_user_token",
    "refresh_user_token",
    "get_user_roles",
    "create_user_role",
    "get_user_role",
    "update_user_role",
    "delete_user_role",
    "scan_twins",
    "create_twin",
    "get_twin",
    "update_twin",
    "terminate_twin",
    "resolve_twin_identity",
    "get_twin_identities",
    "create_twin_identity",
    "get_twin_identity",
    "update_twin_identity",
    "delete_twin_identity",
    "get_twin_ledger_entry",
    "add_twin_ledger_entry",
    "update_twin_ledger_entry",
    "delete_twin_ledger_entry",
    "get_twin_ledger_entry_value",
    "update_twin_ledger_entry_value",
    "get_twin_ledger_entry_history",
    "get_twin_docs",
    "attach_twin_doc",
    "delete_twin_docs",
    "get_twin_doc",
    "update_twin_doc",
    "delete_twin_doc",
    "download_doc",
    "create_upload_url",
    "invalidate_upload_url",
    "get_stickers",
    "put_sticker",
    "get_sticker",
    "remove_sticker",
    "list_stickers",
    "webhook_subscribe",
    "webhook_confirm_subscription",
    "webhook_refresh_subscription",
    "webhook_unsubscribe",
    "get_notifications_access",
    "update_notifications_account_access",
    "get_databases",
    "get_database",
    "update_database",
    "get_database_access",
    "update_database_user_access",
    "update_database_ip_access",
    "get_timeseries_tables",
    "create_timeseries_table",
    "get_timeseries_table",
    "update_timeseries_table",
    "delete_timeseries_table",
    "truncate_timeseries_table",
    "update_timeseries_access",
    "get_indexes_tables",
    "create_indexes_table",
    "get_indexes_table",
    "update_indexes_table",
    "delete_indexes_table",
    "truncate_indexes_table",
    "update_indexes_access",
    "get_batches",
    "create_batch",
    "get_batch",
    "update_batch",
    "delete_batch",
    "get_account_usage",
    "get_user_usage",
    "get_log",
    "trace",
];

/// Actions of Steward's own operations (not in Trusted Twin's API): role statements may
/// name them like the others.
pub const EXTENSION_ACTIONS: &[&str] = &["get_audit"];

/// Whether `action` is a known operation id (Trusted Twin's or a Steward extension's).
pub fn is_known_action(action: &str) -> bool {
    ALL_ACTIONS.contains(&action) || EXTENSION_ACTIONS.contains(&action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_the_85_operations_plus_two_legacy_ones_without_duplicates() {
        let mut sorted = ALL_ACTIONS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ALL_ACTIONS.len());
        assert_eq!(ALL_ACTIONS.len(), 87);
        assert!(is_known_action("get_twin"));
        assert!(!is_known_action("get_twins"));
        assert!(is_known_action("get_audit"));
    }
}
