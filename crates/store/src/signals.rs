//! Signals one node's changes send to the others, so their caches and live event streams
//! follow at once. On PostgreSQL they travel by `NOTIFY` on [`ChangeSignal::CHANNEL`], sent
//! inside the changing transaction (so they are delivered exactly when it commits); a single
//! SQLite file has one node, which signals itself in memory.

use steward_domain::TwinId;

/// What changed on another node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSignal {
    /// A twin, one of its ledgers or one of its stickers changed (maybe with new events).
    Twin(TwinId),
    /// Accounts, users, roles or secrets changed: cached credentials must be checked again.
    Access,
    /// New events were written that are not about one twin (for example sticker expiry).
    Events,
    /// Signals may have been lost (the listening connection dropped): forget everything
    /// cached and look for new events.
    Resync,
}

impl ChangeSignal {
    /// The PostgreSQL channel signals travel on.
    pub const CHANNEL: &'static str = "steward_changes";

    /// The `NOTIFY` payload of this signal.
    pub fn encode(&self) -> String {
        match self {
            Self::Twin(twin) => format!("t:{twin}"),
            Self::Access => "a".to_owned(),
            Self::Events => "e".to_owned(),
            Self::Resync => "r".to_owned(),
        }
    }

    /// Reads a payload; an unknown one is treated as [`ChangeSignal::Resync`], the safe answer.
    pub fn decode(payload: &str) -> Self {
        match payload {
            "a" => Self::Access,
            "e" => Self::Events,
            _ => payload
                .strip_prefix("t:")
                .and_then(|twin| twin.parse().ok())
                .map_or(Self::Resync, Self::Twin),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_round_trip_and_unknown_payloads_resync() {
        let twin = TwinId::new_random();
        for signal in [
            ChangeSignal::Twin(twin),
            ChangeSignal::Access,
            ChangeSignal::Events,
            ChangeSignal::Resync,
        ] {
            assert_eq!(ChangeSignal::decode(&signal.encode()), signal);
        }
        assert_eq!(ChangeSignal::decode("t:not-a-uuid"), ChangeSignal::Resync);
        assert_eq!(ChangeSignal::decode(""), ChangeSignal::Resync);
    }
}
