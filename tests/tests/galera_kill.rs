//! A Galera node killed mid-load (a cluster of this test process's own, see
//! `orm_tests::galera`): writes spread over the three nodes go on over the other two, and
//! nothing is lost or written twice. Each write is made idempotent by its key, as a
//! service would for the one case no retry can settle: a COMMIT whose outcome is unknown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use orm_core::{raw_query, Error, FetchQuery};
use orm_manager::{Manager, RetryPolicy};
use orm_tests::galera::{cluster, kill};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_load_loses_nothing() {
    let db = cluster("galera_kill", 3);
    let objects = Manager::new(db.clone());
    objects
        .execute_raw("CREATE TABLE landed (id INT PRIMARY KEY)", vec![])
        .await
        .expect("create");
    const N: usize = 120;
    let policy = RetryPolicy::new(50);
    let done = Arc::new(AtomicUsize::new(0));
    let unknown = Arc::new(AtomicUsize::new(0));
    let tasks = (0..N).map(|id| {
        let (objects, policy) = (objects.clone(), policy.clone());
        let (done, unknown) = (done.clone(), unknown.clone());
        tokio::spawn(async move {
            // Staggered, so that the kill comes while writes are going on.
            tokio::time::sleep(Duration::from_millis(10 * id as u64)).await;
            loop {
                let outcome = objects
                    .atomic_with_retry(&policy, |tx| async move {
                        let there: Vec<i64> = tx
                            .execute(raw_query(
                                "SELECT count(*) FROM landed WHERE id = ?",
                                vec![(id as i64).into()],
                            ))
                            .await?;
                        if there == [0] {
                            tx.execute_raw(
                                "INSERT INTO landed VALUES (?)",
                                vec![(id as i64).into()],
                            )
                            .await?;
                        }
                        Ok::<_, Error>(())
                    })
                    .await;
                match outcome {
                    Ok(()) => break,
                    // The COMMIT was sent and its answer lost: run again, the key tells.
                    Err(Error::CommitOutcomeUnknown { .. }) => {
                        unknown.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => panic!("write {id}: {e:?}"),
                }
            }
            done.fetch_add(1, Ordering::Relaxed);
        })
    });
    let tasks: Vec<_> = tasks.collect();
    // Kill node 3 once a third of the writes have landed.
    while done.load(Ordering::Relaxed) < N / 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill(2);
    for task in futures_util::future::join_all(tasks).await {
        task.expect("task");
    }
    let rows: Vec<i64> = raw_query("SELECT id FROM landed ORDER BY id", vec![])
        .fetch_all(&db)
        .await
        .expect("read");
    assert_eq!(rows, (0..N as i64).collect::<Vec<_>>(), "every write once");
    eprintln!(
        "{N} writes over a node kill; {} commits of unknown outcome settled by their key",
        unknown.load(Ordering::Relaxed)
    );
}
