//! TLS settings shared by the PostgreSQL and MySQL backends: how far to trust the server
//! ([`SslMode`]) and which certificates to use ([`TlsOptions`]), read from a URL's
//! `sslmode` / `ssl-mode`, `sslrootcert` / `ssl-ca`, `sslcert` / `ssl-cert` and
//! `sslkey` / `ssl-key` options or set on the config.

use std::path::PathBuf;

use orm_core::{Error, Result};

/// How a connection uses TLS, with libpq's names (MySQL's in parentheses).
///
/// ```
/// use orm_runtime::tls::SslMode;
/// assert_eq!(SslMode::default(), SslMode::Disable);
/// assert_eq!(SslMode::parse("verify-full").ok(), Some(SslMode::VerifyFull));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SslMode {
    /// Never (`DISABLED`).
    #[default]
    Disable,
    /// TLS if the server offers it, without checking its certificate; plain otherwise
    /// (`PREFERRED`).
    Prefer,
    /// TLS or no connection, without checking the certificate (`REQUIRED`).
    Require,
    /// TLS, the certificate signed by a trusted root (`VERIFY_CA`).
    VerifyCa,
    /// TLS, the certificate signed by a trusted root and naming the host connected to
    /// (`VERIFY_IDENTITY`).
    VerifyFull,
}

impl SslMode {
    /// Parses libpq's (`verify-full`) or MySQL's (`VERIFY_IDENTITY`) name, any case.
    ///
    /// ```
    /// use orm_runtime::tls::SslMode;
    /// assert_eq!(SslMode::parse("verify-full")?, SslMode::VerifyFull);
    /// assert_eq!(SslMode::parse("VERIFY_IDENTITY")?, SslMode::VerifyFull);
    /// assert!(SslMode::parse("sometimes").is_err());
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "disable" | "disabled" => Ok(SslMode::Disable),
            "prefer" | "preferred" | "allow" => Ok(SslMode::Prefer),
            "require" | "required" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" | "verify-identity" => Ok(SslMode::VerifyFull),
            _ => Err(Error::Config(format!(
                "unknown SSL mode {name:?}: expected disable, prefer, require, verify-ca or \
                 verify-full"
            ))),
        }
    }

    /// Whether the server's certificate is checked against the trusted roots.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// The TLS settings of one database: the mode and the certificate files (PEM).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// How far to trust the server.
    pub mode: SslMode,
    /// Roots to trust instead of the built-in public ones (Mozilla's, from webpki-roots).
    pub root_cert: Option<PathBuf>,
    /// A client certificate chain, for servers that authenticate clients by certificate.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key.
    pub client_key: Option<PathBuf>,
}

/// The URL keys [`TlsOptions::apply`] understands.
pub const URL_KEYS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
];

impl TlsOptions {
    /// Takes one option from a URL (one of [`URL_KEYS`]).
    ///
    /// ```
    /// use orm_runtime::tls::{SslMode, TlsOptions};
    /// let mut tls = TlsOptions::default();
    /// tls.apply("sslmode", "verify-full")?;
    /// tls.apply("sslrootcert", "/etc/ssl/db-ca.pem")?;
    /// assert_eq!(tls.mode, SslMode::VerifyFull);
    /// # Ok::<(), orm_core::Error>(())
    /// ```
    pub fn apply(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "sslmode" | "ssl-mode" => self.mode = SslMode::parse(value)?,
            "sslrootcert" | "ssl-ca" => self.root_cert = Some(value.into()),
            "sslcert" | "ssl-cert" => self.client_cert = Some(value.into()),
            "sslkey" | "ssl-key" => self.client_key = Some(value.into()),
            _ => return Err(Error::Config(format!("not a TLS option: {key}"))),
        }
        Ok(())
    }

    /// Checks that the files come in working sets: a client certificate with its key.
    pub fn check(&self) -> Result<()> {
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(Error::Config(
                "a client certificate needs its key, and a key its certificate \
                 (sslcert and sslkey)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// TLS settings on a database config, shared by the PostgreSQL and MySQL configs (as
/// [`PoolSettings`](crate::PoolSettings) is for pools). As with libpq and the MySQL
/// client the default mode is [`SslMode::Prefer`] (with the backend's `tls` feature):
/// TLS when the server offers it, the certificate unchecked. `VerifyFull` is what a
/// service reaching its database over a network wants. Without the `tls` feature
/// `Prefer` connects in plain text and the stricter modes fail with
/// [`orm_core::Error::Config`] when the database is made.
///
/// ```
/// use orm_runtime::tls::{SslMode, TlsSettings};
/// # #[derive(Default)] struct Config(orm_runtime::tls::TlsOptions);
/// # impl TlsSettings for Config {
/// #     fn tls_options(&self) -> &orm_runtime::tls::TlsOptions { &self.0 }
/// #     fn tls_options_mut(&mut self) -> &mut orm_runtime::tls::TlsOptions { &mut self.0 }
/// # }
/// let config = Config::default()
///     .ssl_mode(SslMode::VerifyFull)
///     .ssl_root_cert("/etc/ssl/db-ca.pem")
///     .ssl_client_cert("/etc/ssl/app.pem", "/etc/ssl/app.key");
/// assert_eq!(config.tls_options().mode, SslMode::VerifyFull);
/// ```
pub trait TlsSettings: Sized {
    /// The settings.
    fn tls_options(&self) -> &TlsOptions;
    /// The settings, to change.
    fn tls_options_mut(&mut self) -> &mut TlsOptions;

    /// How connections use TLS (`sslmode`, `ssl-mode`).
    fn ssl_mode(mut self, mode: SslMode) -> Self {
        self.tls_options_mut().mode = mode;
        self
    }

    /// Trusts the roots in this PEM file instead of the built-in public ones
    /// (`sslrootcert`, `ssl-ca`).
    fn ssl_root_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls_options_mut().root_cert = Some(path.into());
        self
    }

    /// Authenticates with this client certificate chain and key, both PEM (`sslcert` and
    /// `sslkey`, `ssl-cert` and `ssl-key`).
    fn ssl_client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        let tls = self.tls_options_mut();
        tls.client_cert = Some(cert.into());
        tls.client_key = Some(key.into());
        self
    }
}
