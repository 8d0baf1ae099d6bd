//! TLS for mysql_async (its rustls support, with the `tls` feature): the driver's
//! [`SslOpts`](mysql_async::SslOpts) for each [`SslMode`], and `prefer`, which
//! mysql_async does not have: TLS is tried, and a server that offers none is remembered
//! and then reached in plain text.

use std::sync::atomic::{AtomicBool, Ordering};

use mysql_async::SslOpts;
use orm_core::Result;
use orm_runtime::tls::{SslMode, TlsOptions};

/// The TLS side of one database's connections. Opaque: the
/// [`MySQLDriver`](crate::MySQLDriver)'s shared state.
#[derive(Debug)]
pub struct Tls {
    mode: SslMode,
    ssl: Option<SslOpts>,
    /// `prefer` found a server without TLS: later connections go plain at once.
    server_has_none: AtomicBool,
}

impl Tls {
    pub(crate) fn new(options: &TlsOptions) -> Result<Self> {
        options.check()?;
        Ok(Tls {
            mode: options.mode,
            ssl: ssl_opts(options)?,
            server_has_none: AtomicBool::new(false),
        })
    }

    /// The driver's TLS options for the next connection attempt.
    pub(crate) fn attempt(&self) -> Option<SslOpts> {
        if self.mode == SslMode::Prefer && self.server_has_none.load(Ordering::Relaxed) {
            return None;
        }
        self.ssl.clone()
    }

    /// Whether a connection refused for want of TLS on the server may go plain: only in
    /// `prefer`, which then remembers it.
    pub(crate) fn fall_back(&self, err: &mysql_async::Error) -> bool {
        let no_tls = matches!(
            err,
            mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer)
        );
        if no_tls && self.mode == SslMode::Prefer {
            self.server_has_none.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }
}

#[cfg(feature = "tls")]
fn ssl_opts(options: &TlsOptions) -> Result<Option<SslOpts>> {
    use mysql_async::ClientIdentity;
    let mut ssl = match options.mode {
        SslMode::Disable => return Ok(None),
        SslMode::Prefer | SslMode::Require => SslOpts::default()
            .with_danger_accept_invalid_certs(true)
            .with_danger_skip_domain_validation(true),
        // mysql_async 0.37.1 cannot check the chain without the name: its verifier looks
        // for a name mismatch by the error's text, which rustls 0.23 words differently
        // (blackbeam/mysql_async#404, fixed by #408, not yet released).
        SslMode::VerifyCa => {
            return Err(orm_core::Error::Config(
                "ssl-mode VERIFY_CA is not available on MySQL yet (mysql_async 0.37 checks \
                 the host name regardless); use VERIFY_IDENTITY, or REQUIRED"
                    .into(),
            ))
        }
        SslMode::VerifyFull => SslOpts::default(),
    };
    if let Some(root) = &options.root_cert {
        ssl = ssl
            .with_root_certs(vec![root.clone().into()])
            .with_disable_built_in_roots(true);
    }
    if let (Some(cert), Some(key)) = (&options.client_cert, &options.client_key) {
        ssl = ssl.with_client_identity(Some(ClientIdentity::new(
            cert.clone().into(),
            key.clone().into(),
        )));
    }
    Ok(Some(ssl))
}

#[cfg(not(feature = "tls"))]
fn ssl_opts(options: &TlsOptions) -> Result<Option<SslOpts>> {
    match options.mode {
        SslMode::Disable | SslMode::Prefer => Ok(None),
        mode => Err(orm_core::Error::Config(format!(
            "ssl-mode {mode:?} needs TLS: build orm-mysql with the `tls` feature"
        ))),
    }
}
