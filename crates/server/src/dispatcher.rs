//! The webhook dispatcher: claims due messages from the outbox, POSTs them to their callback
//! URLs and records the outcome. Every node runs one; the store hands each message to one
//! dispatcher at a time (a lease), so a message is delivered once in the normal case and by
//! another node when its dispatcher dies mid-delivery (at least once overall).
//!
//! Callbacks are checked again at every delivery: the URL's literal address before sending,
//! and every address a host name resolves to, through a resolver that refuses internal
//! addresses (so DNS cannot point a callback back inside). Redirects are not followed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use steward_core::notifications::callback::CallbackPolicy;
use steward_core::notifications::delivery::{RetryPolicy, DELIVERY_TIMEOUT_MILLIS};
use steward_core::Steward;
use steward_domain::{ClaimedDelivery, Clock, SystemClock};
use steward_store::StoreError;

/// Deliveries claimed per round.
const CLAIM_BATCH: u32 = 32;

/// What one dispatch round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Messages the receiver accepted (2xx).
    pub delivered: usize,
    /// Messages that failed and will be tried again.
    pub retried: usize,
    /// Messages given up.
    pub dead: usize,
}

/// Resolves host names for callbacks, keeping only allowed addresses.
struct CheckedResolver {
    policy: CallbackPolicy,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved
                .filter(|address| policy.address_allowed(address.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("`{host}` resolves to no allowed address").into());
            }
            let addresses: Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}

/// Sends outbox messages.
pub struct Dispatcher {
    steward: Steward,
    client: reqwest::Client,
    policy: CallbackPolicy,
    retry: RetryPolicy,
    lease_millis: i64,
}

/// Fan-out steps of sticker events per round at most (each handles a batch of events).
const FAN_OUT_STEPS: usize = 10;

impl Dispatcher {
    /// A dispatcher for `steward`'s outbox that holds each message it sends for `lease`
    /// (another node may take it over after that).
    pub fn new(
        steward: Steward,
        policy: CallbackPolicy,
        retry: RetryPolicy,
        lease: Duration,
        extra_roots: &[reqwest::Certificate],
    ) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder();
        for root in extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let client = builder
            .timeout(Duration::from_millis(DELIVERY_TIMEOUT_MILLIS))
            .redirect(reqwest::redirect::Policy::none())
            // No proxy from the environment: a proxy would resolve callback names itself and
            // bypass the address checks of the resolver below.
            .no_proxy()
            // https callbacks use rustls with the public web roots (plus `webhook_ca_file`).
            .dns_resolver(Arc::new(CheckedResolver { policy }))
            .user_agent(concat!("steward/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            steward,
            client,
            policy,
            retry,
            lease_millis: i64::try_from(lease.as_millis()).unwrap_or(i64::MAX),
        })
    }

    /// Turns new sticker events into outbox messages (a few batches at most).
    async fn fan_out(&self) {
        for _ in 0..FAN_OUT_STEPS {
            match self.steward.fan_out_sticker_events().await {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "sticker event fan-out failed; retrying next round");
                    break;
                }
            }
        }
    }

    /// Claims up to `limit` due messages, each held for the lease.
    async fn claim(&self, limit: usize) -> anyhow::Result<Vec<ClaimedDelivery>> {
        let now = SystemClock.now();
        let limit = u32::try_from(limit).unwrap_or(CLAIM_BATCH).min(CLAIM_BATCH);
        Ok(self
            .steward
            .store()
            .claim_deliveries(now, now.plus_millis(self.lease_millis), limit)
            .await?)
    }

    /// One round, waiting for every message it sent: fan-out, claim, deliver.
    pub async fn dispatch_once(&self) -> anyhow::Result<DispatchReport> {
        self.fan_out().await;
        let claimed = self.claim(CLAIM_BATCH as usize).await?;
        let outcomes =
            futures::future::join_all(claimed.into_iter().map(|claim| self.deliver(claim))).await;
        let mut report = DispatchReport::default();
        for outcome in outcomes {
            match outcome {
                Outcome::Delivered => report.delivered += 1,
                Outcome::Retried => report.retried += 1,
                Outcome::Dead => report.dead += 1,
                Outcome::NotRecorded => {}
            }
        }
        Ok(report)
    }

    /// Sends one claimed message and records the outcome, fenced by the claim's lease: if the
    /// lease ran out meanwhile (and another node may hold the message now), nothing is
    /// recorded and the other node's claim stands.
    async fn deliver(&self, claim: ClaimedDelivery) -> Outcome {
        let store = self.steward.store();
        let message = claim.delivery.message;
        let lease = Some(claim.lease_until);
        let (outcome, recorded) = match self.send(&claim).await {
            Ok(()) => (
                Outcome::Delivered,
                store.finish_delivery(message, lease).await,
            ),
            Err(reason) => {
                // NUL cannot be stored; receivers' error texts are not trusted to lack it.
                let reason = reason.replace('\0', " ");
                let failed = claim.delivery.attempts.saturating_add(1);
                let now = SystemClock.now();
                match self.retry.next_attempt(failed, now) {
                    Some(next) if claim.validity_ts > next => {
                        tracing::info!(%message, attempts = failed, %reason,
                            "webhook delivery failed; will retry");
                        (
                            Outcome::Retried,
                            store.retry_delivery(message, lease, failed, next).await,
                        )
                    }
                    _ => {
                        let reason = format!("given up after {failed} attempts: {reason}");
                        tracing::warn!(%message, %reason, "webhook message dead-lettered");
                        (
                            Outcome::Dead,
                            store
                                .dead_letter_delivery(message, lease, &reason, now)
                                .await,
                        )
                    }
                }
            }
        };
        match recorded {
            Ok(()) => {
                if matches!(outcome, Outcome::Delivered) {
                    self.steward.record_webhook_delivered(claim.topic_account);
                }
                outcome
            }
            // The subscription was deleted meanwhile (and its messages with it), or the lease
            // ran out and another dispatcher holds the message now.
            Err(StoreError::NotFound(_)) => {
                tracing::info!(%message, "delivery outcome not recorded: the message is gone or its lease ran out");
                Outcome::NotRecorded
            }
            // This one's lease runs out and it is tried again.
            Err(error) => {
                tracing::warn!(%message, %error, "could not record a delivery outcome");
                Outcome::NotRecorded
            }
        }
    }

    async fn send(&self, claim: &ClaimedDelivery) -> Result<(), String> {
        if claim.validity_ts <= SystemClock.now() {
            return Err("the subscription expired".to_owned());
        }
        self.policy
            .check_url(&claim.callback_url)
            .map_err(|error| error.to_string())?;
        let response = self
            .client
            .post(&claim.callback_url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(claim.delivery.body.clone())
            .send()
            .await
            // Without the URL: callback URLs may carry secrets, and this text is logged.
            .map_err(|error| format!("request failed: {}", error.without_url()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {}", response.status()))
        }
    }
}

/// What became of one claimed message.
enum Outcome {
    Delivered,
    Retried,
    Dead,
    NotRecorded,
}

/// Most messages one node sends at once.
const MAX_IN_FLIGHT: usize = 64;

/// Runs the dispatcher until aborted. Every `interval` it fans out new sticker events and
/// claims due messages for its free slots; each message is sent by its own task, so a slow
/// receiver holds one slot (for at most the 5 s timeout) and never the others' deliveries.
/// Failures are logged and retried at the next tick.
pub async fn run_dispatcher(dispatcher: Dispatcher, interval: Duration) {
    let dispatcher = Arc::new(dispatcher);
    let mut in_flight = tokio::task::JoinSet::new();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                dispatcher.fan_out().await;
                let room = MAX_IN_FLIGHT.saturating_sub(in_flight.len());
                if room == 0 {
                    continue;
                }
                match dispatcher.claim(room).await {
                    Ok(claimed) => {
                        for claim in claimed {
                            let dispatcher = dispatcher.clone();
                            in_flight.spawn(async move { dispatcher.deliver(claim).await });
                        }
                    }
                    Err(error) => tracing::warn!(%error,
                        "claiming webhook messages failed; retrying at the next tick"),
                }
            }
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
    }
}
