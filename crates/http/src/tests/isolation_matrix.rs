//! The isolation matrix, generated from the route table: every (method, path) of the OpenAPI
//! document is called by account B against account A's twins, ledgers, entries, identities,
//! stickers, users, roles, secrets, subscriptions, log and audit records, and must answer the
//! spec's status without a byte of A's data.
//!
//! The test enumerates the routes of the document itself. [`table`] classifies each of them: how
//! B calls it against A (path parameters filled with A's ids, a valid body so that a refusal is
//! about ownership, not validation) and which statuses the spec allows. A documented route
//! missing from the table, or a table entry the document no longer has, fails the test until it
//! is classified here.
//!
//! Two passes: first A's twin is invisible to B (B's Super Admin role has no rules, so nothing
//! foreign is visible); then B's role sees every twin, entry and identity the rules let it see,
//! and A shares one entry and one identity by their visibility rules. In both passes B changes
//! nothing of A's (checked against a snapshot A takes before) and reads only what A shared.
//!
//! A route that leaks or answers the wrong status keeps the correct expectation here, marked
//! `// LEAK:` at its entry, so that the test fails for it alone until the route is fixed.
//!
//! Docs, cache, batches, databases, timeseries and indexes tables have no routes in Steward's
//! document; when they get some, this test fails until they are classified.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use steward_domain::Clock as _;

use super::{TestAccount, TestApp};

/// A's callback (no delivery happens: the outbox is drained by hand).
const A_CALLBACK: &str = "http://93.184.216.34:8080/A-SECRET-MARKER-hook";
const B_CALLBACK: &str = "http://93.184.216.34:8080/b-hook";

const A_ACCOUNT_NAME: &str = "A-SECRET-MARKER-account";
/// In A's twin description: B may read it only once its role sees the twin.
const TWIN_MARKER: &str = "A-TWIN-MARKER-3f1c-description";
/// An entry A shares by its visibility rule.
const SHARED_ENTRY: &str = "a_shared_note";
const SHARED_VALUE: &str = "A-SHARED-MARKER-entry-77c2";
/// A's rules and publishing configuration are A's, even on what it shares: true rules that
/// carry a marker.
const SHARED_RULE: &str = "'A-SECRET-MARKER-entry-rule' != ''";
const IDENTITY_RULE: &str = "'A-SECRET-MARKER-identity-rule' != ''";
const PUBLISHED_TOPIC: &str = "A-SECRET-MARKER-pub";
/// An entry nobody but A may read, with an older value in its history.
const PRIVATE_ENTRY: &str = "a_private_marker";
const PRIVATE_VALUE: &str = "A-SECRET-MARKER-entry-9d4e";
const PRIVATE_OLD_VALUE: &str = "A-SECRET-MARKER-old-value-51ab";
const PRIVATE_IDENTITY: &str = "RFID#A-SECRET-MARKER-ident";
const PUBLIC_IDENTITY: &str = "RFID#A-SHARED-ident-5e";
const STICKER_COLOR: &str = "A-SECRET-amber";
const STICKER_NOTE: &str = "A-SECRET-MARKER-sticker-note";
const ROLE_NAME: &str = "A-SECRET-MARKER-role";
const USER_NAME: &str = "A-SECRET-MARKER-user";
const USER_NOTE: &str = "A-SECRET-MARKER-user-desc";
const SUBSCRIBED_TOPIC: &str = "A-SECRET-MARKER-sub";
const GRANTED_TOPIC: &str = "A-SECRET-MARKER-grant";
const LOG_LINE: &str = "A-SECRET-MARKER-log-line";
/// A token that belongs to no subscription.
const NO_TOKEN: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Which pass runs: A's twin hidden from B, or B's role sees what A's rules share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Hidden,
    Shared,
}

impl Pass {
    /// `hidden` in the first pass, `shared` in the second.
    fn pick(self, hidden: &'static [u16], shared: &'static [u16]) -> &'static [u16] {
        match self {
            Pass::Hidden => hidden,
            Pass::Shared => shared,
        }
    }
}

/// How B calls a route against A, and what it must get.
struct Probe {
    method: Method,
    uri: String,
    body: Option<Value>,
    /// B's admin secret unless set; `Some(None)` calls without credentials.
    credential: Option<Option<String>>,
    expect: &'static [u16],
    /// Read as a Server-Sent Events stream, for a bounded time.
    stream: bool,
    /// B's own audit trail: it names the ids B itself sent in earlier requests.
    own_trail: bool,
}

fn probe(
    method: Method,
    uri: impl Into<String>,
    body: Option<Value>,
    expect: &'static [u16],
) -> Probe {
    Probe {
        method,
        uri: uri.into(),
        body,
        credential: None,
        expect,
        stream: false,
        own_trail: false,
    }
}

fn get(uri: impl Into<String>, expect: &'static [u16]) -> Probe {
    probe(Method::GET, uri, None, expect)
}

impl Probe {
    fn anonymous(mut self) -> Self {
        self.credential = Some(None);
        self
    }

    fn with_credential(mut self, credential: &str) -> Self {
        self.credential = Some(Some(credential.to_owned()));
        self
    }

    fn streaming(mut self) -> Self {
        self.stream = true;
        self
    }

    fn own_trail(mut self) -> Self {
        self.own_trail = true;
        self
    }
}

type Probes = fn(&World, Pass) -> Vec<Probe>;

/// How a documented route relates to another account's data.
enum Class {
    /// Names A's data (A's ids in the path, query or body): B is refused with 403 / 404, or,
    /// for what A's rules share in the second pass, reads exactly that.
    Foreign(Probes),
    /// B's own account, credential or listing: answered for B, with nothing of A's in it.
    Own(&'static str, Probes),
    /// Not about any account's data; still called by B, and still without A's data.
    NotTenantScoped(&'static str, Probes),
}

struct Route {
    method: &'static str,
    path: &'static str,
    class: Class,
}

fn route(method: &'static str, path: &'static str, class: Class) -> Route {
    Route {
        method,
        path,
        class,
    }
}

/// Everything the test set up: A's objects and the few things of B's that probes use.
struct World {
    a: TestAccount,
    b: TestAccount,
    /// A second user of A (with a secret) and the role it holds.
    a_clerk: String,
    a_clerk_secret: String,
    a_role: String,
    twin: String,
    a_subscription_token: String,
    b_subscription_token: String,
    /// A PIN of B's spare user, tried against A's account.
    b_pin: String,
    /// A token of B's with the `refresh` option.
    b_refresh_token: String,
    /// An audit record of A's own write, and a sealed size covering it.
    a_audit_index: u64,
    audit_size: u64,
    a_log_fragment: String,
    /// Now, as Trusted Twin seconds (the test clock does not move).
    now: f64,
}

impl World {
    /// The strings of A's that B must not read: (text, is an id or name B may itself send,
    /// shared by A's rules in the second pass).
    fn secrets(&self) -> Vec<(String, bool, bool)> {
        let value = |text: &str| (text.to_owned(), false, false);
        let id = |text: &str| (text.to_owned(), true, false);
        let shared_id = |text: &str| (text.to_owned(), true, true);
        let shared_value = |text: &str| (text.to_owned(), false, true);
        vec![
            value(A_ACCOUNT_NAME),
            value(PRIVATE_VALUE),
            value(PRIVATE_OLD_VALUE),
            value(STICKER_NOTE),
            value(ROLE_NAME),
            value(USER_NAME),
            value(USER_NOTE),
            value(SUBSCRIBED_TOPIC),
            value(GRANTED_TOPIC),
            value(LOG_LINE),
            value("A-SECRET-MARKER-entry-rule"),
            value("A-SECRET-MARKER-identity-rule"),
            value(PUBLISHED_TOPIC),
            value("A-SECRET-MARKER-hook"),
            value(&self.a.secret),
            value(&self.a_clerk_secret),
            value(&self.a_subscription_token),
            id(&self.a.user),
            id(&self.a.role),
            id(&self.a_clerk),
            id(&self.a_role),
            id(PRIVATE_ENTRY),
            id(PRIVATE_IDENTITY),
            id(STICKER_COLOR),
            shared_id(&self.twin),
            shared_id(&self.a.account),
            shared_id(SHARED_ENTRY),
            shared_id(PUBLIC_IDENTITY),
            shared_value(SHARED_VALUE),
            shared_value(TWIN_MARKER),
        ]
    }
}

/// `/twins/{A's twin}` followed by `rest`.
fn on_twin(world: &World, rest: &str) -> String {
    format!("/twins/{}{rest}", world.twin)
}

fn encoded(identity: &str) -> String {
    identity.replace('#', "%23")
}

/// Every route of the document, classified.
fn table() -> Vec<Route> {
    use Class::{Foreign, NotTenantScoped, Own};
    vec![
        // System: no account's data.
        route(
            "GET",
            "/healthz",
            NotTenantScoped("liveness, no data", |_, _| vec![get("/healthz", &[200])]),
        ),
        route(
            "GET",
            "/readyz",
            NotTenantScoped("readiness, no data", |_, _| vec![get("/readyz", &[200])]),
        ),
        route(
            "GET",
            "/metrics",
            NotTenantScoped("counters labelled by route template, no ids", |_, _| {
                vec![get("/metrics", &[200])]
            }),
        ),
        route(
            "GET",
            "/openapi.json",
            NotTenantScoped("the API document", |_, _| {
                vec![get("/openapi.json", &[200])]
            }),
        ),
        // Operator: B's user secret is no operator token, even on A's account.
        route(
            "GET",
            "/operator/accounts",
            NotTenantScoped("operator token only", |_, _| {
                vec![get("/operator/accounts", &[401])]
            }),
        ),
        route(
            "POST",
            "/operator/accounts",
            NotTenantScoped("operator token only", |_, _| {
                vec![probe(
                    Method::POST,
                    "/operator/accounts",
                    Some(json!({"name": "Planted by B"})),
                    &[401],
                )]
            }),
        ),
        route(
            "GET",
            "/operator/accounts/{account}",
            NotTenantScoped("operator token only", |w, _| {
                vec![get(format!("/operator/accounts/{}", w.a.account), &[401])]
            }),
        ),
        route(
            "POST",
            "/operator/accounts/{account}/suspend",
            NotTenantScoped("operator token only", |w, _| {
                vec![probe(
                    Method::POST,
                    format!("/operator/accounts/{}/suspend", w.a.account),
                    None,
                    &[401],
                )]
            }),
        ),
        route(
            "POST",
            "/operator/accounts/{account}/resume",
            NotTenantScoped("operator token only", |w, _| {
                vec![probe(
                    Method::POST,
                    format!("/operator/accounts/{}/resume", w.a.account),
                    None,
                    &[401],
                )]
            }),
        ),
        route(
            "GET",
            "/operator/accounts/{account}/audit-retention",
            NotTenantScoped("operator token only", |w, _| {
                vec![get(
                    format!("/operator/accounts/{}/audit-retention", w.a.account),
                    &[401],
                )]
            }),
        ),
        route(
            "PUT",
            "/operator/accounts/{account}/audit-retention",
            NotTenantScoped("operator token only", |w, _| {
                vec![probe(
                    Method::PUT,
                    format!("/operator/accounts/{}/audit-retention", w.a.account),
                    Some(json!({"days": 1})),
                    &[401],
                )]
            }),
        ),
        route(
            "GET",
            "/operator/accounts/{account}/limits",
            NotTenantScoped("operator token only", |w, _| {
                vec![get(
                    format!("/operator/accounts/{}/limits", w.a.account),
                    &[401],
                )]
            }),
        ),
        route(
            "PUT",
            "/operator/accounts/{account}/limits",
            NotTenantScoped("operator token only", |w, _| {
                vec![probe(
                    Method::PUT,
                    format!("/operator/accounts/{}/limits", w.a.account),
                    Some(json!({"max_twins": 1})),
                    &[401],
                )]
            }),
        ),
        // The caller's own account and credentials.
        route(
            "GET",
            "/whoami",
            Own("the caller itself", |_, _| vec![get("/whoami", &[200])]),
        ),
        route(
            "GET",
            "/account",
            Own("the caller's account", |_, _| vec![get("/account", &[200])]),
        ),
        route(
            "PATCH",
            "/account",
            Own("the caller's account", |_, _| {
                vec![probe(
                    Method::PATCH,
                    "/account",
                    Some(json!({"resource_access_log": null})),
                    &[200],
                )]
            }),
        ),
        route(
            "POST",
            "/token",
            Own("a token of the caller's secret", |_, _| {
                vec![probe(
                    Method::POST,
                    "/token",
                    Some(json!({"options": []})),
                    &[201],
                )]
            }),
        ),
        route(
            "POST",
            "/token/refresh",
            Own("refreshes the caller's token", |w, _| {
                vec![probe(
                    Method::POST,
                    "/token/refresh",
                    Some(json!({"validity_ts": w.now + 3_600.0})),
                    &[201],
                )
                .with_credential(&w.b_refresh_token)]
            }),
        ),
        // Users, secrets, PINs: another account's ids are 404.
        route(
            "GET",
            "/users",
            Own("B's users", |_, _| vec![get("/users", &[200])]),
        ),
        route(
            "POST",
            "/users",
            Foreign(|w, _| {
                vec![probe(
                    Method::POST,
                    "/users",
                    Some(json!({"name": "Planted", "role": w.a_role})),
                    &[404],
                )]
            }),
        ),
        route(
            "GET",
            "/users/{user}",
            Foreign(|w, _| {
                [&w.a.user, &w.a_clerk]
                    .map(|user| get(format!("/users/{user}"), &[404]))
                    .into()
            }),
        ),
        route(
            "PATCH",
            "/users/{user}",
            Foreign(|w, _| {
                [&w.a.user, &w.a_clerk]
                    .map(|user| {
                        probe(
                            Method::PATCH,
                            format!("/users/{user}"),
                            Some(json!({"name": "Hijacked"})),
                            &[404],
                        )
                    })
                    .into()
            }),
        ),
        route(
            "DELETE",
            "/users/{user}",
            Foreign(|w, _| {
                [&w.a_clerk, &w.a.user]
                    .map(|user| probe(Method::DELETE, format!("/users/{user}"), None, &[404]))
                    .into()
            }),
        ),
        route(
            "GET",
            "/users/{user}/secrets",
            Foreign(|w, _| {
                [&w.a.user, &w.a_clerk]
                    .map(|user| get(format!("/users/{user}/secrets"), &[404]))
                    .into()
            }),
        ),
        route(
            "POST",
            "/users/{user}/secrets",
            Foreign(|w, _| {
                [&w.a.user, &w.a_clerk]
                    .map(|user| {
                        probe(
                            Method::POST,
                            format!("/users/{user}/secrets"),
                            Some(json!({"validity_ts": null})),
                            &[404],
                        )
                    })
                    .into()
            }),
        ),
        route(
            "PATCH",
            "/users/{user}/secrets",
            Foreign(|w, _| {
                [&w.a.user, &w.a_clerk]
                    .map(|user| {
                        probe(
                            Method::PATCH,
                            format!("/users/{user}/secrets"),
                            Some(json!({"validity_ts": w.now + 86_400.0})),
                            &[404],
                        )
                    })
                    .into()
            }),
        ),
        route(
            "DELETE",
            "/users/{user}/secrets",
            Foreign(|w, _| {
                [&w.a_clerk, &w.a.user]
                    .map(|user| {
                        probe(
                            Method::DELETE,
                            format!("/users/{user}/secrets"),
                            None,
                            &[404],
                        )
                    })
                    .into()
            }),
        ),
        route(
            "POST",
            "/secrets/{account}/{pin}",
            Foreign(|w, _| {
                // B's valid PIN does not redeem into A's account.
                vec![probe(
                    Method::POST,
                    format!("/secrets/{}/{}", w.a.account, w.b_pin),
                    None,
                    &[404],
                )
                .anonymous()]
            }),
        ),
        // Roles.
        route(
            "GET",
            "/roles",
            Own("B's roles", |_, _| vec![get("/roles", &[200])]),
        ),
        route(
            "POST",
            "/roles",
            Own("creates a role of B's", |_, _| {
                vec![probe(
                    Method::POST,
                    "/roles",
                    Some(json!({"name": "B Made"})),
                    &[201],
                )]
            }),
        ),
        route(
            "GET",
            "/roles/{role}",
            Foreign(|w, _| {
                [&w.a.role, &w.a_role]
                    .map(|role| get(format!("/roles/{role}"), &[404]))
                    .into()
            }),
        ),
        route(
            "PATCH",
            "/roles/{role}",
            Foreign(|w, _| {
                [&w.a.role, &w.a_role]
                    .map(|role| {
                        probe(
                            Method::PATCH,
                            format!("/roles/{role}"),
                            Some(json!({"name": "Hijacked"})),
                            &[404],
                        )
                    })
                    .into()
            }),
        ),
        route(
            "DELETE",
            "/roles/{role}",
            Foreign(|w, _| {
                [&w.a_role, &w.a.role]
                    .map(|role| probe(Method::DELETE, format!("/roles/{role}"), None, &[404]))
                    .into()
            }),
        ),
        // Twins.
        route(
            "GET",
            "/twins",
            Own("scans B's own twins", |_, _| {
                vec![
                    get("/twins", &[200]),
                    get("/twins?details=true", &[200]),
                    get("/twins?match=true&details=true", &[200]),
                ]
            }),
        ),
        route(
            "POST",
            "/twins",
            Own("creates a twin of B's", |_, _| {
                vec![probe(
                    Method::POST,
                    "/twins",
                    Some(json!({"description": {"owner": "b"}})),
                    &[201],
                )]
            }),
        ),
        route(
            "GET",
            "/twins/{twin}",
            Foreign(|w, pass| {
                vec![
                    get(on_twin(w, ""), pass.pick(&[403], &[200])),
                    get(
                        on_twin(w, "?show_terminated=true"),
                        pass.pick(&[403], &[200]),
                    ),
                ]
            }),
        ),
        route(
            "PATCH",
            "/twins/{twin}",
            Foreign(|w, _| {
                vec![probe(
                    Method::PATCH,
                    on_twin(w, ""),
                    Some(json!({"description": {"forged": true}})),
                    &[403],
                )]
            }),
        ),
        route(
            "DELETE",
            "/twins/{twin}",
            Foreign(|w, _| vec![probe(Method::DELETE, on_twin(w, ""), None, &[403])]),
        ),
        // A's ledger, by its account id and by the `owner` alias.
        route(
            "GET",
            "/twins/{twin}/ledgers/{ledger}",
            Foreign(|w, pass| {
                ledgers(w)
                    .into_iter()
                    .flat_map(|ledger| {
                        [
                            get(
                                on_twin(w, &format!("/ledgers/{ledger}")),
                                pass.pick(&[403], &[200]),
                            ),
                            get(
                                on_twin(w, &format!("/ledgers/{ledger}?entries={PRIVATE_ENTRY}")),
                                pass.pick(&[403], &[200, 404]),
                            ),
                        ]
                    })
                    .collect()
            }),
        ),
        route(
            "POST",
            "/twins/{twin}/ledgers/{ledger}",
            Foreign(|w, _| {
                ledgers(w)
                    .into_iter()
                    .map(|ledger| {
                        probe(
                            Method::POST,
                            on_twin(w, &format!("/ledgers/{ledger}")),
                            Some(json!({"entries": {"planted": {"value": "by B"}}})),
                            &[403],
                        )
                    })
                    .collect()
            }),
        ),
        route(
            "PATCH",
            "/twins/{twin}/ledgers/{ledger}",
            Foreign(|w, _| {
                ledgers(w)
                .into_iter()
                .map(|ledger| {
                    probe(
                        Method::PATCH,
                        on_twin(w, &format!("/ledgers/{ledger}")),
                        Some(json!({"entries": {SHARED_ENTRY: {"value": "forged"}, PRIVATE_ENTRY: {"value": "forged"}}})),
                        &[403],
                    )
                })
                .collect()
            }),
        ),
        route(
            "DELETE",
            "/twins/{twin}/ledgers/{ledger}",
            Foreign(|w, _| {
                ledgers(w)
                    .into_iter()
                    .map(|ledger| {
                        probe(
                            Method::DELETE,
                            on_twin(
                                w,
                                &format!(
                                    "/ledgers/{ledger}?entries={SHARED_ENTRY},{PRIVATE_ENTRY}"
                                ),
                            ),
                            None,
                            &[403],
                        )
                    })
                    .collect()
            }),
        ),
        route(
            "GET",
            "/twins/{twin}/ledgers/{ledger}/value",
            Foreign(|w, pass| {
                ledgers(w)
                    .into_iter()
                    .map(|ledger| {
                        get(
                            on_twin(w, &format!("/ledgers/{ledger}/value")),
                            pass.pick(&[403], &[200]),
                        )
                    })
                    .collect()
            }),
        ),
        route(
            "PATCH",
            "/twins/{twin}/ledgers/{ledger}/value",
            Foreign(|w, _| {
                ledgers(w)
                    .into_iter()
                    .map(|ledger| {
                        probe(
                            Method::PATCH,
                            on_twin(w, &format!("/ledgers/{ledger}/value")),
                            Some(json!({"entries": {SHARED_ENTRY: {"value": "forged"}}})),
                            &[403],
                        )
                    })
                    .collect()
            }),
        ),
        route(
            "GET",
            "/twins/{twin}/ledgers/{ledger}/history",
            Foreign(|w, pass| {
                ledgers(w)
                    .into_iter()
                    .flat_map(|ledger| {
                        [
                            get(
                                on_twin(w, &format!("/ledgers/{ledger}/history")),
                                pass.pick(&[403], &[200]),
                            ),
                            get(
                                on_twin(
                                    w,
                                    &format!("/ledgers/{ledger}/history?entries={PRIVATE_ENTRY}"),
                                ),
                                pass.pick(&[403], &[200, 404]),
                            ),
                        ]
                    })
                    .collect()
            }),
        ),
        // Identities: A's are A's; B may attach its own once it sees the twin.
        route(
            "GET",
            "/twins/{twin}/identities",
            Foreign(|w, pass| {
                vec![
                    get(on_twin(w, "/identities"), pass.pick(&[403], &[200])),
                    get(
                        on_twin(w, "/identities?show_foreign=true"),
                        pass.pick(&[403], &[200]),
                    ),
                    get(
                        on_twin(w, &format!("/identities?show_foreign={}", w.a.account)),
                        pass.pick(&[403], &[200]),
                    ),
                ]
            }),
        ),
        route(
            "POST",
            "/twins/{twin}/identities",
            Foreign(|w, pass| {
                // The second pass attaches B's own identity: B's data on a twin it may see.
                vec![probe(
                    Method::POST,
                    on_twin(w, "/identities"),
                    Some(json!({"identities": {"RFID#b-own-1": {"visibility": null}}})),
                    pass.pick(&[403], &[201]),
                )]
            }),
        ),
        route(
            "GET",
            "/twins/{twin}/identities/{identity}",
            Foreign(|w, pass| {
                [PRIVATE_IDENTITY, PUBLIC_IDENTITY]
                    .map(|identity| {
                        get(
                            on_twin(w, &format!("/identities/{}", encoded(identity))),
                            pass.pick(&[403], &[404]),
                        )
                    })
                    .into()
            }),
        ),
        route(
            "PATCH",
            "/twins/{twin}/identities/{identity}",
            Foreign(|w, pass| {
                [PRIVATE_IDENTITY, PUBLIC_IDENTITY]
                    .map(|identity| {
                        probe(
                            Method::PATCH,
                            on_twin(w, &format!("/identities/{}", encoded(identity))),
                            Some(json!({"visibility": "true"})),
                            pass.pick(&[403], &[404]),
                        )
                    })
                    .into()
            }),
        ),
        route(
            "DELETE",
            "/twins/{twin}/identities/{identity}",
            Foreign(|w, pass| {
                [PRIVATE_IDENTITY, PUBLIC_IDENTITY]
                    .map(|identity| {
                        probe(
                            Method::DELETE,
                            on_twin(w, &format!("/identities/{}", encoded(identity))),
                            None,
                            pass.pick(&[403], &[404]),
                        )
                    })
                    .into()
            }),
        ),
        route(
            "GET",
            "/resolve/{identity}",
            Own("resolves among identities B may see", |w, _| {
                let mut probes = Vec::new();
                for identity in [PRIVATE_IDENTITY, PUBLIC_IDENTITY] {
                    for context in ["personal", "system", w.a.account.as_str()] {
                        probes.push(get(
                            format!("/resolve/{}?context={context}", encoded(identity)),
                            &[200],
                        ));
                        probes.push(get(
                            format!(
                                "/resolve/{}?context={context}&details=true",
                                encoded(identity)
                            ),
                            &[200],
                        ));
                    }
                }
                probes
            }),
        ),
        // Stickers: only recipients see one.
        route(
            "GET",
            "/twins/{twin}/stickers",
            Foreign(|w, pass| {
                vec![
                    get(on_twin(w, "/stickers"), pass.pick(&[403], &[200])),
                    get(
                        on_twin(w, &format!("/stickers?context={}", w.a.account)),
                        pass.pick(&[403], &[200]),
                    ),
                ]
            }),
        ),
        route(
            "POST",
            "/twins/{twin}/stickers",
            Foreign(|w, pass| {
                // The second pass puts B's own sticker, addressed to B only.
                vec![probe(
                    Method::POST,
                    on_twin(w, "/stickers"),
                    Some(
                        json!({"stickers": {"b-own-blue": {"note": "b's", "recipients": [w.b.account]}}}),
                    ),
                    pass.pick(&[403], &[201]),
                )]
            }),
        ),
        route(
            "GET",
            "/twins/{twin}/stickers/{color}",
            Foreign(|w, pass| {
                vec![
                    get(
                        on_twin(
                            w,
                            &format!("/stickers/{STICKER_COLOR}?context={}", w.a.account),
                        ),
                        pass.pick(&[403], &[404]),
                    ),
                    get(
                        on_twin(w, &format!("/stickers/{STICKER_COLOR}")),
                        pass.pick(&[403], &[404]),
                    ),
                ]
            }),
        ),
        route(
            "DELETE",
            "/twins/{twin}/stickers/{color}",
            Foreign(|w, pass| {
                vec![probe(
                    Method::DELETE,
                    on_twin(
                        w,
                        &format!("/stickers/{STICKER_COLOR}?context={}", w.a.account),
                    ),
                    None,
                    pass.pick(&[403], &[404]),
                )]
            }),
        ),
        route(
            "GET",
            "/stickers",
            Own("stickers addressed to B", |w, _| {
                vec![
                    get("/stickers", &[200]),
                    get("/stickers?context=system", &[200]),
                    get(format!("/stickers?context={}", w.a.account), &[200]),
                    get(
                        format!("/stickers?context=system&color={STICKER_COLOR}"),
                        &[200],
                    ),
                ]
            }),
        ),
        // Notifications: subscriptions are managed by their token, topics need a grant.
        route(
            "POST",
            "/notifications/webhooks",
            Foreign(|w, _| {
                vec![probe(
                    Method::POST,
                    "/notifications/webhooks",
                    Some(
                        json!({"callback_url": B_CALLBACK, "topic": "orders", "account": w.a.account}),
                    ),
                    &[403],
                )]
            }),
        ),
        route(
            "GET",
            "/notifications/webhooks/access",
            Own("B's grants", |_, _| {
                vec![get("/notifications/webhooks/access", &[200])]
            }),
        ),
        route(
            "PATCH",
            "/notifications/webhooks/access/accounts/{account}",
            Own("B grants A its own topics; A's grants stay A's", |w, _| {
                vec![probe(
                    Method::PATCH,
                    format!("/notifications/webhooks/access/accounts/{}", w.a.account),
                    Some(json!({"topics": ["b-topic"]})),
                    &[200],
                )]
            }),
        ),
        route(
            "GET",
            "/notifications/webhooks/{account}",
            Foreign(|w, _| webhook_probes(w, Method::GET)),
        ),
        route(
            "PATCH",
            "/notifications/webhooks/{account}",
            Foreign(|w, _| webhook_probes(w, Method::PATCH)),
        ),
        route(
            "DELETE",
            "/notifications/webhooks/{account}",
            Foreign(|w, _| webhook_probes(w, Method::DELETE)),
        ),
        // Events: a stream of what B may see, replayed from the start.
        route(
            "GET",
            "/events",
            Own("changes B may see", |w, _| {
                vec![
                    get("/events?last_event_id=0", &[200]).streaming(),
                    get(format!("/events?twins={}&last_event_id=0", w.twin), &[200]).streaming(),
                    get(
                        format!("/events?topics={SUBSCRIBED_TOPIC}&last_event_id=0"),
                        &[200],
                    )
                    .streaming(),
                ]
            }),
        ),
        // Audit.
        route(
            "GET",
            "/audit",
            Own(
                "B's trail: accesses to B's data and B's own accesses",
                |w, _| {
                    vec![
                        get("/audit", &[200]).own_trail(),
                        get(format!("/audit?twin={}", w.twin), &[200]).own_trail(),
                        get(format!("/audit?actor={}", w.a.account), &[200]).own_trail(),
                        get(format!("/audit?activity=calls&user={}", w.a_clerk), &[404]),
                    ]
                },
            ),
        ),
        route(
            "GET",
            "/audit/checkpoint",
            NotTenantScoped("the signed size and root of the whole log", |_, _| {
                vec![get("/audit/checkpoint", &[200])]
            }),
        ),
        route(
            "GET",
            "/audit/proof/inclusion",
            Foreign(|w, _| {
                vec![get(
                    format!(
                        "/audit/proof/inclusion?index={}&size={}",
                        w.a_audit_index, w.audit_size
                    ),
                    &[404],
                )]
            }),
        ),
        route(
            "GET",
            "/audit/proof/consistency",
            NotTenantScoped(
                "hashes of the whole log between two sealed sizes",
                |w, _| {
                    vec![get(
                        format!("/audit/proof/consistency?from=1&to={}", w.audit_size),
                        &[200],
                    )]
                },
            ),
        ),
        // Usage, log, trace.
        route(
            "GET",
            "/usage",
            Own("B's usage", |_, _| vec![get("/usage", &[200])]),
        ),
        route(
            "GET",
            "/usage/{user}",
            Foreign(|w, _| {
                [&w.a.user, &w.a_clerk]
                    .map(|user| get(format!("/usage/{user}"), &[404]))
                    .into()
            }),
        ),
        route(
            "GET",
            "/log",
            Own("B's processing log", |w, _| {
                vec![
                    get("/log", &[200]),
                    get(format!("/log?fragment={}", w.a_log_fragment), &[200, 400]),
                ]
            }),
        ),
        route(
            "POST",
            "/trace",
            Own("traces into B's log", |_, _| {
                vec![probe(Method::POST, "/trace", None, &[201])]
            }),
        ),
    ]
}

/// A's ledger on A's twin: by A's account id (the ledger's id) and by the `owner` alias.
fn ledgers(world: &World) -> Vec<String> {
    vec![world.a.account.clone(), "owner".to_owned()]
}

/// Subscription management at A's account path with B's own token and with no one's token.
fn webhook_probes(world: &World, method: Method) -> Vec<Probe> {
    [&world.b_subscription_token, NO_TOKEN]
        .map(|token| {
            probe(
                method.clone(),
                format!("/notifications/webhooks/{}?token={token}", world.a.account),
                None,
                &[404],
            )
            .anonymous()
        })
        .into()
}

/// The (METHOD, path) pairs of the OpenAPI document, built in-process.
fn documented_routes() -> BTreeSet<(String, String)> {
    let document: Value = serde_json::from_str(crate::openapi_document()).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"]
        .as_object()
        .expect("the document has paths")
    {
        for method in item.as_object().unwrap().keys() {
            if [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ]
            .contains(&method.as_str())
            {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// Problems between the document and the table: unclassified routes and stale entries.
fn coverage_problems(table: &[Route]) -> Vec<String> {
    let documented = documented_routes();
    let mut classified = BTreeSet::new();
    let mut problems = Vec::new();
    for entry in table {
        if !classified.insert((entry.method.to_owned(), entry.path.to_owned())) {
            problems.push(format!(
                "{} {} is classified twice in isolation_matrix.rs",
                entry.method, entry.path
            ));
        }
    }
    for (method, path) in documented.difference(&classified) {
        problems.push(format!(
            "{method} {path}: classify this route in isolation_matrix.rs"
        ));
    }
    for (method, path) in classified.difference(&documented) {
        problems.push(format!("{method} {path} is in isolation_matrix.rs but no longer in the OpenAPI document: remove it"));
    }
    problems
}

/// Percent-decodes a request target, to compare it with plain text.
fn decoded(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                out.push(byte);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a Server-Sent Events response until it is idle, for a bounded time.
async fn read_stream(app: &TestApp, request: Request<Body>) -> (u16, String) {
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(400), body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Ok(bytes) = frame.into_data() {
                    text.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            Ok(Some(Err(_)) | None) | Err(_) => break,
        }
    }
    (status, text)
}

/// Calls `probe` as B; returns the failures it shows.
async fn check(app: &TestApp, world: &World, pass: Pass, label: &str, probe: Probe) -> Vec<String> {
    let credential = match &probe.credential {
        None => Some(world.b.secret.clone()),
        Some(credential) => credential.clone(),
    };
    let mut request = Request::builder()
        .method(probe.method.clone())
        .uri(&probe.uri);
    if let Some(credential) = &credential {
        request = request.header(header::AUTHORIZATION, credential.as_str());
    }
    let body_text = probe.body.as_ref().map(Value::to_string);
    let request = request
        .header(header::CONTENT_TYPE, "application/json")
        .body(body_text.clone().map_or_else(Body::empty, Body::from))
        .unwrap();
    let (status, text) = if probe.stream {
        read_stream(app, request).await
    } else {
        let reply = app.send(request).await;
        (reply.status.as_u16(), reply.text())
    };
    let request_line = format!(
        "[{pass:?}] {label}: {} {}{}",
        probe.method,
        probe.uri,
        body_text
            .as_deref()
            .map(|body| format!(" {body}"))
            .unwrap_or_default()
    );
    let mut failures = Vec::new();
    if !probe.expect.contains(&status) {
        failures.push(format!(
            "{request_line}\n    expected {:?}, got {status}: {text}",
            probe.expect
        ));
    } else if let Some(subcode) = match status {
        401 => Some(401_000),
        403 => Some(403_535),
        404 => Some(404_653),
        _ => None,
    } {
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if body["subcode"].as_u64() != Some(subcode) {
            failures.push(format!(
                "{request_line}\n    expected sub-code {subcode}, got {status}: {text}"
            ));
        }
    }
    // What B itself sent may come back; nothing else of A's may.
    let sent = format!("{} {}", decoded(&probe.uri), body_text.unwrap_or_default());
    let leaked: Vec<String> = world
        .secrets()
        .into_iter()
        .filter(|(secret, is_id, shared)| {
            let shared_by_rules = pass == Pass::Shared && *shared;
            let in_own_trail = probe.own_trail && *is_id;
            let allowed = shared_by_rules || in_own_trail || sent.contains(secret.as_str());
            !allowed && text.contains(secret.as_str())
        })
        .map(|(secret, _, _)| secret)
        .collect();
    if !leaked.is_empty() {
        failures.push(format!(
            "{request_line}\n    LEAK of {leaked:?} in {status}: {text}"
        ));
    }
    failures
}

/// Runs every probe of the table in `pass`; returns the failures and the number of calls.
async fn run_pass(
    app: &TestApp,
    world: &World,
    pass: Pass,
    table: &[Route],
) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut calls = 0;
    for entry in table {
        let (kind, probes) = match &entry.class {
            Class::Foreign(probes) => ("A's data".to_owned(), probes),
            Class::Own(reason, probes) => (format!("B's own: {reason}"), probes),
            Class::NotTenantScoped(reason, probes) => {
                (format!("not tenant-scoped: {reason}"), probes)
            }
        };
        let label = format!("{} {} ({kind})", entry.method, entry.path);
        let probes = probes(world, pass);
        assert!(!probes.is_empty(), "{label} has no probe");
        for probe in probes {
            assert_eq!(
                probe.method.as_str(),
                entry.method,
                "{label}: a probe of another method"
            );
            calls += 1;
            failures.extend(check(app, world, pass, &label, probe).await);
        }
    }
    (failures, calls)
}

/// Takes the due outbox messages and marks them delivered; returns the token of each
/// confirmation message.
async fn confirmation_tokens(app: &TestApp) -> Vec<String> {
    let now = app.clock.now();
    let claimed = app
        .steward
        .store()
        .claim_deliveries(now, now.plus_millis(30_000), 100)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for claim in &claimed {
        app.steward
            .store()
            .finish_delivery(claim.delivery.message, None)
            .await
            .unwrap();
        let body: Value = serde_json::from_str(&claim.delivery.body).unwrap();
        if let Some(url) = body["confirmation_url"].as_str() {
            tokens.push(url[url.find("token=").unwrap() + "token=".len()..].to_owned());
        }
    }
    tokens
}

/// Subscribes `who` to its own `topic` and confirms; returns the subscription's token.
async fn subscription(app: &TestApp, who: &TestAccount, callback: &str, topic: &str) -> String {
    let reply = app
        .call(
            Method::POST,
            "/notifications/webhooks",
            Some(&who.secret),
            Some(json!({"callback_url": callback, "topic": topic})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text());
    let tokens = confirmation_tokens(app).await;
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let path = format!(
        "/notifications/webhooks/{}?token={}",
        who.account, tokens[0]
    );
    let confirmed = app.call(Method::GET, &path, None, None).await;
    assert_eq!(confirmed.status.as_u16(), 200, "{}", confirmed.text());
    tokens[0].clone()
}

async fn created(app: &TestApp, secret: &str, path: &str, body: Value) -> Value {
    let reply = app.call(Method::POST, path, Some(secret), Some(body)).await;
    assert_eq!(reply.status.as_u16(), 201, "{path}: {}", reply.text());
    reply.json()
}

/// A with a twin, ledger entries (shared, private with history), identities (private and
/// public), a sticker, a second user and role with a secret, a subscription, a topic grant, a
/// log line and audit records; B with a subscription, a spare user's PIN and a refresh token.
async fn set_up(app: &TestApp) -> World {
    let a = app.create_account(A_ACCOUNT_NAME).await;
    let b = app.create_account("Account B").await;
    let c = app.create_account("Account C").await;
    let as_a = a.secret.as_str();
    let now = app.clock.now().as_tt_seconds();

    let twin = created(
        app,
        as_a,
        "/twins",
        json!({"description": {"marker": TWIN_MARKER}}),
    )
    .await["creation_certificate"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let ledger = format!("/twins/{twin}/ledgers/personal");
    created(
        app,
        as_a,
        &ledger,
        json!({"entries": {
            SHARED_ENTRY: {"value": SHARED_VALUE, "visibility": SHARED_RULE, "publish": {PUBLISHED_TOPIC: "true"}},
            PRIVATE_ENTRY: {"value": PRIVATE_OLD_VALUE, "history": "INF", "publish": {SUBSCRIBED_TOPIC: "true"}},
        }}),
    )
    .await;
    let updated = app
        .call(
            Method::PATCH,
            &format!("{ledger}/value"),
            Some(as_a),
            Some(json!({"entries": {PRIVATE_ENTRY: {"value": PRIVATE_VALUE}}})),
        )
        .await;
    assert_eq!(updated.status.as_u16(), 200, "{}", updated.text());
    created(
        app,
        as_a,
        &format!("/twins/{twin}/identities"),
        json!({"identities": {PRIVATE_IDENTITY: {"visibility": null}, PUBLIC_IDENTITY: {"visibility": IDENTITY_RULE}}}),
    )
    .await;
    created(
        app,
        as_a,
        &format!("/twins/{twin}/stickers"),
        json!({"stickers": {STICKER_COLOR: {"note": STICKER_NOTE, "recipients": [a.account]}}}),
    )
    .await;

    let a_role = created(app, as_a, "/roles", json!({"name": ROLE_NAME})).await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_clerk = created(
        app,
        as_a,
        "/users",
        json!({"name": USER_NAME, "role": a_role, "description": {"note": USER_NOTE}}),
    )
    .await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_clerk_secret = app.issue_secret(&a, &a_clerk).await;

    let a_subscription_token = subscription(app, &a, A_CALLBACK, SUBSCRIBED_TOPIC).await;
    let b_subscription_token = subscription(app, &b, B_CALLBACK, "b-orders").await;
    let grant = app
        .call(
            Method::PATCH,
            &format!("/notifications/webhooks/access/accounts/{}", c.account),
            Some(as_a),
            Some(json!({"topics": [GRANTED_TOPIC]})),
        )
        .await;
    assert_eq!(grant.status.as_u16(), 200, "{}", grant.text());
    // A change after the subscription, so A's topic has a published event.
    let republished = app
        .call(
            Method::PATCH,
            &format!("{ledger}/value"),
            Some(as_a),
            Some(json!({"entries": {PRIVATE_ENTRY: {"value": PRIVATE_VALUE}, SHARED_ENTRY: {"value": SHARED_VALUE}}})),
        )
        .await;
    assert_eq!(republished.status.as_u16(), 200, "{}", republished.text());

    let a_id: steward_domain::AccountId = a.account.parse().unwrap();
    app.steward
        .store()
        .append_account_log(a_id, &[(app.clock.now(), LOG_LINE.to_owned())])
        .await
        .unwrap();
    let log = app.call(Method::GET, "/log", Some(as_a), None).await.json();
    assert_eq!(log["messages"], json!([LOG_LINE]), "{log}");
    let a_log_fragment = log["fragment"].as_str().unwrap().to_owned();

    // B: a spare user's PIN (never redeemed) and a refreshable token.
    let spare_role = created(app, &b.secret, "/roles", json!({"name": "Spare B"})).await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let spare = created(
        app,
        &b.secret,
        "/users",
        json!({"name": "Spare B", "role": spare_role}),
    )
    .await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_pin = created(
        app,
        &b.secret,
        &format!("/users/{spare}/secrets"),
        json!({}),
    )
    .await["pin"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_refresh_token = created(app, &b.secret, "/token", json!({"options": ["refresh"]})).await
        ["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Audit: A's own write, sealed.
    app.steward.flush_audit().await.unwrap();
    app.steward.seal_audit().await.unwrap();
    let audit_size = app.steward.audit_checkpoint().await.unwrap().unwrap().size;
    let records = app
        .call(
            Method::GET,
            "/audit?operation=add_twin_ledger_entry",
            Some(as_a),
            None,
        )
        .await
        .json();
    let a_audit_index = records["records"][0]["seq"]
        .as_u64()
        .expect("A's write is audited");
    assert!(a_audit_index < audit_size);

    World {
        a,
        b,
        a_clerk,
        a_clerk_secret,
        a_role,
        twin,
        a_subscription_token,
        b_subscription_token,
        b_pin,
        b_refresh_token,
        a_audit_index,
        audit_size,
        a_log_fragment,
        now,
    }
}

/// What A reads of everything it owns.
async fn snapshot(app: &TestApp, world: &World) -> Vec<(String, Value)> {
    let twin = &world.twin;
    let mut seen = Vec::new();
    for path in [
        format!("/twins/{twin}"),
        format!("/twins/{twin}/ledgers/personal"),
        format!("/twins/{twin}/ledgers/personal/history"),
        format!("/twins/{twin}/identities"),
        format!("/twins/{twin}/identities/{}", encoded(PRIVATE_IDENTITY)),
        format!("/twins/{twin}/identities/{}", encoded(PUBLIC_IDENTITY)),
        format!("/twins/{twin}/stickers"),
        format!("/twins/{twin}/stickers/{STICKER_COLOR}"),
        "/stickers".to_owned(),
        "/twins".to_owned(),
        "/account".to_owned(),
        "/users".to_owned(),
        "/roles".to_owned(),
        format!("/users/{}", world.a.user),
        format!("/users/{}", world.a_clerk),
        format!("/roles/{}", world.a.role),
        format!("/roles/{}", world.a_role),
        format!("/users/{}/secrets", world.a.user),
        format!("/users/{}/secrets", world.a_clerk),
        "/notifications/webhooks/access".to_owned(),
        format!("/log?fragment={}", world.a_log_fragment),
    ] {
        let reply = app
            .call(Method::GET, &path, Some(&world.a.secret), None)
            .await;
        assert_eq!(
            reply.status.as_u16(),
            200,
            "A reads {path}: {}",
            reply.text()
        );
        seen.push((path, reply.json()));
    }
    // A's clerk and A's subscription still work.
    let whoami = app
        .call(Method::GET, "/whoami", Some(&world.a_clerk_secret), None)
        .await;
    seen.push(("clerk /whoami".to_owned(), whoami.json()));
    seen
}

/// Gives B's admin a role that sees every twin, entry and identity A's rules share.
async fn share_with_b(app: &TestApp, world: &World) {
    let role = created(
        app,
        &world.b.secret,
        "/roles",
        json!({"name": "Partner", "rules": {"twin_rule": "true", "entry_rule": "true", "identity_rule": "true"}}),
    )
    .await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .call(
            Method::PATCH,
            &format!("/users/{}", world.b.user),
            Some(&world.b.secret),
            Some(json!({"role": role})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    // B now reads A's twin and shared entry, and never the private one.
    let ledger = app
        .call(
            Method::GET,
            &format!("/twins/{}/ledgers/{}", world.twin, world.a.account),
            Some(&world.b.secret),
            None,
        )
        .await;
    assert_eq!(ledger.status.as_u16(), 200, "{}", ledger.text());
    assert_eq!(
        ledger.json()["entries"][SHARED_ENTRY]["value"],
        SHARED_VALUE,
        "{}",
        ledger.text()
    );
}

#[test]
fn every_documented_route_is_classified() {
    let problems = coverage_problems(&table());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

api_tests! {
    async fn account_b_reaches_nothing_of_account_a_on_any_documented_route(app) {
        let started = std::time::Instant::now();
        let table = table();
        let mut failures = coverage_problems(&table);
        let world = set_up(&app).await;
        let before = snapshot(&app, &world).await;

        let (hidden, hidden_calls) = run_pass(&app, &world, Pass::Hidden, &table).await;
        failures.extend(hidden);
        share_with_b(&app, &world).await;
        let (shared, shared_calls) = run_pass(&app, &world, Pass::Shared, &table).await;
        failures.extend(shared);

        let after = snapshot(&app, &world).await;
        for ((path, was), (_, is)) in before.iter().zip(&after) {
            if was != is {
                failures.push(format!("A's {path} changed:\n    before {was}\n    after  {is}"));
            }
        }
        let (foreign, own, untenanted) = table.iter().fold((0, 0, 0), |(f, o, n), entry| match entry.class {
            Class::Foreign(_) => (f + 1, o, n),
            Class::Own(..) => (f, o + 1, n),
            Class::NotTenantScoped(..) => (f, o, n + 1),
        });
        eprintln!(
            "isolation matrix: {} routes ({foreign} foreign, {own} own, {untenanted} not tenant-scoped), \
             {hidden_calls} + {shared_calls} calls in {:?}",
            table.len(),
            started.elapsed()
        );
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }
}
