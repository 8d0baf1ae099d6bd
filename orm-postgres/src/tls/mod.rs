//! Opening a connection, in plain text or over TLS as the config's [`SslMode`] says.
//!
//! TLS (rustls) is built with the `tls` feature. Without it `prefer` connects in plain
//! text and the stricter modes are a configuration error.

#[cfg(feature = "tls")]
mod rustls;

use orm_core::Result;
use orm_runtime::tls::{SslMode, TlsOptions};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::{CancelToken, Client, NoTls};

use crate::error::map;

/// The TLS side of one database's connections, built once from its [`TlsOptions`]
/// (certificate files are read then, so a missing file fails at once). Opaque: the
/// [`PostgresqlDriver`](crate::PostgresqlDriver)'s shared state.
#[derive(Clone, Debug)]
pub struct Tls {
    mode: SslMode,
    #[cfg(feature = "tls")]
    connect: Option<self::rustls::RustlsConnect>,
}

impl Tls {
    pub(crate) fn new(options: &TlsOptions) -> Result<Self> {
        #[cfg(feature = "tls")]
        {
            let connect = match options.mode {
                SslMode::Disable => None,
                _ => Some(self::rustls::RustlsConnect::new(options)?),
            };
            Ok(Tls {
                mode: options.mode,
                connect,
            })
        }
        #[cfg(not(feature = "tls"))]
        match options.mode {
            SslMode::Disable | SslMode::Prefer => Ok(Tls {
                mode: SslMode::Disable,
            }),
            mode => Err(orm_core::Error::Config(format!(
                "sslmode {mode:?} needs TLS: build orm-postgres with the `tls` feature"
            ))),
        }
    }

    /// tokio-postgres's mode for this one: it negotiates, the connector verifies.
    fn driver_mode(&self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Driver;
        match self.mode {
            SslMode::Disable => Driver::Disable,
            SslMode::Prefer => Driver::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Driver::Require,
        }
    }

    /// Opens a connection with `pg` (its `ssl_mode` set from this) and runs its I/O task
    /// on the current tokio runtime.
    pub(crate) async fn connect(&self, mut pg: tokio_postgres::Config) -> Result<Client> {
        pg.ssl_mode(self.driver_mode());
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.connect {
            let (client, connection) = pg.connect(tls.clone()).await.map_err(map)?;
            spawn(connection);
            return Ok(client);
        }
        let (client, connection) = pg.connect(NoTls).await.map_err(map)?;
        spawn(connection);
        Ok(client)
    }

    /// Sends the cancel request of `token` on `stream` (to `host`), over TLS if the
    /// connection used it.
    pub(crate) async fn cancel<S>(&self, token: &CancelToken, host: &str, stream: S) -> Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.connect {
            let connector = tls.for_host(host)?;
            return token.cancel_query_raw(stream, connector).await.map_err(map);
        }
        let _ = host;
        token.cancel_query_raw(stream, NoTls).await.map_err(map)
    }
}

impl Tls {
    /// The driver's own cancel request: it connects to the host the connection reached.
    pub(crate) async fn cancel_direct(&self, token: &CancelToken) -> Result<()> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.connect {
            return token.cancel_query(tls.clone()).await.map_err(map);
        }
        token.cancel_query(NoTls).await.map_err(map)
    }
}

fn spawn<F>(connection: F)
where
    F: std::future::Future<Output = std::result::Result<(), tokio_postgres::Error>>
        + Send
        + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "PostgreSQL connection ended");
        }
    });
}
