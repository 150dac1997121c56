//! The feature store over pgwire: ASOF joins checked against DuckDB's `ASOF LEFT JOIN`
//! (tests/oracle/features_oracle.py wrote the golden files).

mod common;

use std::path::PathBuf;

use common::{Server, sqlstate, temp_data_dir};
use tokio_postgres::Client;
use tokio_postgres::SimpleQueryMessage;

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracle/golden/features")
        .join(name)
}

/// The rows of a golden CSV (no quoting in these files; an empty field is NULL).
fn golden_rows(name: &str) -> Vec<Vec<Option<String>>> {
    std::fs::read_to_string(golden_path(name))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .map(|field| (!field.is_empty()).then(|| field.to_string()))
                .collect()
        })
        .collect()
}

/// The rows of a query through the simple protocol, as text (NULL as `None`).
async fn text_rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn same_number(expected: &Option<String>, got: &Option<String>) -> bool {
    match (expected, got) {
        (None, None) => true,
        (Some(e), Some(g)) => e.parse::<f64>().ok() == g.parse::<f64>().ok(),
        _ => false,
    }
}

async fn load_csv(client: &Client, table: &str, file: &str, select: &str) {
    client
        .batch_execute(&format!(
            "CREATE EXTERNAL TABLE {table}_csv STORED AS CSV LOCATION '{}' \
                 OPTIONS ('format.has_header' 'true');
             CREATE TABLE {table} AS SELECT {select} FROM {table}_csv;",
            golden_path(file).display()
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn asof_join_matches_duckdb_for_every_operator_spelling_and_key_set() {
    let (_dir, path) = temp_data_dir();
    let server = Server::start(&path);
    let client = server.connect().await;
    load_csv(
        &client,
        "labels",
        "asof_labels.csv",
        "lid, k1, k2, ts, to_timestamp_seconds(ts) AS t",
    )
    .await;
    load_csv(
        &client,
        "feats",
        "asof_feats.csv",
        "fid, k1, k2, ts, to_timestamp_seconds(ts) AS t, v",
    )
    .await;
    for (suffix, op) in [("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")] {
        for (keys, on) in [
            ("k1", "l.k1 = f.k1"),
            ("k1k2", "l.k1 = f.k1 AND f.k2 = l.k2"),
        ] {
            let expected = golden_rows(&format!("asof_{suffix}_{keys}.csv"));
            let flipped = match op {
                ">=" => "<=",
                ">" => "<",
                "<=" => ">=",
                _ => ">",
            };
            let queries = [
                // Snowflake's spelling on integer times.
                format!(
                    "SELECT l.lid, f.ts, f.v FROM labels l ASOF JOIN feats f \
                     MATCH_CONDITION (l.ts {op} f.ts) ON {on} ORDER BY l.lid"
                ),
                // DuckDB's spelling on timestamps, the comparison written right to left.
                format!(
                    "SELECT l.lid, f.ts, f.v FROM labels l ASOF LEFT JOIN feats f \
                     ON {on} AND f.t {flipped} l.t ORDER BY l.lid"
                ),
                // A left side in two partitions (the union), sharing one index of the right.
                format!(
                    "SELECT l.lid, f.ts, f.v FROM \
                     (SELECT * FROM labels WHERE lid % 2 = 0 UNION ALL \
                      SELECT * FROM labels WHERE lid % 2 = 1) l \
                     ASOF JOIN feats f ON {on} AND l.ts {op} f.ts ORDER BY l.lid"
                ),
            ];
            for sql in queries {
                let got = text_rows(&client, &sql).await;
                assert_eq!(got.len(), expected.len(), "{sql}");
                for (e, g) in expected.iter().zip(&got) {
                    assert_eq!(e[0], g[0], "{sql}");
                    assert!(
                        e[1] == g[1] && same_number(&e[2], &g[2]),
                        "{sql}: lid {:?}: expected {e:?}, got {g:?}",
                        e[0]
                    );
                }
            }
        }
    }
    server.stop();
}

#[tokio::test]
async fn asof_join_ties_prepared_statements_and_bad_conditions() {
    let (_dir, path) = temp_data_dir();
    let server = Server::start(&path);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE l AS SELECT * FROM (VALUES (1, 10), (1, 25), (2, 5)) t(k, ts);
             CREATE TABLE r AS SELECT * FROM (VALUES (1, 20, 'b'), (1, 10, 'a'), (1, 20, 'z'), (1, 20, 'c')) t(k, ts, v);",
        )
        .await
        .unwrap();
    // Rows with equal keys and time: the one whose columns sort last ('z') wins, whatever the
    // order they were written in.
    let rows = client
        .query(
            "SELECT l.ts, r.v FROM l ASOF JOIN r ON l.k = r.k AND l.ts >= r.ts \
             WHERE l.k = $1 ORDER BY l.ts",
            &[&1i64],
        )
        .await
        .unwrap();
    let got: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![(10, "a".to_string()), (25, "z".to_string())]);

    for (sql, code) in [
        // No time comparison.
        ("SELECT * FROM l ASOF JOIN r ON l.k = r.k", "42601"),
        // Two time comparisons.
        (
            "SELECT * FROM l ASOF JOIN r ON l.ts >= r.ts AND l.k <= r.k",
            "42601",
        ),
        // A condition that compares one table with itself.
        (
            "SELECT * FROM l ASOF JOIN r MATCH_CONDITION (l.ts >= l.k) ON l.k = r.k",
            "42601",
        ),
        // Something other than equalities in ON.
        (
            "SELECT * FROM l ASOF JOIN r MATCH_CONDITION (l.ts >= r.ts) ON l.k + r.k = 2",
            "42601",
        ),
        // Times that are not times or numbers.
        (
            "SELECT * FROM l ASOF JOIN r MATCH_CONDITION (r.v <= 'x') ON l.k = r.k",
            "42601",
        ),
        (
            "SELECT * FROM l ASOF JOIN r MATCH_CONDITION (CAST(l.ts AS TEXT) >= r.v) ON l.k = r.k",
            "42804",
        ),
    ] {
        let err = client.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), code, "{sql}: {err:?}");
        let err = client.query(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), code, "extended protocol: {sql}: {err:?}");
    }
    // The server still serves.
    let rows = client.simple_query("SELECT 1").await.unwrap();
    assert!(!rows.is_empty());
    server.stop();
}
