//! Cancellation by construction: a future dropped after exactly N polls.
//!
//! A timeout fires wherever the machine's speed puts it; `cut_after(n, fut)` drops `fut`
//! right after its `n`-th poll returned `Pending`, so a test that runs `n = 1, 2, ...`
//! until the future completes has cut it at every await point it has, on every run.

use std::future::Future;
use std::task::Poll;

/// Polls `fut` at most `polls` times: `Some(output)` if it finished, `None` if it was
/// dropped unfinished after its `polls`-th poll.
pub async fn cut_after<F: Future>(polls: usize, fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut left = polls;
    std::future::poll_fn(move |cx| match fut.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => {
            left = left.saturating_sub(1);
            if left == 0 {
                Poll::Ready(None)
            } else {
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::cut_after;

    #[tokio::test]
    async fn drops_after_exactly_n_polls() {
        let three_yields = async {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            7
        };
        assert_eq!(cut_after(3, three_yields).await, None);
        let three_yields = async {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            7
        };
        assert_eq!(cut_after(4, three_yields).await, Some(7));
    }
}
