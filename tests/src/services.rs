//! Servers of the tests' own (a PgBouncer, a TLS-enabled PostgreSQL cluster, a private
//! MariaDB), installed from the distribution when missing, started on free loopback
//! ports, and stopped when the test process that started them ends.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `script` with `sh -c`, panicking with its output if it fails.
pub fn sh(script: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sh: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`{script}` failed ({}):\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Whether the tests run as root (then servers that refuse root run as `postgres`).
pub fn is_root() -> bool {
    sh("id -u").trim() == "0"
}

/// `command` as the `postgres` user when running as root.
pub fn as_postgres(command: &str) -> String {
    if is_root() {
        format!("runuser -u postgres -- {command}")
    } else {
        command.to_owned()
    }
}

/// Installs `package` with apt-get when `binary` is not on the machine. Serialized across
/// test processes by a lock file.
pub fn install(binary: &str, package: &str) {
    let present = |b: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {b} || test -x {b}"))
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if present(binary) {
        return;
    }
    sh(&format!(
        "flock /tmp/orm-tests-apt.lock sh -c 'command -v {binary} || test -x {binary} || \
         (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {package})'"
    ));
    assert!(
        present(binary),
        "{package} installed but {binary} is missing"
    );
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, what: &str, log: &Path) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > Duration::from_secs(30) {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} did not start on port {port}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `start` (a shell command that stays in the foreground) in the background, and
/// `stop` once this test process has ended, whatever way it ends.
pub fn run_until_exit(start: &str, stop: &str, log: &Path) {
    let parent = std::process::id();
    let watcher = format!(
        "({start}) >>{log} 2>&1 & server=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 0.5; done; \
         kill $server 2>/dev/null; wait $server; {stop}",
        log = log.display()
    );
    // `setsid -f` forks the watcher into a session of its own and returns at once.
    let started = Command::new("setsid")
        .arg("-f")
        .arg("sh")
        .arg("-c")
        .arg(watcher)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("start a server");
    assert!(started.success(), "setsid failed: {started}");
}

/// A fresh directory for one server of this process, readable by the `postgres` user.
pub fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orm-tests-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a work directory");
    if is_root() {
        sh(&format!("chown postgres {}", dir.display()));
    }
    dir
}

/// A private MariaDB of this test process: `mariadb-install-db` in `dir/data`, then
/// `mariadbd` on a free port with `options` added, stopped (and `dir` deleted) when the
/// process ends. Returns its port and socket; root connects over the socket.
pub fn start_mariadb(dir: &Path, name: &str, options: &str) -> (u16, PathBuf) {
    let d = dir.display();
    let data = dir.join("data");
    let log = dir.join(format!("{name}.log"));
    let socket = dir.join(format!("{name}.sock"));
    let user = if is_root() {
        sh(&format!("chown -R mysql {d}"));
        "--user=mysql"
    } else {
        ""
    };
    // TMPDIR too: mariadb-install-db runs a bootstrap server, which would clean /tmp.
    sh(&format!(
        "TMPDIR={d} mariadb-install-db --no-defaults {user} --datadir={data} \
         --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1",
        data = data.display()
    ));
    let port = free_port();
    let start = format!(
        "mariadbd --no-defaults {user} --datadir={data} --port={port} \
         --bind-address=127.0.0.1 --socket={socket} --pid-file={d}/{name}.pid --tmpdir={d} \
         --innodb-buffer-pool-size=16M --innodb-log-file-size=8M {options}",
        data = data.display(),
        socket = socket.display(),
    );
    // Its own tmpdir: a server removes the temporary files of its tmpdir as it starts,
    // which in /tmp are the shared server's (seen: "Error on delete of
    // '/tmp/#sql-temptable-...'" on the shared server while the tests started theirs).
    run_until_exit(&start, &format!("rm -rf {d}"), &log);
    wait_for_port(port, name, &log);
    (port, socket)
}

/// Runs `sql` as root on the MariaDB listening on `socket`.
pub fn mariadb_root(socket: &Path, sql: &str) -> String {
    sh(&format!(
        "mariadb --no-defaults -uroot --socket={} -N -e \"{sql}\"",
        socket.display()
    ))
}
