//! Random Trusted-Twin-shaped contexts: the variables `account`, `user`, `now`, `TWIN`,
//! `USER`, `LEDGER`, `DICT`, `entry_name`, `entry_value`, ... with random values (tagged
//! datetimes, timedeltas, sets, bytes and special floats among them) and randomly missing keys.
//! Contexts are written directly as JSON text so numbers keep their exact decimal text.

use rand::Rng;

use crate::generator::Generator;
use crate::pools::*;

impl Generator {
    pub(crate) fn context(&mut self) -> String {
        let mut fields: Vec<(String, String)> = Vec::new();
        let account = self.pick(&UUIDS);
        let mut add = |g: &mut Self, key: &str, value: String| {
            if !g.chance(0.06) {
                fields.push((key.to_string(), value));
            }
        };
        add(self, "account", quote(account));
        let user = self.pick(&UUIDS);
        add(self, "user", quote(user));
        let role = self.pick(&UUIDS);
        add(self, "role", quote(role));
        let twin = self.pick(&UUIDS);
        add(self, "twin", quote(twin));
        let ledger = if self.chance(0.5) {
            account
        } else {
            self.pick(&UUIDS)
        };
        add(self, "ledger", quote(ledger));
        add(self, "identity", quote("RFID#be744bdc-0001"));
        let now = self.timestamp();
        add(self, "now", now);
        let status = self.pick(&["alive", "terminated"]);
        add(self, "twin_status", quote(status));
        let changed = if self.chance(0.3) {
            "1707997392.123".to_string()
        } else {
            self.timestamp()
        };
        add(self, "value_changed_ts", changed);
        let created = self.timestamp();
        add(self, "entry_created_ts", created);
        let updated = self.timestamp();
        add(self, "entry_updated_ts", updated);
        let entry_name = self.pick(&ENTRY_NAMES);
        add(self, "entry_name", quote(entry_name));
        let entry_value = self.entry_value();
        add(self, "entry_value", entry_value);
        let twin_description = self.twin_description();
        add(self, "TWIN", twin_description);
        let user_description = self.user_description();
        add(self, "USER", user_description);
        let ledger_map = self.ledger();
        add(self, "LEDGER", ledger_map);
        if self.chance(0.7) {
            let dict = self.dict();
            add(self, "DICT", dict);
        }
        object(&fields)
    }

    fn timestamp(&mut self) -> String {
        format!(
            "{}.{:03}",
            self.rng.gen_range(1_600_000_000u64..1_900_000_000),
            self.rng.gen_range(0..1000)
        )
    }

    /// Adds `key: value` unless the dice say the key is missing.
    fn maybe(&mut self, fields: &mut Vec<(String, String)>, key: &str, value: String) {
        if !self.chance(0.12) {
            fields.push((key.to_string(), value));
        }
    }

    fn scalar_json(&mut self) -> String {
        match self.rng.gen_range(0..12) {
            0 => "null".into(),
            1 => "true".into(),
            2 => "false".into(),
            3 => self.rng.gen_range(-5..50).to_string(),
            4 => format!(
                "{}.{}",
                self.rng.gen_range(0..100),
                self.rng.gen_range(1..100)
            ),
            5 => quote(self.pick(&WORDS)),
            6 => quote(self.pick(&KINDS)),
            7 => quote(self.pick(&ENTRY_NAMES)),
            8 => self.datetime_json(),
            9 => format!("{{\"$timedelta\": {}}}", self.rng.gen_range(0..200_000)),
            10 => self.pick(&["0.1", "1e3", "1707997392.123", "-0.5"]).into(),
            _ => quote(self.pick(&UUIDS)),
        }
    }

    fn datetime_json(&mut self) -> String {
        let text = self.pick(&[
            "2024-01-31T10:00:00+00:00",
            "2024-01-31T10:00:00",
            "2023-06-01T00:00:00.250000+02:00",
            "1999-12-31T23:59:59Z",
            "2024-02-29T12:00:00-05:00",
        ]);
        format!("{{\"$datetime\": {}}}", quote(text))
    }

    fn entry_value(&mut self) -> String {
        match self.rng.gen_range(0..8) {
            0 => self.rng.gen_range(0..60).to_string(),
            1 => format!("{}.5", self.rng.gen_range(0..60)),
            2 => quote(self.pick(&WORDS)),
            3 => {
                let mut fields = Vec::new();
                let count = self.rng.gen_range(0..5);
                let items = self.items(count);
                self.maybe(&mut fields, "items", items);
                let list = self.string_array(4);
                self.maybe(&mut fields, "user_list", list);
                let mut inner = Vec::new();
                let name = quote(self.pick(&["alice", "bob", "Gdansk"]));
                self.maybe(&mut inner, "name", name);
                self.maybe(&mut fields, "user_dict", object(&inner));
                let length = self.rng.gen_range(0..5).to_string();
                self.maybe(&mut fields, "length", length);
                object(&fields)
            }
            4 => self.string_array(5),
            5 => "null".into(),
            6 => self.scalar_json(),
            _ => format!(
                "[{}]",
                (0..self.rng.gen_range(0..6))
                    .map(|_| self.rng.gen_range(-10..40).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn string_array(&mut self, max: usize) -> String {
        let len = self.rng.gen_range(0..=max);
        let members: Vec<String> = (0..len)
            .map(|_| {
                if self.chance(0.5) {
                    quote(self.pick(&ENTRY_NAMES))
                } else {
                    quote(self.pick(&WORDS))
                }
            })
            .collect();
        format!("[{}]", members.join(", "))
    }

    fn items(&mut self, len: usize) -> String {
        let members: Vec<String> = (0..len)
            .map(|_| {
                let mut fields = Vec::new();
                let qty = if self.chance(0.1) {
                    "\"7\"".to_string()
                } else {
                    self.rng.gen_range(-2..12).to_string()
                };
                self.maybe(&mut fields, "qty", qty);
                let name = quote(self.pick(&["bolt", "nut", "cat", ""]));
                self.maybe(&mut fields, "name", name);
                object(&fields)
            })
            .collect();
        format!("[{}]", members.join(", "))
    }

    fn twin_description(&mut self) -> String {
        let mut f = Vec::new();
        let kind = quote(self.pick(&KINDS));
        self.maybe(&mut f, "kind", kind);
        let company = quote(self.pick(&COMPANIES));
        self.maybe(&mut f, "company", company);
        let serial = if self.chance(0.5) {
            quote(self.pick(&["SN-1", "SN-2", "b0f531c3"]))
        } else {
            self.rng.gen_range(0..5).to_string()
        };
        self.maybe(&mut f, "serial", serial);
        let level = self.rng.gen_range(0..6).to_string();
        self.maybe(&mut f, "level", level);
        let ratio = format!("0.{}", self.rng.gen_range(0..1000));
        self.maybe(&mut f, "ratio", ratio);
        let tags = self.string_array(4);
        self.maybe(&mut f, "tags", tags);
        let created = self.datetime_json();
        self.maybe(&mut f, "created", created);
        let ttl = format!("{{\"$timedelta\": {}.5}}", self.rng.gen_range(0..100_000));
        self.maybe(&mut f, "ttl", ttl);
        // description keys that collide with data attributes (`length`, `keys`)
        let length = self.rng.gen_range(0..9).to_string();
        self.maybe(&mut f, "length", length);
        self.maybe(&mut f, "keys", quote("k"));
        let flags = format!(
            "{{\"$set\": [{}]}}",
            (0..self.rng.gen_range(0..4))
                .map(|i| (i * 2 + 1).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.maybe(&mut f, "flags", flags);
        self.maybe(&mut f, "blob", "{\"$bytes\": \"Y2F0\"}".to_string());
        let nan = self.pick(&[
            "{\"$float\": \"nan\"}",
            "{\"$float\": \"inf\"}",
            "{\"$float\": \"-inf\"}",
        ]);
        self.maybe(&mut f, "special", nan.to_string());
        let mut owner = Vec::new();
        let name = quote(self.pick(&["alice", "bob"]));
        self.maybe(&mut owner, "name", name);
        let level = self.rng.gen_range(0..6).to_string();
        self.maybe(&mut owner, "level", level);
        let mut meta = Vec::new();
        self.maybe(&mut meta, "owner", object(&owner));
        let scalar = self.scalar_json();
        self.maybe(&mut meta, "kind", scalar);
        self.maybe(&mut f, "meta", object(&meta));
        object(&f)
    }

    fn user_description(&mut self) -> String {
        let mut f = Vec::new();
        let level = self.rng.gen_range(0..6).to_string();
        self.maybe(&mut f, "level", level);
        let company = quote(self.pick(&COMPANIES));
        self.maybe(&mut f, "company", company);
        let profession = quote(self.pick(&["accounting", "sales", "Accounting"]));
        self.maybe(&mut f, "profession", profession);
        let groups = self.string_array(3);
        self.maybe(&mut f, "groups", groups);
        let name = quote(self.pick(&["alice", "bob", "Gdansk"]));
        self.maybe(&mut f, "name", name);
        let age = format!(
            "{}.{}",
            self.rng.gen_range(18..90),
            self.rng.gen_range(0..10)
        );
        self.maybe(&mut f, "age", age);
        let birthday = self.datetime_json();
        self.maybe(&mut f, "birthday", birthday);
        object(&f)
    }

    fn ledger(&mut self) -> String {
        let mut f = Vec::new();
        let public = self.string_array(5);
        self.maybe(&mut f, "public", public);
        let serial = self.rng.gen_range(0..8).to_string();
        self.maybe(&mut f, "serial", serial);
        let temp = format!(
            "{}.{}",
            self.rng.gen_range(-10..40),
            self.rng.gen_range(0..10)
        );
        self.maybe(&mut f, "temp", temp);
        self.maybe(&mut f, "gdansk", quote("Gdansk"));
        let count = self.rng.gen_range(0..21);
        let items = self.items(count);
        self.maybe(&mut f, "items", items);
        let counts = format!(
            "[{}]",
            (0..self.rng.gen_range(0..6))
                .map(|_| self.rng.gen_range(-3..20).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.maybe(&mut f, "counts", counts);
        let mut inner = Vec::new();
        let scalar = self.scalar_json();
        self.maybe(&mut inner, "b", scalar);
        let mut nested = Vec::new();
        self.maybe(&mut nested, "a", object(&inner));
        self.maybe(&mut f, "nested", object(&nested));
        object(&f)
    }

    fn dict(&mut self) -> String {
        let mut f = Vec::new();
        let serial = quote(self.pick(&["SN-1", "SN-2", "b0f531c3"]));
        self.maybe(&mut f, "serial", serial);
        let allowed: Vec<String> = (0..self.rng.gen_range(0..3))
            .map(|_| quote(self.pick(&UUIDS)))
            .collect();
        self.maybe(&mut f, "allowed", format!("[{}]", allowed.join(", ")));
        object(&f)
    }
}

pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn object(fields: &[(String, String)]) -> String {
    let members: Vec<String> = fields
        .iter()
        .map(|(key, value)| format!("{}: {value}", quote(key)))
        .collect();
    format!("{{{}}}", members.join(", "))
}
