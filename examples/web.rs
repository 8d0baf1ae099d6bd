//! The seed's Tornado example, rebuilt on axum.
//!
//! - `POST /` with `name=...` creates an object;
//! - `GET /?id=1` reads one (404 when missing, a clear message without `id`);
//! - `GET /create?id=7` runs `get_or_create` inside `atomic`.
//!
//! `cargo run --example web -- serve` serves on 127.0.0.1:8888 (`PORT` to change it).
//! Without `serve`, it starts on a free port and checks itself over real HTTP with
//! concurrent requests, which is how the test suite runs it.

mod common;

use std::net::SocketAddr;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use orm_manager::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Model, Debug, Clone)]
struct TestNameModel {
    #[orm(primary_key, auto)]
    id: i64,
    #[orm(max_length = 200)]
    name: String,
}

fn json(obj: &TestNameModel) -> String {
    let mut name = String::new();
    for ch in obj.name.chars() {
        match ch {
            '"' => name.push_str("\\\""),
            '\\' => name.push_str("\\\\"),
            c if (c as u32) < 0x20 => name.push_str(&format!("\\u{:04x}", c as u32)),
            c => name.push(c),
        }
    }
    format!(r#"{{"id": {}, "name": "{}"}}"#, obj.id, name)
}

/// The value of `key` in a URL-encoded form or query string.
fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| url_decode(v))
    })
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, message.to_owned()).into_response()
}

fn failure(e: Error) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

/// The `id` query argument, or the message explaining what is missing.
fn id_argument(query: Option<String>) -> Result<i64, &'static str> {
    let id = query.as_deref().and_then(|q| form_value(q, "id"));
    let id = id.ok_or("Please provide the 'id' query argument, i.e. ?id=1")?;
    id.parse().map_err(|_| "'id' must be an integer")
}

/// GET /?id=N
async fn read<D: Database>(
    State(objects): State<Manager<D>>,
    RawQuery(query): RawQuery,
) -> Response {
    let id = match id_argument(query) {
        Ok(id) => id,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    match objects
        .get::<TestNameModel, _>(TestNameModel::ID.eq(id))
        .await
    {
        Ok(obj) => json(&obj).into_response(),
        Err(Error::DoesNotExist { .. }) => error(StatusCode::NOT_FOUND, "Object not found!"),
        Err(e) => failure(e),
    }
}

/// POST / with `name=...`
async fn create<D: Database>(State(objects): State<Manager<D>>, body: String) -> Response {
    let Some(name) = form_value(&body, "name") else {
        return error(
            StatusCode::BAD_REQUEST,
            "Please provide the 'name' argument",
        );
    };
    match objects.create(TestNameModel::new(name)).await {
        Ok(obj) => json(&obj).into_response(),
        Err(e) => failure(e),
    }
}

/// GET /create?id=N: get_or_create inside a transaction, which runs in this request's task.
async fn get_or_create<D: Database>(
    State(objects): State<Manager<D>>,
    RawQuery(query): RawQuery,
) -> Response {
    let id = match id_argument(query) {
        Ok(id) => id,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let result = objects
        .atomic(|tx| async move {
            let defaults = TestNameModel {
                id,
                name: format!("TestNameModel id={id}"),
            };
            tx.get_or_create(TestNameModel::ID.eq(id), defaults).await
        })
        .await;
    match result {
        Ok((obj, created)) => {
            format!(r#"{{"obj": {}, "created": {created}}}"#, json(&obj)).into_response()
        }
        Err(e) => failure(e),
    }
}

fn app<D: Database>(objects: Manager<D>) -> Router {
    Router::new()
        .route("/", get(read::<D>).post(create::<D>))
        .route("/create", get(get_or_create::<D>))
        .with_state(objects)
}

/// One HTTP/1.1 request over a fresh connection: (status, body).
async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Drives the running app over real HTTP, with concurrent requests.
async fn check(addr: SocketAddr) -> std::io::Result<()> {
    let (status, body) = request(addr, "GET", "/?id=1", "").await?;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"id": 1, "name": "TestNameModel id=1"}"#)
    );
    let (status, body) = request(addr, "GET", "/", "").await?;
    assert_eq!(status, 400);
    assert!(
        body.contains("Please provide the 'id' query argument"),
        "{body}"
    );
    assert_eq!(request(addr, "GET", "/?id=999", "").await?.0, 404);
    let (status, body) = request(addr, "POST", "/", "name=Hello+%22World%22").await?;
    assert_eq!(status, 200);
    assert!(body.ends_with(r#""name": "Hello \"World\""}"#), "{body}");

    // 20 concurrent creates and reads.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            tokio::spawn(async move {
                match i % 2 {
                    0 => request(addr, "POST", "/", &format!("name=user{i}")).await,
                    _ => request(addr, "GET", "/?id=2", "").await,
                }
            })
        })
        .collect();
    for task in tasks {
        let (status, body) = task.await.expect("request task")?;
        assert_eq!(status, 200, "{body}");
    }
    // Then 30 concurrent get_or_create calls racing on three new ids. (Explicit ids come
    // after the auto-numbered creates: a database numbers new rows past the largest id.)
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            tokio::spawn(async move {
                request(addr, "GET", &format!("/create?id={}", 1000 + i % 3), "").await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.expect("request task")?;
        assert_eq!(status, 200, "{body}");
        created += usize::from(body.ends_with(r#""created": true}"#));
    }
    assert_eq!(
        created, 3,
        "each of ids 1000..1003 was created exactly once"
    );
    println!("web example: all requests answered as expected");
    Ok(())
}

struct Web {
    serve: bool,
}

impl common::Example for Web {
    fn run<D: Database>(self, database: D) -> Result<(), Error> {
        // Create the table and a few rows, sync, before the service starts.
        TestNameModel::drop_table(&database, true)?;
        TestNameModel::create_table(&database, true)?;
        for id in 1..=3 {
            TestNameModel::new(format!("TestNameModel id={id}"))
                .insert()
                .execute_sync(&database)?;
        }
        database.close_sync();
        let objects = Manager::new(database.clone());
        database.set_allow_sync(SyncPolicy::Deny);

        let outcome = common::runtime().block_on(async {
            let port = if self.serve {
                std::env::var("PORT")
                    .ok()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(8888)
            } else {
                0
            };
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            let addr = listener.local_addr()?;
            let server = axum::serve(listener, app(objects.clone()));
            if self.serve {
                println!("serving on http://{addr}");
                return server.await;
            }
            let server = tokio::spawn(async move { server.await });
            let result = check(addr).await;
            server.abort();
            result
        });
        let _sync = objects.allow_sync();
        TestNameModel::drop_table(&database, true)?;
        outcome.map_err(|e| Error::Driver(Box::new(e)))
    }
}

fn main() -> Result<(), Error> {
    let serve = std::env::args().any(|a| a == "serve");
    common::run("web", Web { serve })
}
