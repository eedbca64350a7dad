//! Both backends must ship the same migrations under the same file names, so a schema change
//! is never made on one backend only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

fn migration_names(backend_crate: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(backend_crate)
        .join("migrations");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read `{}`: {error}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn sqlite_and_postgres_migrations_have_the_same_file_names() {
    let sqlite = migration_names("store-sqlite");
    let postgres = migration_names("store-postgres");
    assert!(!sqlite.is_empty(), "no migrations found");
    assert_eq!(sqlite, postgres);
}

#[test]
fn migration_names_are_numbered_sql_files() {
    for name in migration_names("store-sqlite") {
        let (number, rest) = name.split_once('_').expect("`NNNN_name.sql`");
        assert!(
            number.len() == 4 && number.chars().all(|c| c.is_ascii_digit()),
            "`{name}` should start with a four-digit number"
        );
        assert!(rest.ends_with(".sql"), "`{name}` should be a .sql file");
    }
}
