//! The state file: what setup created (accounts with their secrets, twins, identities), so a
//! later `--no-setup` run measures the same data.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::{json, Value};

/// Version of the state file's layout.
const STATE_VERSION: u64 = 1;

/// One account of the benchmark and the secret of its user.
#[derive(Clone, Debug)]
pub struct BenchAccount {
    pub account: String,
    pub secret: String,
}

/// What setup created.
#[derive(Clone, Debug)]
pub struct BenchState {
    /// The server the data was created on (informational: `--url` decides where load goes).
    pub url: String,
    /// The account that owns every twin ("shop").
    pub owner: BenchAccount,
    /// The accounts that read the owner's ledgers ("courier", …).
    pub readers: Vec<BenchAccount>,
    /// Entries in the owner's ledger on every twin, named `entry_0` … `entry_{n-1}`.
    pub entries: u32,
    /// How many of them the readers may see.
    pub visible: u32,
    /// Size of the text payload of every entry value.
    pub payload_bytes: u32,
    /// The twins, in creation order.
    pub twins: Vec<String>,
    /// The identity the owner attached to each twin (same order as `twins`).
    pub identities: Vec<String>,
    /// The `match` rule of the scan scenario (true for every bench twin).
    pub match_rule: String,
}

impl BenchState {
    /// Writes the state as JSON, readable only by the current user (it holds secrets).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let account =
            |account: &BenchAccount| json!({"account": account.account, "secret": account.secret});
        let object = json!({
            "version": STATE_VERSION,
            "url": self.url,
            "owner": account(&self.owner),
            "readers": self.readers.iter().map(account).collect::<Vec<_>>(),
            "entries": self.entries,
            "visible": self.visible,
            "payload_bytes": self.payload_bytes,
            "match_rule": self.match_rule,
            "twins": self.twins,
            "identities": self.identities,
        });
        let text = serde_json::to_string(&object).context("cannot encode the state file")?;
        // Remove first so an existing file with wider permissions is not reused.
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| format!("cannot replace `{}`", path.display()))
            }
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .with_context(|| format!("cannot create the state file `{}`", path.display()))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .with_context(|| format!("cannot write the state file `{}`", path.display()))?;
        Ok(())
    }

    /// Reads a state file written by an earlier setup.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the state file `{}` (run a setup first, without --no-setup)",
                path.display()
            )
        })?;
        let object: Value = serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not a bench state file", path.display()))?;
        Self::from_json(&object).with_context(|| format!("in `{}`", path.display()))
    }

    fn from_json(object: &Value) -> anyhow::Result<Self> {
        let version = object["version"].as_u64().unwrap_or(0);
        if version != STATE_VERSION {
            anyhow::bail!("state file version {version} is not {STATE_VERSION}; set up again");
        }
        let text = |value: &Value, key: &str| -> anyhow::Result<String> {
            value[key]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("no `{key}`"))
        };
        let number = |key: &str| -> anyhow::Result<u32> {
            object[key]
                .as_u64()
                .and_then(|number| u32::try_from(number).ok())
                .with_context(|| format!("no `{key}`"))
        };
        let account = |value: &Value| -> anyhow::Result<BenchAccount> {
            Ok(BenchAccount {
                account: text(value, "account")?,
                secret: text(value, "secret")?,
            })
        };
        let strings = |key: &str| -> anyhow::Result<Vec<String>> {
            object[key]
                .as_array()
                .with_context(|| format!("no `{key}`"))?
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .with_context(|| format!("`{key}` holds a non-string"))
                })
                .collect()
        };
        let readers = object["readers"]
            .as_array()
            .context("no `readers`")?
            .iter()
            .map(account)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let state = Self {
            url: text(object, "url")?,
            owner: account(&object["owner"])?,
            readers,
            entries: number("entries")?,
            visible: number("visible")?,
            payload_bytes: number("payload_bytes")?,
            twins: strings("twins")?,
            identities: strings("identities")?,
            match_rule: text(object, "match_rule")?,
        };
        if state.twins.is_empty() || state.readers.is_empty() {
            anyhow::bail!("the state file has no twins or no readers");
        }
        if state.identities.len() != state.twins.len() {
            anyhow::bail!("the state file has not one identity per twin");
        }
        Ok(state)
    }
}
