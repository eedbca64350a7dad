//! The cost of auditing reads (issue #7): a foreign reader's ledger read (20 entries, 5 visible,
//! object cache warm, the setup of `ledger_read`) without an audit scope, compared in the same
//! run with the same read audited the way the HTTP layer audits it: inside an `AuditScope`,
//! closed with `finish`, queued with `record_audit`, and the queue appended to the SQLite audit
//! log with `flush_audit` every `FLUSH_EVERY` reads (the server flushes on a timer; here the
//! append runs inline, so its cost is part of the per-read figure).
//!
//! Further variants split that cost: the scope and queueing alone (flush outside the timing),
//! a larger batch, the append of one batch on its own, and the read audited and sealed into the
//! Merkle log (a seal every ten flushes, as the default 200 ms flush and 2 s seal intervals do).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use steward_core::audit::seal::AuditSigner;
use steward_core::audit::AuditScope;
use steward_core::{LedgerSelector, Principal, ServiceSettings, Steward};
use steward_domain::{SystemClock, TwinId};
use steward_store_sqlite::SqliteStore;

mod common;

/// Reads per flush of the audit queue in `audit_on` (see BENCHMARKS.md for the choice).
const FLUSH_EVERY: u64 = 256;

/// Reads per flush in the large-batch variant.
const FLUSH_EVERY_LARGE: u64 = 2_048;

/// Rounds of the paired comparison printed after the criterion group.
const PAIRED_ROUNDS: usize = 200;

/// Flushes per seal in the sealed variant (default intervals: 2 s seal / 200 ms flush).
const FLUSHES_PER_SEAL: u64 = 10;

/// The audited read, as the HTTP middleware runs it; returns the number of entries read.
async fn audited_read(steward: &Steward, reader: &Principal, twin: TwinId) -> usize {
    let scope = AuditScope::new(
        "get_twin_ledger_entry",
        "bench-request",
        Some("127.0.0.1".to_owned()),
        steward.now(),
    );
    let read = scope
        .run(steward.get_ledger_entries(reader, twin, LedgerSelector::Owner, None))
        .await
        .unwrap();
    for record in scope.finish(200, steward.now()) {
        steward.record_audit(record).await;
    }
    read.entries.len()
}

/// Appends whatever is queued and seals the log up to date (outside any timing).
async fn settle(steward: &Steward) {
    steward.flush_audit().await.unwrap();
    while steward.seal_audit().await.unwrap() > 0 {}
}

#[allow(clippy::too_many_lines)]
fn audited_read_cost(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, steward, reader, twin) = runtime.block_on(async {
        let store: Arc<dyn steward_store::Store> =
            Arc::new(SqliteStore::open(dir.path()).await.unwrap());
        let (signer, _key) = AuditSigner::generate("bench.example/audit").unwrap();
        let settings = ServiceSettings {
            audit_signer: Some(signer),
            ..ServiceSettings::default()
        };
        let steward = Steward::start(store.clone(), Arc::new(SystemClock), settings)
            .await
            .unwrap();
        let (reader, twin, _) = common::shop_and_courier(&steward).await;
        (store, steward, reader, twin)
    });
    let visible = runtime
        .block_on(steward.get_ledger_entries(&reader, twin, LedgerSelector::Owner, None))
        .unwrap();
    assert_eq!(
        visible.entries.len(),
        5,
        "the benchmark reads what it claims to"
    );
    let sample = runtime.block_on(async {
        let scope = AuditScope::new(
            "get_twin_ledger_entry",
            "bench-request",
            None,
            steward.now(),
        );
        scope
            .run(steward.get_ledger_entries(&reader, twin, LedgerSelector::Owner, None))
            .await
            .unwrap();
        let mut records = scope.finish(200, steward.now());
        assert_eq!(records.len(), 1, "a single-owner read makes one record");
        records.remove(0)
    });
    println!(
        "one audit record of this read: {} bytes of leaf text, {} returned, {} withheld",
        sample.leaf_text().len(),
        sample.returned.len(),
        sample.withheld.len()
    );
    let stored_before = runtime.block_on(store.audit_record_count()).unwrap();
    // Every record queued by the benchmark, to check they all reached the database.
    let recorded = Cell::new(0_u64);

    let mut group = criterion.benchmark_group("read_foreign");
    group.bench_function("audit_off", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(steward.get_ledger_entries(&reader, twin, LedgerSelector::Owner, None))
                .unwrap()
        });
    });
    group.bench_function("audit_on", |bencher| {
        bencher.iter(|| {
            runtime.block_on(async {
                let read = audited_read(&steward, &reader, twin).await;
                recorded.set(recorded.get() + 1);
                if recorded.get().is_multiple_of(FLUSH_EVERY) {
                    steward.flush_audit().await.unwrap();
                }
                read
            })
        });
    });
    runtime.block_on(steward.flush_audit()).unwrap();
    group.bench_function("audit_on_flush_every_2048", |bencher| {
        bencher.iter(|| {
            runtime.block_on(async {
                let read = audited_read(&steward, &reader, twin).await;
                recorded.set(recorded.get() + 1);
                if recorded.get().is_multiple_of(FLUSH_EVERY_LARGE) {
                    steward.flush_audit().await.unwrap();
                }
                read
            })
        });
    });
    runtime.block_on(steward.flush_audit()).unwrap();
    // Scope, notes, finish and queueing only: the append runs outside the timed part.
    group.bench_function("audit_on_without_append", |bencher| {
        bencher.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            for _ in 0..iterations {
                let start = Instant::now();
                runtime.block_on(audited_read(&steward, &reader, twin));
                timed += start.elapsed();
                recorded.set(recorded.get() + 1);
                if recorded.get().is_multiple_of(FLUSH_EVERY) {
                    runtime.block_on(steward.flush_audit()).unwrap();
                }
            }
            timed
        });
    });
    // The audit log is sealed up to date before, so each seal covers ten flushes' records.
    runtime.block_on(settle(&steward));
    group.bench_function("audit_on_sealed", |bencher| {
        bencher.iter(|| {
            runtime.block_on(async {
                let read = audited_read(&steward, &reader, twin).await;
                recorded.set(recorded.get() + 1);
                if recorded.get().is_multiple_of(FLUSH_EVERY) {
                    steward.flush_audit().await.unwrap();
                }
                if recorded
                    .get()
                    .is_multiple_of(FLUSH_EVERY * FLUSHES_PER_SEAL)
                {
                    steward.seal_audit().await.unwrap();
                }
                read
            })
        });
    });
    runtime.block_on(steward.flush_audit()).unwrap();
    // One append of a batch of FLUSH_EVERY records (queued outside the timing), per batch.
    group.bench_function("append_one_batch_of_256", |bencher| {
        bencher.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            for _ in 0..iterations {
                for _ in 0..FLUSH_EVERY {
                    runtime.block_on(audited_read(&steward, &reader, twin));
                }
                recorded.set(recorded.get() + FLUSH_EVERY);
                let start = Instant::now();
                let appended = runtime.block_on(steward.flush_audit()).unwrap();
                timed += start.elapsed();
                assert_eq!(appended, FLUSH_EVERY);
            }
            timed
        });
    });
    group.finish();

    // The same comparison, paired: rounds of FLUSH_EVERY reads each way, alternating which goes
    // first, so load from other processes falls on both alike; the median of the per-round
    // ratios is robust to rounds that a neighbour slowed down.
    let mut ratios = Vec::with_capacity(PAIRED_ROUNDS);
    let (mut off_total, mut on_total) = (Duration::ZERO, Duration::ZERO);
    runtime.block_on(steward.flush_audit()).unwrap();
    for round in 0..PAIRED_ROUNDS {
        let mut off = Duration::ZERO;
        let mut on = Duration::ZERO;
        for audited in [round % 2 == 0, round % 2 == 1] {
            let start = Instant::now();
            runtime.block_on(async {
                for _ in 0..FLUSH_EVERY {
                    if audited {
                        audited_read(&steward, &reader, twin).await;
                    } else {
                        steward
                            .get_ledger_entries(&reader, twin, LedgerSelector::Owner, None)
                            .await
                            .unwrap();
                    }
                }
                if audited {
                    steward.flush_audit().await.unwrap();
                }
            });
            let elapsed = start.elapsed();
            if audited {
                on = elapsed;
                recorded.set(recorded.get() + FLUSH_EVERY);
            } else {
                off = elapsed;
            }
        }
        off_total += off;
        on_total += on;
        ratios.push(on.as_secs_f64() / off.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let per_read =
        |total: Duration| total.as_secs_f64() * 1e6 / (PAIRED_ROUNDS as f64 * FLUSH_EVERY as f64);
    println!(
        "paired, {PAIRED_ROUNDS} rounds of {FLUSH_EVERY} reads each way: audit_off {:.1} µs/read, \
         audit_on {:.1} µs/read (one flush per round), ratio of totals {:.3}, \
         per-round ratio median {:.3} (quartiles {:.3}–{:.3})",
        per_read(off_total),
        per_read(on_total),
        on_total.as_secs_f64() / off_total.as_secs_f64(),
        ratios[PAIRED_ROUNDS / 2],
        ratios[PAIRED_ROUNDS / 4],
        ratios[PAIRED_ROUNDS * 3 / 4],
    );

    runtime.block_on(steward.flush_audit()).unwrap();
    let stored_after = runtime.block_on(store.audit_record_count()).unwrap();
    assert_eq!(
        stored_after - stored_before,
        recorded.get(),
        "every audited read reached the audit log"
    );
    println!(
        "audit records appended during the run: {} (log size {stored_after})",
        recorded.get()
    );
}

criterion_group!(benches, audited_read_cost);
criterion_main!(benches);
