//! A 3-node MariaDB Galera cluster of the tests' own (the machine's `galera-4`), on
//! loopback ports: node 1 bootstraps the cluster, nodes 2 and 3 join it (state transfer
//! by rsync). Started on first use by this test process, stopped and deleted when it
//! ends. User `orm` (no password) may do anything.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use orm_mysql::{MySQLConfig, PooledMySQLDatabase};
use orm_runtime::{ClusterDatabase, PoolSettings};

use crate::services::{free_port, mariadb_root, sh, start_mariadb, work_dir};

/// One node.
#[derive(Debug)]
pub struct Node {
    /// Its SQL port.
    pub port: u16,
    /// Its socket, for root.
    pub socket: PathBuf,
    /// Its pid file (to kill it).
    pub pid_file: PathBuf,
}

/// The three nodes, once per test process.
pub fn nodes() -> &'static [Node] {
    static NODES: OnceLock<Vec<Node>> = OnceLock::new();
    NODES.get_or_init(|| {
        sh("test -e /usr/lib/galera/libgalera_smm.so || \
            (flock /tmp/orm-tests-apt.lock sh -c 'apt-get update -qq && \
             DEBIAN_FRONTEND=noninteractive apt-get install -y -qq galera-4 rsync')");
        let gcomm: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let members = gcomm
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut nodes = Vec::new();
        for (i, port) in gcomm.iter().enumerate() {
            let name = format!("galera{}", i + 1);
            let dir = work_dir(&name);
            let address = if i == 0 { String::new() } else { members.clone() };
            let options = format!(
                "--wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so \
                 --wsrep-cluster-name=orm_tests --wsrep-cluster-address=gcomm://{address} \
                 --wsrep-node-name={name} --wsrep-node-address=127.0.0.1:{port} \
                 --wsrep-provider-options='gmcast.listen_addr=tcp://127.0.0.1:{port};ist.recv_addr=127.0.0.1:{ist}' \
                 --wsrep-sst-method=rsync --wsrep-sst-receive-address=127.0.0.1:{sst} \
                 --binlog-format=ROW --innodb-autoinc-lock-mode=2 --skip-log-bin",
                ist = free_port(),
                sst = free_port(),
            );
            let (sql_port, socket) = start_mariadb(&dir, &name, &options);
            wait_ready(&socket, Duration::from_secs(60));
            nodes.push(Node {
                port: sql_port,
                socket,
                pid_file: dir.join(format!("{name}.pid")),
            });
        }
        let size = mariadb_root(&nodes[0].socket, "SHOW STATUS LIKE 'wsrep_cluster_size'");
        assert!(size.trim().ends_with('3'), "the cluster did not form: {size}");
        mariadb_root(
            &nodes[0].socket,
            "CREATE USER 'orm'@'%'; GRANT ALL ON *.* TO 'orm'@'%';",
        );
        nodes
    })
}

/// Waits until the node on `socket` is synced with the cluster.
fn wait_ready(socket: &std::path::Path, limit: Duration) {
    sh(&format!(
        "for i in $(seq 1 {tries}); do \
           mariadb --no-defaults -uroot --socket={socket} -N \
             -e \"SHOW STATUS LIKE 'wsrep_ready'\" 2>/dev/null | grep -q ON && exit 0; \
           sleep 0.25; done; exit 1",
        tries = limit.as_millis() / 250,
        socket = socket.display()
    ));
}

/// A fresh database `name` (letters, digits, `_`) on the cluster, and a cluster database over all three nodes
/// (a pool of `size` on each), whose statements see what any node committed before them
/// (`wsrep_sync_wait = 7`: reads, updates and deletes, inserts).
pub fn cluster(name: &str, size: usize) -> ClusterDatabase<PooledMySQLDatabase> {
    let nodes = nodes();
    mariadb_root(
        &nodes[0].socket,
        &format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"),
    );
    let pools = nodes
        .iter()
        .map(|node| {
            let config = MySQLConfig::new(name)
                .host("127.0.0.1")
                .port(node.port)
                .user("orm")
                .session_setup("SET SESSION wsrep_sync_wait = 7")
                .connect_timeout(Duration::from_secs(2))
                .max_connections(size);
            PooledMySQLDatabase::new(config).expect("pool")
        })
        .collect();
    ClusterDatabase::with_retry_after(pools, Duration::from_secs(2)).expect("cluster")
}

/// Kills node `i` (0, 1 or 2) at once, as a crash would.
pub fn kill(i: usize) {
    sh(&format!("kill -9 $(cat {})", nodes()[i].pid_file.display()));
}

/// The cluster of [`cluster`] for one test of a suite, in a fresh database of its own.
pub fn suite_cluster(name: &str) -> ClusterDatabase<PooledMySQLDatabase> {
    cluster(&format!("t_galera_{name}"), 2)
}
