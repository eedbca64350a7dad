//! The account log (`GET /log`) and diagnostic traces (`POST /trace`).
//!
//! The log holds messages of asynchronous work for an account, oldest first, each text
//! starting with its ISO-8601 UTC time: dead-lettered webhook messages (written by the store
//! in the dead letter's transaction) and the stages of traces. `fragment` is an opaque cursor:
//! the position of the last message returned, stable across nodes because positions are
//! assigned in commit order per account. Messages are kept 7 days.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use steward_domain::{iso8601_utc, AccountId};

use crate::authz::authorize_operation;
use crate::{Error, Principal, Steward};

/// Most messages one `GET /log` returns.
pub const LOG_PAGE_SIZE: u32 = 100;

/// What `fragment` texts start with before encoding, so other base64 text is refused.
const FRAGMENT_PREFIX: &str = "log:";

/// One page of the account log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    /// Pass as `fragment` to continue after the last message returned (the same fragment when
    /// nothing new was there).
    pub fragment: String,
    /// The messages, oldest first.
    pub messages: Vec<String>,
}

/// The fragment of a log position.
pub fn encode_fragment(seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{FRAGMENT_PREFIX}{seq}"))
}

/// The log position of a fragment; 400 / 400589 for anything this server did not hand out.
pub fn decode_fragment(fragment: &str) -> Result<u64, Error> {
    URL_SAFE_NO_PAD
        .decode(fragment)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(FRAGMENT_PREFIX)?.parse().ok())
        .ok_or_else(|| {
            let shown: String = fragment.chars().take(64).collect();
            Error::request_format(format!("`{shown}` is not a valid log fragment"))
        })
}

impl Steward {
    /// `get_log`: up to [`LOG_PAGE_SIZE`] messages of the caller's account log after
    /// `fragment` (from the oldest kept message without one), oldest first.
    pub async fn get_log(
        &self,
        principal: &Principal,
        fragment: Option<&str>,
    ) -> Result<LogPage, Error> {
        authorize_operation(principal, "get_log")?;
        let after = fragment.map(decode_fragment).transpose()?.unwrap_or(0);
        let messages = self
            .store
            .list_account_log(principal.account, after, LOG_PAGE_SIZE)
            .await?;
        let last = messages.last().map_or(after, |message| message.seq);
        Ok(LogPage {
            fragment: encode_fragment(last),
            messages: messages.into_iter().map(|message| message.text).collect(),
        })
    }

    /// `trace`: starts a diagnostic task for the caller's account that walks the processing
    /// pipeline and logs one message per stage (`<time> INFO trace <request id> <stage>:
    /// <detail>`); returns at once. `request_id` is the request's `X-Request-Id`.
    pub fn trace(&self, principal: &Principal, request_id: &str) -> Result<(), Error> {
        authorize_operation(principal, "trace")?;
        let steward = self.clone();
        let account = principal.account;
        let request_id: String = request_id.chars().take(128).collect();
        tokio::spawn(async move {
            if let Err(error) = steward.run_trace(account, &request_id).await {
                tracing::warn!(%error, %account, "trace task failed");
            }
        });
        Ok(())
    }

    /// The stages of a trace, each logged as soon as it is known.
    async fn run_trace(&self, account: AccountId, request_id: &str) -> Result<(), Error> {
        self.log_trace(account, request_id, "received", "trace task started")
            .await?;
        let started = std::time::Instant::now();
        let store = match self.store.ping().await {
            Ok(()) => format!(
                "store `{}` reachable, round trip {} ms",
                self.store.backend_name(),
                started.elapsed().as_millis()
            ),
            // The error's detail is for the server log, never for the account's.
            Err(_) => format!("store `{}` unreachable", self.store.backend_name()),
        };
        self.log_trace(account, request_id, "store", &store).await?;
        let pending = match self.store.count_pending_deliveries(account).await {
            Ok(count) => format!("{count} webhook message(s) waiting for delivery"),
            Err(_) => "pending deliveries unknown: the store failed".to_owned(),
        };
        self.log_trace(account, request_id, "webhooks", &pending)
            .await?;
        let audit = match self.store.latest_audit_checkpoint().await {
            Ok(Some(checkpoint)) => {
                format!("audit trail sealed up to {} record(s)", checkpoint.size)
            }
            Ok(None) => "audit trail not sealed yet".to_owned(),
            Err(_) => "audit trail state unknown: the store failed".to_owned(),
        };
        self.log_trace(account, request_id, "audit", &audit).await?;
        self.log_trace(account, request_id, "completed", "trace task finished")
            .await
    }

    async fn log_trace(
        &self,
        account: AccountId,
        request_id: &str,
        stage: &str,
        detail: &str,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        let text = format!(
            "{} INFO trace {request_id} {stage}: {detail}",
            iso8601_utc(now)
        );
        self.store
            .append_account_log(account, &[(now, text)])
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_round_trip_and_foreign_text_is_refused() {
        for seq in [0, 1, 100, u64::MAX] {
            assert_eq!(decode_fragment(&encode_fragment(seq)), Ok(seq));
        }
        for bad in ["", "!!", "bG9nOg", "MTIz", "bG9nOi0x", "bG9nOjEyMyA"] {
            assert_eq!(
                decode_fragment(bad).map_err(|error| error.code),
                Err(crate::ErrorCode::RequestFormat),
                "{bad}"
            );
        }
    }
}
