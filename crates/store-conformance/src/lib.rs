//! The store conformance suite: one set of behavioural cases that every backend of
//! [`steward_store::Store`] must pass, expanded by [`conformance_tests!`] into one
//! `#[tokio::test]` per case inside a module named after the backend, so test names
//! (`sqlite::account_round_trip`, `postgres::account_round_trip`) show which backend ran.
//!
//! This crate owns the cases and their fixtures. It must not depend on any backend crate or on
//! SQL: the backends depend on it (as a dev-dependency) and supply a harness that builds a
//! fresh, empty store per case.

pub mod cases;
pub mod fixtures;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use steward_store::Store;

/// The future of one running case.
pub type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// One case, ready to run against a fresh store. A harness calls it once with an empty store
/// and awaits it (for example inside `tokio::spawn`, to clean up even when it panics).
pub type Case = fn(Arc<dyn Store>) -> CaseFuture;

/// Expands to `mod $backend { #[tokio::test] async fn <case>() { ... } ... }` with one test
/// per conformance case. Each test calls `$harness(case).await`, where `$harness` is an
/// `async fn(steward_store_conformance::Case)` visible from the calling module (the generated
/// module imports `super::*`). The harness builds a fresh, empty store, runs the case on it and
/// cleans up. The calling crate needs `tokio` (with `macros` and `rt`) as a dev-dependency.
///
/// ```ignore
/// async fn run_case(case: steward_store_conformance::Case) {
///     let dir = tempfile::tempdir().unwrap();
///     let store = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
///     case(store).await;
/// }
/// steward_store_conformance::conformance_tests!(sqlite, run_case);
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ident, $harness:ident) => {
        $crate::__conformance_cases!(
            $backend,
            $harness,
            [
                account_round_trip,
                list_accounts_pages_in_id_order,
                suspend_and_resume_account,
                account_resource_access_log_update_round_trip,
                create_account_with_colliding_secret_leaves_nothing_behind,
                duplicate_account_is_refused_and_leaves_nothing_behind,
                role_crud_round_trip,
                list_roles_pages_in_id_order,
                role_for_missing_account_is_refused,
                duplicate_role_is_refused,
                deleting_a_role_in_use_is_refused,
                user_crud_round_trip,
                list_users_pages_in_id_order,
                user_with_role_of_another_account_is_refused,
                user_update_to_role_of_another_account_is_refused,
                duplicate_user_is_refused,
                secret_put_replace_find_and_delete,
                secret_for_missing_user_is_refused,
                duplicate_secret_hash_is_refused_and_keeps_previous_secret,
                deleting_a_user_deletes_its_secret,
                concurrent_secret_replacements_all_succeed,
                pin_redeem_replaces_secret_with_the_pins_validity,
                pin_is_single_use,
                expired_pin_is_refused_and_keeps_the_old_secret,
                pin_of_another_account_cannot_be_redeemed,
                pin_for_missing_user_or_with_taken_hash_is_refused,
                redeem_with_colliding_secret_hash_keeps_pin_and_old_secret,
                deleting_a_user_deletes_its_pins,
                delete_expired_secret_pins_removes_only_expired_ones,
                concurrent_redeems_of_one_pin_succeed_exactly_once,
                concurrent_redeems_of_one_users_pins_all_succeed,
                roles_are_isolated_between_accounts,
                users_are_isolated_between_accounts,
                secrets_are_isolated_between_accounts,
                twin_round_trip_keeps_descriptions_exactly,
                duplicate_twin_is_refused,
                twin_for_missing_or_other_account_is_refused,
                missing_twin_reports_not_found,
                owner_updates_twin_description,
                foreign_description_update_is_refused_and_changes_nothing,
                terminate_twin_then_already_terminated,
                foreign_twin_termination_is_refused,
                concurrent_terminations_of_one_twin_succeed_exactly_once,
                list_owned_twins_pages_in_id_order,
                owned_twin_listings_are_isolated_between_accounts,
                ledger_round_trip_keeps_entries_exactly,
                missing_ledger_reads_as_none,
                creating_an_existing_ledger_conflicts_and_keeps_the_first,
                ledger_update_with_current_version_is_stored,
                stale_ledger_version_conflicts_and_changes_nothing,
                updating_a_missing_ledger_conflicts,
                invalid_ledger_saves_are_refused,
                ledgers_are_isolated_between_accounts_on_one_twin,
                concurrent_ledger_saves_of_one_version_succeed_exactly_once,
                twin_with_ledger_matches_separate_reads,
                ledger_transactions_make_writes_idempotent,
                user_json_round_trips_exactly,
                role_strings_round_trip_exactly,
                account_resource_access_log_round_trips_exactly,
                getters_report_not_found,
                mutations_of_missing_rows_report_not_found,
                setting_put_if_absent_keeps_first_value,
                concurrent_setting_puts_agree_on_one_value,
                ping_answers_and_backend_is_named,
                // ---- history (cases/history.rs) ----
                history_reads_newest_first_within_bounds,
                history_keeps_the_newest_thousand_records,
                expired_history_is_hidden_and_pruned,
                history_purge_and_retention_change,
                history_is_written_with_its_ledger_only,
                // ---- end history ----
                // ---- identities (cases/identities.rs) ----
                identity_round_trip,
                duplicate_identities_are_reported_and_keep_the_stored_one,
                identities_for_a_missing_twin_are_refused,
                identities_are_isolated_between_accounts,
                identities_of_another_account_cannot_be_stored,
                find_identities_by_accounts_in_order_with_limit,
                identity_strings_are_exact,
                identity_scopes_and_keyset_paging,
                // ---- end identities ----
                // ---- stickers (cases/stickers.rs) ----
                sticker_round_trip_keeps_note_and_publish_exactly,
                putting_a_colour_again_replaces_the_sticker_and_returns_the_previous,
                sticker_on_missing_twin_or_for_another_account_is_refused,
                sticker_listing_shows_only_stickers_addressed_to_the_recipients,
                sticker_listing_filters_by_creators_twin_color_and_created_range,
                sticker_listing_orders_newest_first_and_pages,
                expired_stickers_are_neither_listed_nor_removable,
                sticker_removal_needs_a_recipient_and_happens_once,
                concurrent_sticker_removals_succeed_exactly_once,
                concurrent_puts_of_one_colour_leave_one_sticker,
                expired_stickers_are_removed_once_even_with_concurrent_callers,
                stickers_are_isolated_between_accounts,
                stickers_put_together_are_stored_together_or_not_at_all,
                // ---- end stickers ----
                // ---- notifications (cases/notifications.rs) ----
                subscription_round_trip_keeps_every_field_and_queues_the_confirmation,
                subscription_token_lookup_is_scoped_to_the_topic_account,
                duplicate_subscription_is_refused_and_leaves_nothing_behind,
                subscription_for_a_missing_publisher_or_subscriber_is_refused,
                update_subscription_replaces_confirmation_validity_and_update_time_only,
                deleting_a_subscription_returns_it_and_drops_its_pending_deliveries,
                of_concurrent_subscription_deletes_exactly_one_wins,
                deleting_a_user_deletes_its_subscriptions_and_their_deliveries,
                active_subscriptions_are_the_confirmed_unexpired_ones_in_id_order,
                notification_access_grants_are_replaced_and_revoked_with_an_empty_list,
                notification_access_for_a_missing_grantee_is_refused,
                enqueue_is_all_or_nothing,
                outbox_hands_out_a_subscriptions_messages_one_at_a_time_in_order,
                claiming_respects_the_limit_in_order,
                a_claimed_delivery_is_claimable_again_only_once_its_lease_expires,
                messages_not_yet_due_are_not_claimed_and_hold_back_later_ones,
                retry_records_the_attempt_and_releases_the_lease,
                missing_messages_are_not_found_when_finished_retried_or_dead_lettered,
                an_expired_claim_cannot_record_over_a_newer_one,
                dead_lettered_messages_leave_the_outbox_for_the_subscribers_dead_letters,
                concurrent_claimers_never_get_the_same_delivery,
                concurrent_dispatchers_deliver_each_message_once_and_in_order,
                pruning_removes_expired_subscriptions_and_old_dead_letters,
                // ---- end notifications ----
                // ---- events (cases/events.rs) ----
                ledger_save_events_get_consecutive_ids_and_exact_bodies,
                refused_ledger_saves_write_no_events,
                sticker_changes_write_sticker_events,
                failed_sticker_writes_write_no_events,
                events_page_by_after_and_limit,
                last_event_id_survives_pruning_everything,
                pruning_honours_before_up_to_and_limit,
                pruning_never_leaves_a_hole,
                event_cursor_moves_by_compare_and_set_with_its_deliveries,
                concurrent_cursor_advances_succeed_exactly_once,
                concurrent_saves_get_ids_without_gaps_or_duplicates,
                // ---- end events ----
                // ---- audit (cases/audit.rs) ----
                audit_appends_get_consecutive_seqs_and_exact_text,
                ledger_save_audit_records_are_stored_only_when_the_save_succeeds,
                audit_listing_shows_the_viewers_records_with_every_filter,
                audit_listing_pages_by_the_before_cursor,
                audit_seal_is_a_compare_and_set_with_its_hashes_and_checkpoint,
                concurrent_audit_seals_succeed_exactly_once,
                concurrent_audit_appends_get_seqs_without_gaps_or_duplicates,
                audit_retention_deletes_sealed_records_expired_for_both_parties,
                concurrent_audit_pruning_deletes_each_record_once,
                // ---- end audit ----
                // ---- usage and account log (cases/usage.rs) ----
                usage_increments_of_concurrent_nodes_add_up,
                usage_pruning_deletes_only_older_buckets,
                account_log_appends_and_pages_in_seq_order,
                concurrent_account_log_appends_get_seqs_without_gaps,
                dead_letters_append_to_the_subscribers_log,
                account_log_pruning_keeps_seqs_increasing,
                // ---- end usage and account log ----
                // ---- per-account limits (cases/limits.rs) ----
                account_limits_round_trip_and_clear,
                twin_creation_within_quota_stops_at_the_quota,
                concurrent_twin_creations_never_exceed_the_quota,
                account_ledger_bytes_add_up_over_its_ledgers,
                // ---- end per-account limits ----
            ]
        );
    };
}

/// Implementation detail of [`conformance_tests!`]; not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($backend:ident, $harness:ident, [$($case:ident),* $(,)?]) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[tokio::test]
                async fn $case() {
                    $harness(|store| -> $crate::CaseFuture {
                        ::std::boxed::Box::pin($crate::cases::$case(store))
                    })
                    .await;
                }
            )*
        }
    };
}
