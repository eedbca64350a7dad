//! Twins: the shared objects partners attach their own ledgers to. A twin itself holds only
//! its owner's description.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{AccountId, Timestamp, TwinId};

/// Whether a twin is alive. Termination is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwinStatus {
    /// The twin accepts description changes.
    Alive,
    /// The owner terminated the twin; its description is frozen, ledgers still accept entries.
    Terminated,
}

impl TwinStatus {
    /// The stored and displayed name (`alive`, `terminated`), also `twin_status` in rules.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Alive => "alive",
            Self::Terminated => "terminated",
        }
    }

    /// Parses a stored status name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "alive" => Some(Self::Alive),
            "terminated" => Some(Self::Terminated),
            _ => None,
        }
    }
}

/// Who terminated a twin and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    /// The account that terminated the twin (its owner).
    pub issuer: AccountId,
    /// When.
    pub terminated_ts: Timestamp,
}

/// A twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Twin {
    /// The twin's id.
    pub id: TwinId,
    /// The account that owns the twin (the creator, initially).
    pub owner: AccountId,
    /// The account that created the twin.
    pub creator: AccountId,
    /// Alive or terminated.
    pub status: TwinStatus,
    /// The owner's description, `TWIN` in rules; `None` when never set.
    pub description: Option<Map<String, Value>>,
    /// Set once the twin is terminated.
    pub termination: Option<Termination>,
    /// When the twin was created.
    pub created_ts: Timestamp,
    /// When the twin last changed.
    pub updated_ts: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twin_status_names_round_trip() {
        for status in [TwinStatus::Alive, TwinStatus::Terminated] {
            assert_eq!(TwinStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(TwinStatus::parse("deleted"), None);
    }
}
