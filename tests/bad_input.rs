//! Bad input gets a Postgres error with a fitting SQLSTATE (or, for garbage bytes, a closed
//! connection), and the server keeps serving everyone else.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Server, sqlstate, temp_data_dir};
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_postgres::types::Type;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_postgres_sqlstates() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE t (id INT NOT NULL, name TEXT)")
        .await
        .unwrap();
    let cases = [
        ("SELEC 1", "42601"),
        ("SELECT * FROM no_such_table", "42P01"),
        ("SELECT no_such_column FROM t", "42703"),
        ("SELECT no_such_function(1)", "42883"),
        ("SELECT CAST('abc' AS INT)", "22P02"),
        ("SELECT 1 / 0", "22012"),
        ("INSERT INTO t VALUES (NULL, 'x')", "23502"),
        ("DROP TABLE no_such_table", "42P01"),
        ("DROP SCHEMA no_such_schema", "3F000"),
    ];
    for (sql, expected) in cases {
        let simple = client.batch_execute(sql).await.unwrap_err();
        assert_eq!(sqlstate(&simple), expected, "simple protocol: {sql}");
        let extended = client.execute(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&extended), expected, "extended protocol: {sql}");
    }
    // The failed INSERT left nothing behind.
    let count: i64 = client
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_parameter_types_are_errors_not_guesses() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE t (id INT); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let statement = client
        .prepare_typed("SELECT id FROM t WHERE id = $1", &[Type::TEXT])
        .await
        .unwrap();
    let error = client
        .query(&statement, &[&"not a number"])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "22P02");
    // The same connection still works afterwards.
    let rows = client
        .query("SELECT id FROM t WHERE id = $1", &[&1i32])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_queries_and_garbage_bytes_leave_the_server_serving() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let bystander = server.connect().await;

    // A 10 MB query string: a long literal, then a long IN list.
    let client = server.connect().await;
    let literal = "x".repeat(10 * 1024 * 1024);
    let length: i32 = client
        .query_one(&format!("SELECT character_length('{literal}')"), &[])
        .await
        .map(|row| row.get(0))
        .unwrap_or(-1);
    assert!(length == 10 * 1024 * 1024 || length == -1);
    let in_list = (0..1_200_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    assert!(in_list.len() > 8 * 1024 * 1024);
    let _ = client
        .simple_query(&format!("SELECT 1 WHERE 5 IN ({in_list})"))
        .await;

    // Garbage instead of a startup message: the server drops that connection only.
    for garbage in [
        vec![0xffu8; 64],
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        vec![0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef],
        vec![0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0],
    ] {
        let mut socket = tokio::net::TcpStream::connect(&server.address)
            .await
            .unwrap();
        socket.write_all(&garbage).await.unwrap();
        let mut buffer = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buffer)).await;
    }
    // Garbage after a valid startup.
    let mut socket = tokio::net::TcpStream::connect(&server.address)
        .await
        .unwrap();
    let mut startup = Vec::new();
    let body = b"\0\x03\0\0user\0postgres\0\0";
    startup.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    startup.extend_from_slice(body);
    socket.write_all(&startup).await.unwrap();
    socket
        .write_all(b"Q\0\0\0\x02garbage-length")
        .await
        .unwrap();
    let mut buffer = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buffer)).await;

    let fresh = server.connect().await;
    fresh.simple_query("SELECT 1").await.unwrap();
    bystander.simple_query("SELECT 2").await.unwrap();
}

/// A panic inside one statement is an error for that statement; the connection lives on.
/// The engine runs in-process here so a deliberately panicking function can be registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_statement_fails_alone() {
    let (_dir, data) = temp_data_dir();
    let engine = quiver::Engine::open(&data).await.unwrap();
    engine.session_context().register_udf(create_udf(
        "explode",
        vec![DataType::Int64],
        DataType::Int64,
        Volatility::Volatile,
        Arc::new(|_args: &[ColumnarValue]| panic!("explode() was called")),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(quiver::server::serve(
        Arc::new(engine),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let (client, connection) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=postgres"),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);

    client
        .batch_execute(
            "CREATE TABLE n AS SELECT CAST(value AS BIGINT) AS v FROM generate_series(1, 3)",
        )
        .await
        .unwrap();
    for attempt in [
        client
            .batch_execute("SELECT explode(v) FROM n")
            .await
            .unwrap_err(),
        client
            .query("SELECT explode(v) FROM n", &[])
            .await
            .unwrap_err(),
        client
            .query("SELECT explode(CAST($1 AS BIGINT))", &[&1i64])
            .await
            .unwrap_err(),
    ] {
        assert_eq!(sqlstate(&attempt), "XX000");
        let message = attempt
            .as_db_error()
            .map(|e| e.message())
            .unwrap_or_default();
        assert!(message.contains("panicked"), "{attempt:?}");
    }
    let alive: i64 = client
        .query_one("SELECT sum(v) FROM n", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(alive, 6);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
