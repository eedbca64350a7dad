//! Test support (feature `test-support`): fresh PostgreSQL databases for tests of other crates,
//! so they can run on PostgreSQL without knowing SQL.

use sqlx::{Connection, PgConnection};

/// The variable naming the PostgreSQL server tests may use.
pub const TEST_URL_VARIABLE: &str = "STEWARD_TEST_POSTGRES_URL";

/// A database created for one test on the server named by [`TEST_URL_VARIABLE`].
#[derive(Debug)]
pub struct TemporaryDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl TemporaryDatabase {
    /// Creates a fresh, empty database; `None` when [`TEST_URL_VARIABLE`] is not set.
    ///
    /// # Panics
    /// When the variable is set but the server cannot be reached or refuses: a configured
    /// database that is missing is a test failure, never a skip.
    #[allow(clippy::panic)]
    pub async fn create() -> Option<Self> {
        let server_url = std::env::var(TEST_URL_VARIABLE).ok()?;
        let name = format!("steward_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&server_url)
            .await
            .unwrap_or_else(|error| panic!("{TEST_URL_VARIABLE} is set but unreachable: {error}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot create test database: {error}"));
        let _ = admin.close().await;
        let url = with_database(&server_url, &name);
        Some(Self {
            server_url,
            name,
            url,
        })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database, disconnecting whoever still uses it.
    ///
    /// # Panics
    /// When the server refuses.
    #[allow(clippy::panic)]
    pub async fn drop_database(self) {
        let mut admin = PgConnection::connect(&self.server_url)
            .await
            .unwrap_or_else(|error| panic!("{TEST_URL_VARIABLE} is set but unreachable: {error}"));
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|error| panic!("cannot drop test database: {error}"));
        let _ = admin.close().await;
    }
}

/// Runs `case` with the URL of a fresh database and drops the database afterwards, also when
/// the case panics (the panic then resumes and fails the test). Says the test was skipped and
/// returns when [`TEST_URL_VARIABLE`] is not set.
///
/// # Panics
/// When the case panics, or the server is configured but unreachable.
#[allow(clippy::panic)]
pub async fn run_in_temporary_database<F, Fut>(case: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(database) = TemporaryDatabase::create().await else {
        eprintln!("skipped: {TEST_URL_VARIABLE} not set");
        return;
    };
    // The case runs in its own task so a panic comes back as a value: the database is dropped
    // first, then the panic resumes.
    let outcome = tokio::spawn(case(database.url().to_owned())).await;
    database.drop_database().await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(error) => panic!("test task failed: {error}"),
        }
    }
}

/// `url` with its database path replaced by `database`, keeping any query parameters.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |index| authority_start + index);
    let mut result = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_swapped_in_urls_of_every_shape() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@host/db?sslmode=disable", "x"),
            "postgres://u:p@host/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://host:5432", "x"),
            "postgres://host:5432/x"
        );
    }
}
