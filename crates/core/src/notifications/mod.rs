//! Notifications: webhook subscriptions to topics, topic access grants, signed messages and
//! the outbox they wait in until a dispatcher delivers them.

pub mod callback;
pub mod delivery;
pub mod publish;
pub mod signed_json;
pub mod stickers;
pub mod subscriptions;
