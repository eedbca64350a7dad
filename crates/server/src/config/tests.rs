use std::io::Write as _;

use super::*;

fn write_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn printed_default_file_parses_to_the_built_in_defaults() {
    let file = write_file(DEFAULT_CONFIG_FILE);
    let loaded = Config::load(Some(file.path()), &ConfigOverrides::default()).unwrap();
    assert_eq!(loaded, Config::default());
}

#[test]
fn unknown_key_is_an_error_that_names_the_key() {
    let file = write_file("listen = \"127.0.0.1:9000\"\nlisten_port = 9\n");
    let error = Config::load(Some(file.path()), &ConfigOverrides::default()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("listen_port"), "{message}");
}

#[test]
fn layers_apply_in_order_defaults_file_then_overrides() {
    let file = write_file("listen = \"127.0.0.1:9000\"\nshutdown_grace_seconds = 5\n");
    let overrides = ConfigOverrides {
        listen: Some("127.0.0.1:9100".parse().unwrap()),
        ..ConfigOverrides::default()
    };
    let config = Config::load(Some(file.path()), &overrides).unwrap();
    assert_eq!(config.listen.port(), 9100, "flag/env beats the file");
    assert_eq!(config.shutdown_grace_seconds, 5, "file beats the default");
    assert_eq!(config.max_connections, 16, "default when nobody sets it");
}

#[test]
fn wrong_types_and_bad_values_are_refused() {
    let file = write_file("max_connections = \"many\"\n");
    assert!(Config::load(Some(file.path()), &ConfigOverrides::default()).is_err());
    let zero_pool = ConfigOverrides {
        max_connections: Some(0),
        ..ConfigOverrides::default()
    };
    assert!(Config::load(None, &zero_pool).is_err());
    let mysql = ConfigOverrides {
        database_url: Some("mysql://x".to_owned()),
        ..ConfigOverrides::default()
    };
    assert!(Config::load(None, &mysql).is_err());
}

#[test]
fn missing_file_is_reported_with_its_path() {
    let error = Config::load(
        Some(Path::new("/nonexistent/steward.toml")),
        &ConfigOverrides::default(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("/nonexistent/steward.toml"));
}
