//! A 3-node MariaDB Galera cluster of the tests' own (see `orm_tests::galera`) behind
//! `ClusterDatabase`, which spreads statements and transactions over the nodes:
//! concurrent increments on one row, from every node, end exact (certification
//! conflicts come back as deadlocks, which the retry scope runs again), and generated
//! keys are right under the cluster's `auto_increment_increment` / `_offset`.

use std::collections::BTreeSet;

use orm_core::{raw_query, Error, ExprExt, FetchQuery, Model};
use orm_manager::{Manager, RetryPolicy};
use orm_tests::galera::cluster;
use orm_tests::models::PageBlock;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_increments_from_every_node_end_exact() {
    let db = cluster("galera_increments", 4);
    let objects = Manager::new(db.clone());
    objects
        .execute_raw(
            "CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL)",
            vec![],
        )
        .await
        .expect("create");
    objects
        .execute_raw("INSERT INTO counter VALUES (1, 0)", vec![])
        .await
        .expect("seed");
    const N: i64 = 60;
    let policy = RetryPolicy::new(100);
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let tasks = (0..N).map(|_| {
        let (objects, policy, runs) = (objects.clone(), policy.clone(), runs.clone());
        tokio::spawn(async move {
            objects
                .atomic_with_retry(&policy, |tx| {
                    runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    async move {
                        let node: Vec<String> = tx
                            .execute(raw_query("SELECT @@wsrep_node_name", vec![]))
                            .await?;
                        let n: Vec<i64> = tx
                            .execute(raw_query(
                                "SELECT n FROM counter WHERE id = 1 FOR UPDATE",
                                vec![],
                            ))
                            .await?;
                        tx.execute_raw(
                            "UPDATE counter SET n = ? WHERE id = 1",
                            vec![(n[0] + 1).into()],
                        )
                        .await?;
                        Ok::<_, Error>(node.concat())
                    }
                })
                .await
        })
    });
    let mut served = BTreeSet::new();
    for task in futures_util::future::join_all(tasks).await {
        served.insert(
            task.expect("task")
                .expect("the increment lands, retried if need be"),
        );
    }
    let n: Vec<i64> = objects
        .execute(raw_query("SELECT n FROM counter WHERE id = 1", vec![]))
        .await
        .expect("read");
    assert_eq!(n, [N], "every increment counted once");
    assert_eq!(
        served.len(),
        3,
        "transactions ran on every node: {served:?}"
    );
    let runs = runs.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("{N} increments took {runs} runs of the body");
    assert!(
        runs > N,
        "conflicts between nodes happened and were run again: {runs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_keys_are_right_on_every_node() {
    let db = cluster("galera_keys", 2);
    let objects = Manager::new(db.clone());
    PageBlock::create_table_async(&db, true)
        .await
        .expect("create");
    let mut keys = Vec::new();
    for i in 0..12 {
        let made = objects
            .create(PageBlock::new(format!("k{i}"), "text"))
            .await
            .expect("insert");
        keys.push((made.id, made.key));
    }
    for (id, key) in &keys {
        let stored: PageBlock = objects
            .get(PageBlock::ID.eq(*id))
            .await
            .expect("the key given back is the row's");
        assert_eq!(&stored.key, key);
    }
    // Each node hands out keys of its own residue (auto_increment_offset).
    let residues: BTreeSet<i64> = keys.iter().map(|(id, _)| id % 3).collect();
    assert_eq!(residues.len(), 3, "inserts went to every node: {keys:?}");
    let count: i64 = raw_query("SELECT count(*) FROM page_block", vec![])
        .fetch_one(&db)
        .await
        .expect("count");
    assert_eq!(count, 12);
}

/// A row stamped by a trigger with the node that inserted it (row-based replication
/// copies the stamp; the other nodes do not run the trigger).
#[derive(orm_derive::Model, Debug, Clone, PartialEq)]
struct Stamped {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(unique, max_length = 40)]
    name: String,
    #[orm(max_length = 40)]
    node: Option<String>,
}

/// Inside a transaction, `get_or_create` creates a missing row on the autonomous side of
/// the transaction's own node, so the transaction sees it at once (Galera's causal reads
/// do not wait inside a transaction; on another node the row may not have arrived).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_or_create_in_a_transaction_creates_on_its_node() {
    let db = cluster("galera_own_node", 4);
    let objects = Manager::new(db.clone());
    Stamped::create_table_async(&db, false)
        .await
        .expect("table");
    objects
        .execute_raw(
            "CREATE TRIGGER stamp BEFORE INSERT ON stamped FOR EACH ROW \
             SET NEW.node = @@wsrep_node_name",
            vec![],
        )
        .await
        .expect("trigger");
    for i in 0..12 {
        let (tx_node, stamped) = objects
            .atomic(|tx| async move {
                let node: String = raw_query("SELECT @@wsrep_node_name", vec![])
                    .fetch_one(&tx)
                    .await?;
                let name = format!("row{i}");
                let (row, created) = tx
                    .get_or_create(
                        Stamped::NAME.eq(name.as_str()),
                        Stamped {
                            id: 0,
                            name: name.clone(),
                            node: None,
                        },
                    )
                    .await?;
                assert!(created);
                // The transaction sees the row on its node at once, under a lock.
                let locked: Vec<i64> = raw_query(
                    "SELECT id FROM stamped WHERE id = ? FOR UPDATE",
                    vec![row.id.into()],
                )
                .fetch_all(&tx)
                .await?;
                assert_eq!(locked, [row.id]);
                Ok::<_, Error>((node, row.id))
            })
            .await
            .expect("transaction");
        let row: Stamped = objects.get(Stamped::ID.eq(stamped)).await.expect("row");
        assert_eq!(row.node.as_deref(), Some(tx_node.as_str()), "row {i}");
    }
}
