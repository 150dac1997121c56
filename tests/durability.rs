//! What was acknowledged survives a clean restart and a SIGKILL; what was not leaves nothing.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{QUIVER, Server, temp_data_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_reads_back_identical_rows_schemas_and_views() {
    let (dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE SCHEMA sales;
             CREATE TABLE sales.orders (id INT NOT NULL, customer TEXT, amount NUMERIC(10, 2), placed TIMESTAMPTZ);
             INSERT INTO sales.orders VALUES
               (1, 'Ada', 12.50, '2026-01-01T10:00:00Z'),
               (2, 'Bjørn', 99.99, '2026-02-03T04:05:06Z'),
               (3, NULL, NULL, NULL);
             CREATE VIEW sales.big AS SELECT id, amount FROM sales.orders WHERE amount > 50;",
        )
        .await
        .unwrap();
    let csv = dir.path().join("lookup.csv");
    std::fs::write(&csv, "code,label\n1,one\n2,two\n").unwrap();
    client
        .batch_execute(&format!(
            "CREATE EXTERNAL TABLE lookup STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
            csv.display()
        ))
        .await
        .unwrap();
    let before = dump(&client).await;
    drop(client);
    server.stop();

    let server = Server::start(&data);
    let client = server.connect().await;
    assert_eq!(dump(&client).await, before);
    let view: Vec<i32> = client
        .query("SELECT id FROM sales.big", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(view, vec![2]);
    let lookup: i64 = client
        .query_one("SELECT count(*) FROM lookup", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(lookup, 2);
}

async fn dump(client: &tokio_postgres::Client) -> Vec<String> {
    client
        .simple_query("SELECT * FROM sales.orders ORDER BY id")
        .await
        .unwrap()
        .iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL").to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_row_and_keeps_no_partial_batch() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE ledger (id BIGINT NOT NULL, note TEXT)")
        .await
        .unwrap();
    let acknowledged = 60;
    for id in 1..=acknowledged {
        client
            .execute("INSERT INTO ledger VALUES ($1, 'single')", &[&(id as i64)])
            .await
            .unwrap();
    }
    // A large insert that is still running when the process dies: never acknowledged.
    let bulk = server.connect().await;
    let in_flight = tokio::spawn(async move {
        bulk.execute(
            "INSERT INTO ledger SELECT value + 1000000, 'bulk' FROM generate_series(1, 3000000)",
            &[],
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill();
    assert!(
        in_flight.await.unwrap().is_err(),
        "the bulk insert must not have been acknowledged before the kill"
    );

    let server = Server::start(&data);
    let client = server.connect().await;
    let singles: Vec<i64> = client
        .query(
            "SELECT id FROM ledger WHERE note = 'single' ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(singles, (1..=acknowledged as i64).collect::<Vec<_>>());
    let bulk: i64 = client
        .query_one("SELECT count(*) FROM ledger WHERE note = 'bulk'", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        bulk == 0 || bulk == 3_000_000,
        "a statement is all or nothing, found {bulk} of its rows"
    );
    // The table is still writable after the crash.
    client
        .execute("INSERT INTO ledger VALUES (0, 'after')", &[])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_the_same_directory_is_refused() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let output = Command::new(QUIVER)
        .args(["sql", "--data-dir"])
        .arg(&data)
        .args(["-c", "SELECT 1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("in use by another Quiver process"),
        "{stderr}"
    );
    let output = Command::new(QUIVER)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!output.status.success());
    // The running server is unaffected.
    let client = server.connect().await;
    client.simple_query("SELECT 1").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_insert_reports_57014_and_writes_nothing() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE big (v BIGINT)")
        .await
        .unwrap();
    let cancel = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cancel.cancel_query(tokio_postgres::NoTls).await
    });
    let error = client
        .batch_execute("INSERT INTO big SELECT value FROM generate_series(1, 30000000)")
        .await
        .unwrap_err();
    canceller.await.unwrap().unwrap();
    assert_eq!(common::sqlstate(&error), "57014");
    let count: i64 = client
        .query_one("SELECT count(*) FROM big", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
}
