//! Sealing the audit log: appending the Merkle hashes of new records (RFC 6962, in the stored
//! numbering of Go's `sumdb/tlog`) and signing a C2SP checkpoint of the new size; and serving
//! checkpoints and proofs.
//!
//! Any node may seal; the store moves the sealed size from where the sealer found it or not at
//! all, so two nodes never append conflicting hashes. A record is tamper-evident once a signed
//! checkpoint covers it: until then (at most one sealing interval) it is protected only by the
//! database's own access control.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;

use steward_audit::merkle::{self, Hash, HashReader};
use steward_audit::{Checkpoint, NoteSigner, NoteVerifier};
use steward_domain::AuditCheckpoint;

use crate::{Error, ErrorCode, Steward};

/// Records sealed per checkpoint at most.
const SEAL_BATCH: u32 = 10_000;

/// The key that signs checkpoints, and the log's name (its origin).
#[derive(Clone)]
pub struct AuditSigner {
    signer: NoteSigner,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSigner")
            .field("origin", &self.signer.name())
            .finish_non_exhaustive()
    }
}

impl PartialEq for AuditSigner {
    fn eq(&self, other: &Self) -> bool {
        self.signer.verifier().verifier_key() == other.signer.verifier().verifier_key()
    }
}

impl Eq for AuditSigner {}

impl AuditSigner {
    /// A signer from a Go-style `PRIVATE+KEY+<origin>+…` key string.
    pub fn parse(key: &str) -> Result<Self, Error> {
        NoteSigner::parse(key.trim())
            .map(|signer| Self { signer })
            .map_err(|error| Error::new(ErrorCode::General, format!("audit signing key: {error}")))
    }

    /// A new random key for the log named `origin`; returns the signer and its key string
    /// (to keep: it is the secret).
    pub fn generate(origin: &str) -> Result<(Self, String), Error> {
        let signer = NoteSigner::generate(origin).map_err(|error| {
            Error::new(ErrorCode::General, format!("audit signing key: {error}"))
        })?;
        let key = signer.signer_key();
        Ok((Self { signer }, key))
    }

    /// The log's origin (the first line of its checkpoints).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The public verifier key (`<origin>+<key id>+<key>`), to publish.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier().verifier_key()
    }
}

/// A reader of stored hashes that answers from memory and remembers what it lacked. Which
/// hashes a proof or an append reads depends only on positions, never on hash values, so one
/// pass with zeros finds every hash to load, and a second pass computes the real result.
#[derive(Default)]
struct Prefetch {
    known: HashMap<u64, Hash>,
    missing: RefCell<BTreeSet<u64>>,
}

impl HashReader for Prefetch {
    type Error = Infallible;

    fn read_hashes(&self, positions: &[u64]) -> Result<Vec<Hash>, Infallible> {
        Ok(positions
            .iter()
            .map(|position| {
                self.known.get(position).copied().unwrap_or_else(|| {
                    self.missing.borrow_mut().insert(*position);
                    [0; 32]
                })
            })
            .collect())
    }
}

fn tree_error<E: std::fmt::Display>(error: E) -> Error {
    Error::new(ErrorCode::General, format!("audit log: {error}"))
}

impl Steward {
    /// Loads the hashes `prefetch` found missing; returns whether there were any.
    async fn load_missing(&self, prefetch: &mut Prefetch) -> Result<bool, Error> {
        let missing: Vec<u64> = prefetch.missing.take().into_iter().collect();
        if missing.is_empty() {
            return Ok(false);
        }
        let hashes = self.store.read_audit_hashes(&missing).await?;
        prefetch.known.extend(missing.into_iter().zip(hashes));
        Ok(true)
    }

    /// Seals until the log is caught up, a batch and a checkpoint at a time, at most
    /// `max_batches` batches; returns how many records it sealed. A node appending faster than
    /// one batch per sealing interval still gets every record sealed within a few intervals.
    pub async fn seal_audit_backlog(&self, max_batches: u32) -> Result<u64, Error> {
        let mut sealed = 0;
        for _ in 0..max_batches {
            let batch = self.seal_audit().await?;
            sealed += batch;
            if batch < u64::from(SEAL_BATCH) {
                break;
            }
        }
        Ok(sealed)
    }

    /// Seals records not covered yet (up to a batch) and signs a checkpoint of the new size;
    /// returns how many records it sealed (0: nothing new, or another node sealed first).
    pub async fn seal_audit(&self) -> Result<u64, Error> {
        let Some(signer) = self.settings.audit_signer.as_ref() else {
            return Ok(0);
        };
        let size = self.store.audit_tree_size().await?;
        let records = self.store.read_audit_records(size, SEAL_BATCH).await?;
        if records.is_empty() {
            return Ok(0);
        }
        let mut prefetch = Prefetch::default();
        let (hashes, root, new_size) = loop {
            let mut reader = Prefetch {
                known: prefetch.known.clone(),
                missing: RefCell::new(BTreeSet::new()),
            };
            let mut appended = Vec::new();
            for (offset, record) in records.iter().enumerate() {
                let n = size + offset as u64;
                if record.seq != n {
                    return Err(tree_error(format!(
                        "audit record {n} is missing (found {})",
                        record.seq
                    )));
                }
                let first = merkle::stored_hash_count(n);
                let stored = merkle::stored_hashes_for_record(n, record.text.as_bytes(), &reader)
                    .map_err(tree_error)?;
                for (index, hash) in stored.into_iter().enumerate() {
                    let position = first + index as u64;
                    reader.known.insert(position, hash);
                    appended.push((position, hash));
                }
            }
            let new_size = size + records.len() as u64;
            let root = merkle::tree_hash(new_size, &reader).map_err(tree_error)?;
            prefetch.missing = reader.missing;
            if !self.load_missing(&mut prefetch).await? {
                break (appended, root, new_size);
            }
        };
        let note = Checkpoint::new(signer.origin(), new_size, root)
            .sign(&signer.signer)
            .map_err(tree_error)?;
        let checkpoint = AuditCheckpoint {
            size: new_size,
            ts: self.clock.now(),
            note,
        };
        let sealed = self
            .store
            .seal_audit(size, new_size, &hashes, &checkpoint)
            .await?;
        Ok(if sealed { records.len() as u64 } else { 0 })
    }

    /// The newest signed checkpoint, if the log has one.
    pub async fn audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>, Error> {
        Ok(self.store.latest_audit_checkpoint().await?)
    }

    /// The public key checkpoints verify with, if this node signs them.
    pub fn audit_verifier_key(&self) -> Option<String> {
        self.settings
            .audit_signer
            .as_ref()
            .map(AuditSigner::verifier_key)
    }

    /// Runs a proof computation against stored hashes (two passes: positions, then values).
    async fn with_stored_hashes<T>(
        &self,
        compute: impl Fn(&Prefetch) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut prefetch = Prefetch::default();
        loop {
            let result = compute(&prefetch)?;
            if !self.load_missing(&mut prefetch).await? {
                return Ok(result);
            }
        }
    }

    /// The hashes proving record `index` is in the log of `size` records (RFC 6962 audit
    /// path), with the record's leaf hash. `size` must be sealed (at most the sealed size).
    pub async fn audit_inclusion_hashes(
        &self,
        index: u64,
        size: u64,
    ) -> Result<(Hash, Vec<Hash>), Error> {
        self.check_sealed(size).await?;
        if index >= size {
            return Err(Error::request_format("`index` must be smaller than `size`"));
        }
        let leaf_position = merkle::stored_hash_index(0, index);
        let proof = self
            .with_stored_hashes(|reader| {
                merkle::prove_record(size, index, reader).map_err(tree_error)
            })
            .await?;
        let leaf = self.store.read_audit_hashes(&[leaf_position]).await?;
        let leaf = leaf
            .first()
            .copied()
            .ok_or_else(|| tree_error("leaf hash missing"))?;
        Ok((leaf, proof))
    }

    /// The hashes proving the log of `to` records extends the log of `from` records (RFC 6962
    /// consistency proof). Both sizes must be sealed, `1 <= from <= to`.
    pub async fn audit_consistency_hashes(&self, from: u64, to: u64) -> Result<Vec<Hash>, Error> {
        self.check_sealed(to).await?;
        if from == 0 || from > to {
            return Err(Error::request_format(
                "`from` must be at least 1 and at most `to`",
            ));
        }
        self.with_stored_hashes(|reader| merkle::prove_tree(to, from, reader).map_err(tree_error))
            .await
    }

    async fn check_sealed(&self, size: u64) -> Result<(), Error> {
        let sealed = self.store.audit_tree_size().await?;
        if size == 0 || size > sealed {
            return Err(Error::request_format(format!(
                "`size` must be a sealed size of the log, 1 to {sealed}"
            )));
        }
        Ok(())
    }
}

/// Opens a checkpoint note with `verifier_key`, for tools that check a log.
pub fn open_checkpoint(note: &str, verifier_key: &str) -> Result<Checkpoint, String> {
    let verifier = NoteVerifier::parse(verifier_key).map_err(|error| error.to_string())?;
    Checkpoint::open(note.as_bytes(), verifier.name(), &verifier).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_signer_round_trips_through_its_key_string() {
        let (signer, key) = AuditSigner::generate("steward.test/audit").unwrap();
        let parsed = AuditSigner::parse(&key).unwrap();
        assert_eq!(parsed, signer);
        assert_eq!(parsed.origin(), "steward.test/audit");
        assert!(
            !format!("{signer:?}").contains("PRIVATE"),
            "Debug hides the key"
        );
        assert!(signer.verifier_key().starts_with("steward.test/audit+"));
    }
}
