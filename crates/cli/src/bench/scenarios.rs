//! The scenarios' requests and the load loop: `concurrency` workers, each on its own
//! keep-alive connection, send requests back to back until the time is up and record every
//! latency.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use super::setup::payload_text;
use super::state::BenchState;
use super::Scenario;

/// How the load runs.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub concurrency: u32,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What the workers measured, merged.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Latency of every answered request in the measured window, in microseconds, sorted.
    pub latencies_micros: Vec<u32>,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no HTTP answer (connection refused or reset, timeout).
    pub transport_errors: u64,
    /// From the end of the warm-up until the last worker stopped.
    pub elapsed: Duration,
    /// The first failure seen, to show what went wrong.
    pub first_error: Option<String>,
}

/// Everything a worker needs to build the scenario's requests.
pub struct Plan {
    scenario: Scenario,
    base: String,
    twins: Vec<String>,
    identities: Vec<String>,
    owner_account: String,
    owner_credential: Option<HeaderValue>,
    reader_credentials: Vec<HeaderValue>,
    scan_path: String,
    payload: String,
    entries: u32,
}

impl Plan {
    /// Prepares the requests of `scenario`; every scenario but `healthz` needs the set-up data.
    pub fn new(scenario: Scenario, base: &str, state: Option<&BenchState>) -> anyhow::Result<Self> {
        let mut plan = Self {
            scenario,
            base: base.to_owned(),
            twins: Vec::new(),
            identities: Vec::new(),
            owner_account: String::new(),
            owner_credential: None,
            reader_credentials: Vec::new(),
            scan_path: String::new(),
            payload: String::new(),
            entries: 1,
        };
        if scenario == Scenario::Healthz {
            return Ok(plan);
        }
        let state = state.context("this scenario needs set-up data")?;
        let credential = |secret: &str| {
            HeaderValue::from_str(secret).context("a secret in the state file is not a header")
        };
        plan.twins.clone_from(&state.twins);
        plan.identities = state
            .identities
            .iter()
            .map(|identity| percent_encode(identity))
            .collect();
        plan.owner_account.clone_from(&state.owner.account);
        plan.owner_credential = Some(credential(&state.owner.secret)?);
        plan.reader_credentials = state
            .readers
            .iter()
            .map(|reader| credential(&reader.secret))
            .collect::<anyhow::Result<_>>()?;
        plan.scan_path = format!(
            "/twins?count=100&match={}",
            percent_encode(&state.match_rule)
        );
        plan.payload = payload_text(state.payload_bytes);
        plan.entries = state.entries.max(1);
        Ok(plan)
    }

    /// Builds the next request of the scenario for a random twin (and reader).
    fn request(
        &self,
        client: &reqwest::Client,
        random: &mut XorShift,
        sequence: u64,
    ) -> reqwest::RequestBuilder {
        let scenario = match self.scenario {
            Scenario::Mixed if random.below(10) == 0 => Scenario::WriteEntry,
            Scenario::Mixed => Scenario::ReadForeign,
            other => other,
        };
        if scenario == Scenario::Healthz {
            return client.get(format!("{}/healthz", self.base));
        }
        let index = random.below(self.twins.len() as u64) as usize;
        let twin = &self.twins[index];
        let reader =
            &self.reader_credentials[random.below(self.reader_credentials.len() as u64) as usize];
        let (base, owner_account) = (&self.base, &self.owner_account);
        let owner = self
            .owner_credential
            .clone()
            .unwrap_or_else(|| HeaderValue::from_static(""));
        match scenario {
            Scenario::ReadOwn => client
                .get(format!("{base}/twins/{twin}/ledgers/personal"))
                .header(AUTHORIZATION, owner),
            Scenario::ReadForeign => client
                .get(format!("{base}/twins/{twin}/ledgers/{owner_account}"))
                .header(AUTHORIZATION, reader.clone()),
            Scenario::ReadValue => client
                .get(format!("{base}/twins/{twin}/ledgers/{owner_account}/value"))
                .header(AUTHORIZATION, reader.clone()),
            Scenario::ScanMatch => client
                .get(format!("{base}{}", self.scan_path))
                .header(AUTHORIZATION, owner),
            Scenario::Resolve => client
                .get(format!(
                    "{base}/resolve/{}?context={owner_account}",
                    self.identities[index]
                ))
                .header(AUTHORIZATION, reader.clone()),
            // Write (and `mixed`'s writes): a new value, so every write changes the entry.
            _ => {
                let entry = random.below(u64::from(self.entries));
                let body = format!(
                    r#"{{"entries":{{"entry_{entry}":{{"value":{{"index":{sequence},"payload":"{}"}}}}}}}}"#,
                    self.payload
                );
                client
                    .patch(format!("{base}/twins/{twin}/ledgers/personal/value"))
                    .header(AUTHORIZATION, owner)
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(body)
            }
        }
    }
}

/// Sends one request of the plan before the load starts, so a wrong URL or stale state file
/// fails at once with the server's answer instead of as a run full of errors.
async fn preflight(plan: &Plan, client: &reqwest::Client) -> anyhow::Result<()> {
    let mut random = XorShift::new(1);
    let response = plan
        .request(client, &mut random, 0)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", plan.base))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        anyhow::bail!(
            "the first request of {} was answered {status}: {body} (is the state file from \
             this server?)",
            plan.scenario.name()
        );
    }
    Ok(())
}

/// Runs the load and merges what the workers measured.
pub async fn drive(plan: Plan, options: &LoadOptions) -> anyhow::Result<Outcome> {
    let plan = Arc::new(plan);
    preflight(&plan, &new_client()?).await?;
    let measure_from = Instant::now() + options.warmup;
    let end = measure_from + options.duration;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x5eed, |since| since.as_nanos() as u64);
    let mut workers = Vec::new();
    for worker in 0..options.concurrency {
        let plan = plan.clone();
        let client = new_client()?;
        let random =
            XorShift::new(seed ^ (u64::from(worker) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        workers.push(tokio::spawn(run_worker(
            plan,
            client,
            random,
            u64::from(worker) << 40,
            measure_from,
            end,
        )));
    }
    let mut outcome = Outcome::default();
    for worker in workers {
        let measured = worker.await.context("a load worker failed")?;
        outcome.latencies_micros.extend(measured.latencies_micros);
        for (status, count) in measured.statuses {
            *outcome.statuses.entry(status).or_default() += count;
        }
        outcome.transport_errors += measured.transport_errors;
        if outcome.first_error.is_none() {
            outcome.first_error = measured.first_error;
        }
    }
    outcome.elapsed = Instant::now().saturating_duration_since(measure_from);
    outcome.latencies_micros.sort_unstable();
    Ok(outcome)
}

/// One client per worker, so each worker keeps its own connection alive.
fn new_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")
}

/// Sends requests back to back until `end`; counts those that started after `measure_from`.
async fn run_worker(
    plan: Arc<Plan>,
    client: reqwest::Client,
    mut random: XorShift,
    first_sequence: u64,
    measure_from: Instant,
    end: Instant,
) -> Outcome {
    let mut measured = Outcome {
        latencies_micros: Vec::with_capacity(16_384),
        ..Outcome::default()
    };
    let mut sequence = first_sequence;
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        sequence += 1;
        let request = plan.request(&client, &mut random, sequence);
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status();
                // Read the whole body so the connection can be reused.
                match response.bytes().await {
                    Ok(body) => Ok((status, body)),
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        };
        let latency = started.elapsed();
        let counted = started >= measure_from;
        match answer {
            Ok((status, body)) => {
                if !counted {
                    continue;
                }
                let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
                measured.latencies_micros.push(micros);
                *measured.statuses.entry(status.as_u16()).or_default() += 1;
                if !status.is_success() && measured.first_error.is_none() {
                    let text = String::from_utf8_lossy(&body);
                    measured.first_error = Some(format!("{status}: {text}"));
                }
            }
            Err(error) => {
                if counted {
                    measured.transport_errors += 1;
                    if measured.first_error.is_none() {
                        measured.first_error = Some(format!("no answer: {error}"));
                    }
                }
                // Do not spin on a server that refuses connections.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    measured
}

/// xorshift64*: cheap, good enough to spread requests over the twins.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x2545_F491_4F6C_DD1D
        } else {
            seed
        })
    }

    fn next(&mut self) -> u64 {
        let mut state = self.0;
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        self.0 = state;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound` (`bound` ≥ 1; the modulo bias is negligible for our bounds).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for paths and queries.
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_unreserved_and_escapes_the_rest() {
        assert_eq!(percent_encode("BENCH#t1"), "BENCH%23t1");
        assert_eq!(
            percent_encode("TWIN.kind == 'bench'"),
            "TWIN.kind%20%3D%3D%20%27bench%27"
        );
    }

    #[test]
    fn xorshift_stays_below_its_bound_and_covers_it() {
        let mut random = XorShift::new(42);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let value = random.below(7);
            assert!(value < 7);
            seen[value as usize] = true;
        }
        assert!(seen.iter().all(|&hit| hit));
    }
}
