//! Servers that speak TLS, of the tests' own: a certificate authority and certificates
//! made with the machine's `openssl`, and a private PostgreSQL cluster (`initdb` in a
//! temporary directory, on a free port) serving them. Started on first use by this test
//! process, stopped and deleted when it ends; the shared servers are not touched.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::services::{as_postgres, run_until_exit, sh, wait_for_port, work_dir};

/// The files of the test PKI (PEM).
#[derive(Debug)]
pub struct Certs {
    /// The CA that signed the server and client certificates.
    pub ca: PathBuf,
    /// Another CA, which signed nothing here.
    pub other_ca: PathBuf,
    /// The server certificate: `CN=localhost`, DNS name `localhost` only (so
    /// `127.0.0.1` is the wrong host name for it).
    pub server_cert: PathBuf,
    /// Its key.
    pub server_key: PathBuf,
    /// A client certificate for user `certuser`.
    pub client_cert: PathBuf,
    /// Its key.
    pub client_key: PathBuf,
}

/// Makes the certificates, once per test process.
pub fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(|| {
        let dir = work_dir("certs");
        let d = dir.display();
        sh(&format!(
            "cd {d} && \
             openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=ORM Test CA' \
               -keyout ca.key -out ca.pem 2>/dev/null && \
             openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=Other CA' \
               -keyout other_ca.key -out other_ca.pem 2>/dev/null && \
             openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' \
               -keyout server.key -out server.csr 2>/dev/null && \
             printf 'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > server.ext && \
             openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
               -days 2 -extfile server.ext -out server.pem 2>/dev/null && \
             openssl req -newkey rsa:2048 -nodes -subj '/CN=certuser' \
               -keyout client.key -out client.csr 2>/dev/null && \
             printf 'basicConstraints=CA:FALSE\\n' > client.ext && \
             openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
               -days 2 -extfile client.ext -out client.pem 2>/dev/null && \
             chmod 600 server.key client.key"
        ));
        if crate::services::is_root() {
            sh(&format!("chown -R postgres {d}"));
        }
        // Deleted with the process.
        run_until_exit(
            "sleep infinity",
            &format!("rm -rf {d}"),
            &std::env::temp_dir().join("orm-tests-certs.log"),
        );
        Certs {
            ca: dir.join("ca.pem"),
            other_ca: dir.join("other_ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        }
    })
}

/// The PostgreSQL binaries of the installed major version.
fn pg_bin(name: &str) -> String {
    let dir = sh("ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1");
    format!("{}/{name}", dir.trim())
}

/// The port of a private PostgreSQL cluster with TLS on. Its `pg_hba.conf`: user
/// `certuser` must present a client certificate the CA signed; everyone else is
/// trusted, over TLS or not.
pub fn postgres_port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        let certs = certs();
        let dir = work_dir("pg-tls");
        let data = dir.join("data");
        let log = dir.join("postgres.log");
        sh(&as_postgres(&format!(
            "{} -D {} -A trust -U postgres --no-sync >/dev/null",
            pg_bin("initdb"),
            data.display()
        )));
        let hba = dir.join("pg_hba.conf");
        std::fs::write(
            &hba,
            "hostssl all certuser 127.0.0.1/32 cert\n\
             hostssl all all 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 trust\n\
             local all all trust\n",
        )
        .expect("pg_hba.conf");
        let port = crate::services::free_port();
        let start = as_postgres(&format!(
            "{postgres} -D {data} -p {port} -k {dir} -c listen_addresses=127.0.0.1 \
             -c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key} -c ssl_ca_file={ca} \
             -c hba_file={hba} -c fsync=off -c max_connections=50",
            postgres = pg_bin("postgres"),
            data = data.display(),
            dir = dir.display(),
            cert = certs.server_cert.display(),
            key = certs.server_key.display(),
            ca = certs.ca.display(),
            hba = hba.display(),
        ));
        run_until_exit(&start, &format!("rm -rf {}", dir.display()), &log);
        wait_for_port(port, "the TLS PostgreSQL cluster", &log);
        // Accepting connections may come a moment after the port opens.
        sh(&format!(
            "for i in $(seq 1 100); do pg_isready -q -h 127.0.0.1 -p {port} && exit 0; sleep 0.1; done; exit 1"
        ));
        sh(&format!(
            "psql -h 127.0.0.1 -p {port} -U postgres -qc 'CREATE ROLE certuser LOGIN'"
        ));
        port
    })
}

/// The port of a private MariaDB with TLS on (`mariadb-install-db` in a temporary
/// directory, on a free port). Users: `orm` (any client, password-less) and `certuser`
/// (`REQUIRE X509`: a client certificate the CA signed).
pub fn mariadb_port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        let certs = certs();
        let dir = work_dir("mariadb-tls");
        let d = dir.display();
        // The server's own copies of its key and certificates, readable by its user.
        sh(&format!(
            "cp {cert} {ca} {d}/ && cp {key} {d}/server.key && chmod 600 {d}/server.key",
            cert = certs.server_cert.display(),
            ca = certs.ca.display(),
            key = certs.server_key.display(),
        ));
        let (port, socket) = crate::services::start_mariadb(
            &dir,
            "mariadb-tls",
            &format!(
                "--ssl-ca={d}/ca.pem --ssl-cert={d}/server.pem --ssl-key={d}/server.key \
                 --skip-log-bin"
            ),
        );
        crate::services::mariadb_root(
            &socket,
            "CREATE USER 'orm'@'%'; GRANT ALL ON *.* TO 'orm'@'%'; \
             CREATE USER 'certuser'@'%' REQUIRE X509; GRANT ALL ON *.* TO 'certuser'@'%';",
        );
        port
    })
}
