//! Stickers: workflow tags an account puts on a twin for chosen recipients (spec §2.12, §5.9).
//!
//! A caller matches a sticker when its user id, role id or account id is among the sticker's
//! recipients; only matching callers see or remove a sticker, the creating account included
//! (it must list itself). Anything else is 404 "sticker not found", so a sticker one may not
//! see is indistinguishable from a missing one. Expired stickers are never shown, even before
//! [`Steward::expire_stickers`] removed them.

pub(crate) mod input;

use std::collections::BTreeMap;

use serde_json::Value;
use steward_domain::{Sticker, Timestamp, TwinId};
use steward_store::StickerQuery;
use uuid::Uuid;

use crate::authz::authorize_operation;
use crate::{Error, Principal, Steward};

pub use input::StickerContext;
use input::MAX_STICKERS_PER_PUT;

/// Default and largest page of `list_stickers`.
pub const MAX_STICKER_PAGE: u32 = 100;
/// Largest `offset` of `list_stickers`, so no request walks an unbounded number of rows.
pub const MAX_STICKER_OFFSET: u32 = 10_000;
/// Most stickers `get_stickers` returns for one twin (the newest).
pub const MAX_TWIN_STICKERS: u32 = 1_000;
/// Expired stickers removed per store call by the expiry worker.
const EXPIRY_BATCH: u32 = 500;

/// One sticker of a `put_sticker` request, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StickerInput {
    /// Free text; absent = empty.
    pub note: Option<String>,
    /// User, role or account uuids, as sent.
    pub recipients: Vec<String>,
    /// When the sticker expires; absent = one year from now.
    pub validity_ts: Option<Timestamp>,
    /// `{"on_put" | "on_remove" | "on_expire": topic | [topics]}` or null.
    pub publish: Option<Value>,
}

/// What `list_stickers` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct StickerListing {
    /// Whose stickers (default `personal`).
    pub context: StickerContext,
    /// Only this colour.
    pub color: Option<String>,
    /// Only stickers put at or after this time.
    pub ge: Option<Timestamp>,
    /// Only stickers put at or before this time.
    pub le: Option<Timestamp>,
    /// Page size, 1 to [`MAX_STICKER_PAGE`].
    pub limit: u32,
    /// Matching stickers to skip, at most [`MAX_STICKER_OFFSET`].
    pub offset: u32,
}

impl Default for StickerListing {
    fn default() -> Self {
        Self {
            context: StickerContext::personal(),
            color: None,
            ge: None,
            le: None,
            limit: MAX_STICKER_PAGE,
            offset: 0,
        }
    }
}

/// The ids a sticker must list for the caller to match it: its user, role and account.
fn caller_ids(principal: &Principal) -> Vec<Uuid> {
    vec![
        principal.user.id.as_uuid(),
        principal.role.id.as_uuid(),
        principal.account.as_uuid(),
    ]
}

/// Whether the caller is among the sticker's recipients.
pub(crate) fn addressed_to(principal: &Principal, sticker: &Sticker) -> bool {
    let ids = caller_ids(principal);
    sticker
        .recipients
        .iter()
        .any(|recipient| ids.contains(recipient))
}

fn sticker_not_found() -> Error {
    Error::not_found("sticker")
}

impl Steward {
    /// `put_sticker`: puts stickers of the caller's account on a twin it may see, replacing
    /// the account's stickers of the same colours. Every sticker is checked before any is
    /// stored; returns the stored stickers by colour.
    pub async fn put_stickers(
        &self,
        principal: &Principal,
        twin: TwinId,
        stickers: BTreeMap<String, StickerInput>,
    ) -> Result<Vec<Sticker>, Error> {
        authorize_operation(principal, "put_sticker")?;
        if stickers.is_empty() {
            return Err(Error::request_format(
                "`stickers` must hold at least one sticker",
            ));
        }
        if stickers.len() > MAX_STICKERS_PER_PUT {
            return Err(Error::request_format(format!(
                "`stickers` must hold at most {MAX_STICKERS_PER_PUT} stickers, got {}",
                stickers.len()
            )));
        }
        let now = self.clock.now();
        let mut checked = Vec::with_capacity(stickers.len());
        for (color, sticker) in stickers {
            checked.push(Self::checked_sticker(principal, twin, color, sticker, now)?);
        }
        self.visible_twin(principal, twin).await?;
        // All stickers of the request are stored in one transaction, or none.
        let replaced = self.store.put_stickers(principal.account, &checked).await?;
        for (sticker, replaced) in checked.iter().zip(&replaced) {
            tracing::debug!(
                twin = %sticker.twin,
                account = %sticker.account,
                color = %sticker.color,
                replaced = replaced.is_some(),
                "sticker put"
            );
        }
        // Their `sticker.put` events were written with them; the fan-out and live streams
        // pick them up from the event log.
        self.events.wake();
        Ok(checked)
    }

    fn checked_sticker(
        principal: &Principal,
        twin: TwinId,
        color: String,
        sticker: StickerInput,
        now: Timestamp,
    ) -> Result<Sticker, Error> {
        input::colour(&color)?;
        let field = |name: &str| format!("stickers.{color}.{name}");
        let note = sticker.note.unwrap_or_default();
        input::note(&field("note"), &note)?;
        let recipients = input::recipients(&field("recipients"), &sticker.recipients)?;
        let validity_ts = input::validity(&field("validity_ts"), sticker.validity_ts, now)?;
        let publish = input::publish(&field("publish"), sticker.publish)?;
        Ok(Sticker {
            twin,
            account: principal.account,
            color,
            note,
            recipients,
            validity_ts,
            created_ts: now,
            publish,
        })
    }

    /// `get_stickers`: the valid stickers on a twin the caller may see that are addressed to
    /// it, of the accounts `context` names (default `system`: any account), newest first, at
    /// most [`MAX_TWIN_STICKERS`].
    pub async fn get_stickers(
        &self,
        principal: &Principal,
        twin: TwinId,
        context: StickerContext,
    ) -> Result<Vec<Sticker>, Error> {
        authorize_operation(principal, "get_stickers")?;
        self.visible_twin(principal, twin).await?;
        let query = StickerQuery {
            recipients: caller_ids(principal),
            creators: context.creators(principal.account),
            twin: Some(twin),
            color: None,
            ge: None,
            le: None,
            now: self.clock.now(),
            offset: 0,
            limit: MAX_TWIN_STICKERS,
        };
        Ok(self.store.list_stickers(&query).await?)
    }

    /// `get_sticker`: the sticker of one account (`context`, default `personal`) with a colour
    /// on a twin the caller may see; 404 unless it is valid and addressed to the caller.
    pub async fn get_sticker(
        &self,
        principal: &Principal,
        twin: TwinId,
        color: &str,
        context: StickerContext,
    ) -> Result<Sticker, Error> {
        authorize_operation(principal, "get_sticker")?;
        input::colour(color)?;
        let creator = context.single_creator(principal.account)?;
        self.visible_twin(principal, twin).await?;
        let sticker = match self.store.get_sticker(twin, creator, color).await {
            Ok(sticker) => sticker,
            Err(steward_store::StoreError::NotFound(_)) => return Err(sticker_not_found()),
            Err(error) => return Err(error.into()),
        };
        if sticker.validity_ts <= self.clock.now() || !addressed_to(principal, &sticker) {
            return Err(sticker_not_found());
        }
        Ok(sticker)
    }

    /// `remove_sticker`: removes the sticker of one account (`context`, default `personal`)
    /// with a colour from a twin the caller may see, if it is valid and addressed to the
    /// caller. Of concurrent removals exactly one succeeds; the others are 404.
    pub async fn remove_sticker(
        &self,
        principal: &Principal,
        twin: TwinId,
        color: &str,
        context: StickerContext,
    ) -> Result<Sticker, Error> {
        authorize_operation(principal, "remove_sticker")?;
        input::colour(color)?;
        let creator = context.single_creator(principal.account)?;
        self.visible_twin(principal, twin).await?;
        let removed = self
            .store
            .remove_sticker(
                twin,
                creator,
                color,
                &caller_ids(principal),
                self.clock.now(),
            )
            .await
            .map_err(|error| match error {
                steward_store::StoreError::NotFound(_) => sticker_not_found(),
                other => other.into(),
            })?;
        self.events.wake();
        Ok(removed)
    }

    /// `list_stickers`: valid stickers addressed to the caller across twins, newest first by
    /// (`created_ts`, account, twin, colour). Being a recipient is what lets the caller see a
    /// sticker here; the twin's visibility is not consulted (twin-scoped operations check it).
    pub async fn list_stickers(
        &self,
        principal: &Principal,
        listing: StickerListing,
    ) -> Result<Vec<Sticker>, Error> {
        authorize_operation(principal, "list_stickers")?;
        if !(1..=MAX_STICKER_PAGE).contains(&listing.limit) {
            return Err(Error::request_format(format!(
                "`limit` must be between 1 and {MAX_STICKER_PAGE}, got `{}`",
                listing.limit
            )));
        }
        if listing.offset > MAX_STICKER_OFFSET {
            return Err(Error::request_format(format!(
                "`offset` must be at most {MAX_STICKER_OFFSET}, got `{}`",
                listing.offset
            )));
        }
        if let Some(color) = &listing.color {
            input::colour(color)?;
        }
        let query = StickerQuery {
            recipients: caller_ids(principal),
            creators: listing.context.creators(principal.account),
            twin: None,
            color: listing.color,
            ge: listing.ge,
            le: listing.le,
            now: self.clock.now(),
            offset: listing.offset,
            limit: listing.limit,
        };
        Ok(self.store.list_stickers(&query).await?)
    }

    /// Removes every sticker whose validity has passed (by the service clock), in batches,
    /// and returns how many. Safe to run on several nodes at once: the store hands each
    /// expired sticker to exactly one caller. Meant for a periodic housekeeping task.
    pub async fn expire_stickers(&self) -> Result<u64, Error> {
        let now = self.clock.now();
        let mut expired: u64 = 0;
        loop {
            let batch = self
                .store
                .remove_expired_stickers(now, EXPIRY_BATCH)
                .await?;
            for sticker in &batch {
                tracing::info!(
                    twin = %sticker.twin,
                    account = %sticker.account,
                    color = %sticker.color,
                    validity_ts = sticker.validity_ts.as_tt_seconds(),
                    "sticker expired"
                );
            }
            if !batch.is_empty() {
                self.events.wake();
            }
            expired += batch.len() as u64;
            if batch.len() < EXPIRY_BATCH as usize {
                return Ok(expired);
            }
        }
    }
}
