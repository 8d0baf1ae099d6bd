//! Cancel requests that wait for the server's answer.
//!
//! A cancel request is sent on a connection of its own, which the server closes once it
//! has acted on it. tokio-postgres closes its side as soon as the request is written;
//! PgBouncer 1.18 (Debian 12's) then crashes when that early close races its forwarding
//! of the request ("bad client state"). Like libpq, the ORM waits for the server to
//! close the connection first, for at most [`CANCEL_WAIT`].

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_postgres::CancelToken;

use crate::tls::Tls;

/// How long a cancel request may take, connection included.
const CANCEL_WAIT: Duration = Duration::from_secs(5);

/// Where a connection's cancel requests go: its server's host and port.
#[derive(Clone, Debug)]
pub(crate) struct CancelTarget {
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// Asks the server to cancel what runs on the connection of `token`; failures are only
/// logged (the statement then runs to its end). Without a TCP target (a Unix socket,
/// fallback hosts) the request goes the driver's way, over TLS if the connection was.
pub(crate) async fn cancel(token: CancelToken, target: Option<CancelTarget>, tls: &Tls) {
    let request = async {
        let Some(target) = target else {
            return tls.cancel_direct(&token).await.map_err(|e| e.to_string());
        };
        let stream = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| e.to_string())?;
        tls.cancel(&token, &target.host, WaitForClose(stream))
            .await
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(CANCEL_WAIT, request).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(error = %e, "cancel request failed"),
        Err(_) => tracing::debug!("cancel request unanswered after {CANCEL_WAIT:?}"),
    }
}

/// A stream whose shutdown returns once the peer has closed the connection.
struct WaitForClose(TcpStream);

impl AsyncRead for WaitForClose {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for WaitForClose {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    /// Waits for the peer to close, without half-closing first: PgBouncer 1.18 takes a
    /// half-close for a client gone and crashes all the same.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The server sends nothing back; it closes the connection when it is done.
        let mut scratch = [0u8; 64];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            ready!(Pin::new(&mut self.0).poll_read(cx, &mut buf))?;
            if buf.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
        }
    }
}
