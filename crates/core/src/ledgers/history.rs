//! Entry history: what a ledger write records (one record per value change of an entry with a
//! `history` retention), and reading it back through the same visibility as entries.

use std::collections::BTreeMap;

use steward_domain::{
    Entry, EntryContent, HistoryAppend, HistoryRecord, HistoryWrite, RetentionPeriod, Timestamp,
    TwinId,
};
use steward_store::HistoryQuery;

use super::LedgerSelector;
use crate::authz::{authorize_operation, visible_entry_names};
use crate::{Error, Principal, Steward};

/// Default and largest `limit` of a history read, per entry.
pub const DEFAULT_HISTORY_LIMIT: u32 = 100;

/// Largest `limit` of a history read: every stored record of an entry.
pub const MAX_HISTORY_LIMIT: u32 = steward_domain::MAX_HISTORY_RECORDS as u32;

fn retention(entry: &Entry) -> Option<RetentionPeriod> {
    entry.history.as_deref().and_then(RetentionPeriod::parse)
}

/// The history side of a write that turned `before` into `after`:
///
/// * a value entry with a retention gets a record when it is created or its value changes
///   (writing an identical value records nothing), keyed by its `value_changed_ts`;
/// * a changed retention re-computes the expiry of the entry's stored records;
/// * a deleted entry, or one whose history was turned off, loses its records.
pub(crate) fn history_write(
    before: &BTreeMap<String, Entry>,
    after: &BTreeMap<String, Entry>,
) -> HistoryWrite {
    let mut write = HistoryWrite::default();
    for (name, old) in before {
        let kept = after.get(name).and_then(retention);
        if retention(old).is_some() && kept.is_none() {
            write.purge.push(name.clone());
        }
    }
    for (name, new) in after {
        let Some(period) = retention(new) else {
            continue;
        };
        let old = before.get(name);
        if let Some(old_period) = old.and_then(retention) {
            if old_period != period {
                write.retention_changes.push((name.clone(), period));
            }
        }
        let EntryContent::Value(value) = &new.content else {
            continue;
        };
        let changed = match old.map(|old| &old.content) {
            Some(EntryContent::Value(old_value)) => old_value != value,
            _ => true,
        };
        if changed {
            let ts = new.value_changed_ts;
            write.appends.push(HistoryAppend {
                entry: name.clone(),
                record: HistoryRecord {
                    ts,
                    value: value.clone(),
                },
                expires_ts: period.expiry(ts),
            });
        }
    }
    write
}

/// What a history read returns for one requested entry.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryHistory {
    /// The entry's records, newest first.
    Records(Vec<HistoryRecord>),
    /// The entry does not exist or the caller may not see it (the two are indistinguishable).
    NotAccessible,
}

/// A history read's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryBounds {
    /// Only records at or after this time.
    pub ge: Option<Timestamp>,
    /// Only records at or before this time.
    pub le: Option<Timestamp>,
    /// At most this many records per entry (1..=1000).
    pub limit: u32,
}

impl Steward {
    /// `get_twin_ledger_entry_history`: the history of the visible entries of a ledger. With
    /// `names`, exactly those entries are answered, each either with its records or as not
    /// accessible; without, every visible entry that keeps history.
    pub async fn get_ledger_history(
        &self,
        principal: &Principal,
        twin: TwinId,
        selector: LedgerSelector,
        names: Option<&[String]>,
        bounds: HistoryBounds,
    ) -> Result<BTreeMap<String, EntryHistory>, Error> {
        authorize_operation(principal, "get_twin_ledger_entry_history")?;
        if !(1..=MAX_HISTORY_LIMIT).contains(&bounds.limit) {
            return Err(Error::request_format(format!(
                "`limit` must be between 1 and {MAX_HISTORY_LIMIT}"
            )));
        }
        let (twin, ledger) = self.twin_with_ledger(principal, twin, selector).await?;
        let account = ledger.account;
        let now = self.clock.now();
        let visible = visible_entry_names(principal, &twin, &ledger, &self.rule_cache, now);
        if crate::audit::active() {
            // Asked for: the entries named, or without names every entry keeping history.
            super::note_entry_decisions(
                principal,
                "get_twin_ledger_entry_history",
                &ledger,
                &visible,
                |name, entry| match names {
                    Some(names) => names.iter().any(|wanted| wanted == name),
                    None => retention(entry).is_some(),
                },
            );
        }
        let wanted: Vec<String> = match names {
            Some(names) => names.to_vec(),
            None => visible
                .iter()
                .filter(|name| ledger.entries.get(*name).and_then(retention).is_some())
                .cloned()
                .collect(),
        };
        let readable: Vec<String> = wanted
            .iter()
            .filter(|name| visible.contains(*name))
            .cloned()
            .collect();
        let mut stored = if readable.is_empty() {
            BTreeMap::new()
        } else {
            let query = HistoryQuery {
                entries: readable,
                ge: bounds.ge,
                le: bounds.le,
                limit: bounds.limit,
                now,
            };
            self.store.get_history(twin.id, account, &query).await?
        };
        Ok(wanted
            .into_iter()
            .map(|name| {
                let answer = if visible.contains(&name) {
                    EntryHistory::Records(stored.remove(&name).unwrap_or_default())
                } else {
                    EntryHistory::NotAccessible
                };
                (name, answer)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(value: serde_json::Value, history: Option<&str>, changed: i64) -> Entry {
        Entry {
            content: EntryContent::Value(value),
            visibility: None,
            history: history.map(str::to_owned),
            publish: None,
            timeseries: None,
            entry_created_ts: Timestamp::from_millis(0),
            entry_updated_ts: Timestamp::from_millis(changed),
            value_changed_ts: Timestamp::from_millis(changed),
        }
    }

    fn ledger(entries: &[(&str, Entry)]) -> BTreeMap<String, Entry> {
        entries
            .iter()
            .map(|(name, entry)| ((*name).to_owned(), entry.clone()))
            .collect()
    }

    #[test]
    fn records_value_changes_of_entries_with_history_only() {
        let before = ledger(&[
            ("same", entry(json!(1), Some("7D"), 1)),
            ("changed", entry(json!(1), Some("INF"), 1)),
            ("untracked", entry(json!(1), None, 1)),
        ]);
        let after = ledger(&[
            ("same", entry(json!(1), Some("7D"), 1)),
            ("changed", entry(json!(2), Some("INF"), 5)),
            ("untracked", entry(json!(2), None, 5)),
            ("new", entry(json!("n"), Some("1D"), 5)),
        ]);
        let write = history_write(&before, &after);
        let appended: Vec<(&str, i64, Option<i64>)> = write
            .appends
            .iter()
            .map(|append| {
                (
                    append.entry.as_str(),
                    append.record.ts.as_millis(),
                    append.expires_ts.map(|at| at.as_millis()),
                )
            })
            .collect();
        assert_eq!(
            appended,
            [("changed", 5, None), ("new", 5, Some(5 + 86_400_000))]
        );
        assert!(write.purge.is_empty() && write.retention_changes.is_empty());
    }

    #[test]
    fn deleting_or_turning_off_history_purges_and_retention_changes_re_expire() {
        let before = ledger(&[
            ("deleted", entry(json!(1), Some("7D"), 1)),
            ("off", entry(json!(1), Some("7D"), 1)),
            ("longer", entry(json!(1), Some("7D"), 1)),
        ]);
        let after = ledger(&[
            ("off", entry(json!(1), None, 1)),
            ("longer", entry(json!(1), Some("2W"), 1)),
        ]);
        let write = history_write(&before, &after);
        assert_eq!(write.purge, ["deleted", "off"]);
        assert_eq!(
            write.retention_changes,
            [("longer".to_owned(), RetentionPeriod::Weeks(2))]
        );
        assert!(write.appends.is_empty());
    }
}
