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
    // The same when the tied rows come from different partitions of the right side.
    client
        .batch_execute(
            "CREATE TABLE r1 AS SELECT * FROM r WHERE v IN ('b', 'z');
             CREATE TABLE r2 AS SELECT * FROM r WHERE v IN ('a', 'c');",
        )
        .await
        .unwrap();
    for union in [
        "r1 UNION ALL SELECT * FROM r2",
        "r2 UNION ALL SELECT * FROM r1",
    ] {
        let rows = text_rows(
            &client,
            &format!(
                "SELECT l.ts, x.v FROM l ASOF JOIN (SELECT * FROM {union}) x \
                 ON l.k = x.k AND l.ts >= x.ts ORDER BY l.k, l.ts"
            ),
        )
        .await;
        let v: Vec<Option<&str>> = rows.iter().map(|r| r[1].as_deref()).collect();
        assert_eq!(v, vec![Some("a"), Some("z"), None], "{union}");
    }

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

fn close(expected: &Option<String>, got: &Option<String>) -> bool {
    match (expected, got) {
        (None, None) => true,
        (Some(e), Some(g)) => {
            let (e, g) = (e.parse::<f64>().unwrap(), g.parse::<f64>().unwrap());
            (e - g).abs() <= 1e-9 * e.abs().max(1e-300)
        }
        _ => false,
    }
}

#[tokio::test]
async fn window_features_match_duckdb_range_joins() {
    let (_dir, path) = temp_data_dir();
    let server = Server::start(&path);
    let client = server.connect().await;
    load_csv(
        &client,
        "source",
        "wf_source.csv",
        "entity, to_timestamp_seconds(ts) AS ts, amount",
    )
    .await;
    load_csv(
        &client,
        "labels",
        "wf_labels.csv",
        "lid, entity, to_timestamp_seconds(ts) AS label_ts",
    )
    .await;
    let got = text_rows(
        &client,
        "SELECT * FROM window_features('SELECT lid, entity, label_ts FROM labels', 'source', \
             entity => 'entity', ts => 'ts', value => 'amount', \
             windows => '1 hour, 7 days, 30 days', aggs => 'count,sum,mean,min,max,stddev') \
         ORDER BY lid",
    )
    .await;
    let expected = golden_rows("wf_expected.csv");
    assert_eq!(got.len() * 3, expected.len());
    // Columns: lid, entity, label_ts, then per window count, sum, mean, min, max, stddev.
    for (row, windows) in got.iter().zip(expected.chunks(3)) {
        for (w, window) in windows.iter().enumerate() {
            assert_eq!(row[0], window[0]);
            let columns = &row[3 + 6 * w..3 + 6 * (w + 1)];
            assert_eq!(columns[0], window[2], "count, lid {:?} window {w}", row[0]);
            for (i, name) in ["sum", "mean", "min", "max", "stddev"].iter().enumerate() {
                assert!(
                    close(&window[3 + i], &columns[1 + i]),
                    "{name}, lid {:?} window {:?}: expected {:?}, got {:?}",
                    row[0],
                    window[1],
                    window[3 + i],
                    columns[1 + i]
                );
            }
        }
    }
    // The documented SQL alternative: a RANGE frame over timestamps (inclusive of its start).
    let rows = text_rows(
        &client,
        "SELECT count(*) FROM (SELECT count(amount) OVER (PARTITION BY entity ORDER BY ts \
             RANGE BETWEEN INTERVAL '7 days' PRECEDING AND CURRENT ROW) AS n FROM source) \
         WHERE n > 0",
    )
    .await;
    assert!(rows[0][0].as_deref().unwrap().parse::<i64>().unwrap() > 0);
    for (sql, code) in [
        (
            "SELECT * FROM window_features('SELECT lid, entity, label_ts FROM labels', 'source', entity => 'entity', ts => 'ts', value => 'amount')",
            "22023",
        ),
        (
            "SELECT * FROM window_features('SELECT lid, entity, label_ts FROM labels', 'source', entity => 'entity', ts => 'ts', value => 'amount', windows => '1 month')",
            "22023",
        ),
        (
            "SELECT * FROM window_features('SELECT lid, entity, label_ts FROM labels', 'source', entity => 'nope', ts => 'ts', value => 'amount', windows => '1 day')",
            "42703",
        ),
        (
            "SELECT * FROM window_features('SELECT lid, entity, label_ts FROM labels', 'source', entity => 'entity', ts => 'amount', value => 'amount', windows => '1 day')",
            "42804",
        ),
        (
            "SELECT * FROM window_features('SELECT lid, entity, label_ts FROM labels', 'nowhere', entity => 'entity', ts => 'ts', value => 'amount', windows => '1 day')",
            "42P01",
        ),
        (
            "SELECT * FROM window_features('SELECT lid, entity, label_ts FROM labels', 'source', entity => 'entity', ts => 'ts', value => 'amount', windows => '1 day', aggs => 'median')",
            "22023",
        ),
    ] {
        let err = client.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), code, "{sql}: {err:?}");
    }
    server.stop();
}

/// A small deterministic generator, so the brute-force check sees the same data each run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const DAY: i64 = 86_400;

#[tokio::test]
async fn features_at_time_is_point_in_time_correct_with_ttl_and_late_rows() {
    let (_dir, path) = temp_data_dir();
    let server = Server::start(&path);
    let client = server.connect().await;
    let mut random = Lcg(7);
    // View a: (k, event, created, value), unique event times per entity, some rows created
    // long after their event time (backfills). View b: (k, event, score), no TTL.
    let mut a = Vec::new();
    for k in 0..40i64 {
        let mut times: Vec<i64> = (0..15)
            .map(|_| random.below(200) as i64 * DAY / 2)
            .collect();
        times.sort_unstable();
        times.dedup();
        for t in times {
            let delay = if random.below(5) == 0 {
                random.below(30) as i64 * DAY
            } else {
                3600
            };
            a.push((k, t, t + delay, random.below(1000) as i64));
        }
    }
    let mut b = Vec::new();
    for k in 0..40i64 {
        for _ in 0..6 {
            let t = random.below(100) as i64 * DAY;
            if !b.iter().any(|&(bk, bt, _)| bk == k && bt == t) {
                b.push((k, t, random.below(100) as i64));
            }
        }
    }
    let labels: Vec<(i64, i64, i64)> = (0..400)
        .map(|lid| {
            (
                lid,
                random.below(45) as i64,
                random.below(110) as i64 * DAY + 7200,
            )
        })
        .collect();
    let values = |rows: Vec<String>| rows.join(", ");
    client
        .batch_execute(&format!(
            "CREATE TABLE a_src AS SELECT k, to_timestamp_seconds(e) AS event_ts, \
                 to_timestamp_seconds(c) AS created_ts, x FROM (VALUES {}) t(k, e, c, x);
             CREATE TABLE b_src AS SELECT k, to_timestamp_seconds(e) AS event_ts, score \
                 FROM (VALUES {}) t(k, e, score);
             CREATE TABLE labels AS SELECT lid, k, to_timestamp_seconds(t) AS label_ts \
                 FROM (VALUES {}) v(lid, k, t);
             CREATE FEATURE VIEW fa ENTITY (k) TIMESTAMP (event_ts) CREATED (created_ts) \
                 TTL INTERVAL '10 days' AS SELECT * FROM a_src;
             CREATE FEATURE VIEW fb ENTITY (k) TIMESTAMP (event_ts) FROM b_src;",
            values(
                a.iter()
                    .map(|(k, t, c, x)| format!("({k}, {t}, {c}, {x})"))
                    .collect()
            ),
            values(
                b.iter()
                    .map(|(k, t, s)| format!("({k}, {t}, {s})"))
                    .collect()
            ),
            values(
                labels
                    .iter()
                    .map(|(l, k, t)| format!("({l}, {k}, {t})"))
                    .collect()
            ),
        ))
        .await
        .unwrap();
    let got = text_rows(
        &client,
        "SELECT lid, fa__x, fb__score FROM features_at_time(\
             'SELECT lid, k, label_ts FROM labels', 'fa', 'fb') ORDER BY lid",
    )
    .await;
    assert_eq!(got.len(), labels.len());
    let ttl = 10 * DAY;
    for ((lid, k, t), row) in labels.iter().zip(&got) {
        let expected_a = a
            .iter()
            .filter(|(ak, at, ac, _)| ak == k && *at <= *t && *at > t - ttl && *ac <= *t)
            .max_by_key(|(_, at, _, _)| *at)
            .map(|(_, _, _, x)| x.to_string());
        let expected_b = b
            .iter()
            .filter(|(bk, bt, _)| bk == k && *bt <= *t)
            .max_by_key(|(_, bt, _)| *bt)
            .map(|(_, _, s)| s.to_string());
        assert_eq!(row[0].as_deref(), Some(lid.to_string().as_str()));
        assert_eq!(
            (&row[1], &row[2]),
            (&expected_a, &expected_b),
            "label {lid}"
        );
    }
    server.stop();
}

#[tokio::test]
async fn the_readme_feature_store_example_gives_its_hand_worked_answer() {
    let (_dir, path) = temp_data_dir();
    let server = Server::start(&path);
    let client = server.connect().await;
    let script = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sql/feature_store_quickstart.sql"),
    )
    .unwrap();
    let rows: Vec<Vec<Option<String>>> = text_rows(&client, &script).await;
    let features: Vec<Option<&str>> = rows.iter().map(|r| r[3].as_deref()).collect();
    assert_eq!(
        features,
        vec![Some("20.0"), Some("20.0"), Some("30.0"), None, None]
    );
    server.stop();
}

#[tokio::test]
async fn feature_views_refresh_serve_online_and_survive_restarts() {
    let (_dir, path) = temp_data_dir();
    let server = Server::start(&path);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE daily AS SELECT * FROM (VALUES \
                 (1, now() - INTERVAL '2 days', 10.0), (1, now() - INTERVAL '1 day', 20.0), \
                 (2, now() - INTERVAL '40 days', 5.0)) t(customer_id, event_ts, avg_amount);
             CREATE FEATURE VIEW stats ENTITY (customer_id) TIMESTAMP (event_ts) \
                 TTL INTERVAL '30 days' AS SELECT * FROM daily;
             CREATE FEATURE VIEW blink ENTITY (customer_id) TIMESTAMP (event_ts) \
                 TTL INTERVAL '2 seconds' AS SELECT * FROM daily WHERE customer_id = 1;",
        )
        .await
        .unwrap();
    let lookup = client
        .prepare("SELECT avg_amount FROM online_features('stats', $1)")
        .await
        .unwrap();
    let amount = |rows: Vec<tokio_postgres::Row>| -> Option<f64> {
        rows.first().map(|r| r.get::<_, f64>(0))
    };
    assert_eq!(
        amount(client.query(&lookup, &[&1i64]).await.unwrap()),
        Some(20.0)
    );
    // Expired: the newest row of entity 2 is 40 days old.
    assert_eq!(amount(client.query(&lookup, &[&2i64]).await.unwrap()), None);
    assert_eq!(amount(client.query(&lookup, &[&3i64]).await.unwrap()), None);
    // An insert into the view's table is served at once.
    client
        .batch_execute("INSERT INTO stats VALUES (2, now(), 7.5)")
        .await
        .unwrap();
    assert_eq!(
        amount(client.query(&lookup, &[&2i64]).await.unwrap()),
        Some(7.5)
    );
    // A refresh re-runs the query: the inserted row is gone, new source rows arrive.
    client
        .batch_execute(
            "INSERT INTO daily VALUES (1, now() - INTERVAL '1 hour', 30.0); REFRESH FEATURE VIEW stats",
        )
        .await
        .unwrap();
    let lookup = client
        .prepare("SELECT avg_amount FROM online_features('stats', $1)")
        .await
        .unwrap();
    assert_eq!(
        amount(client.query(&lookup, &[&1i64]).await.unwrap()),
        Some(30.0)
    );
    assert_eq!(amount(client.query(&lookup, &[&2i64]).await.unwrap()), None);
    let views = text_rows(
        &client,
        "SELECT name, entity, timestamp_column, ttl, ttl_seconds, row_count FROM ml.feature_views ORDER BY name",
    )
    .await;
    assert_eq!(
        views,
        vec![
            ["blink", "customer_id", "event_ts", "2 seconds", "2", "2"]
                .map(|s| Some(s.to_string()))
                .to_vec(),
            [
                "stats",
                "customer_id",
                "event_ts",
                "30 days",
                "2592000",
                "4"
            ]
            .map(|s| Some(s.to_string()))
            .to_vec(),
        ]
    );
    let freshness = text_rows(
        &client,
        "SELECT name, age_seconds < 7200, expired FROM ml.feature_freshness WHERE name = 'stats'",
    )
    .await;
    assert_eq!(freshness[0][1].as_deref(), Some("t"));
    assert_eq!(freshness[0][2].as_deref(), Some("f"));
    // TTL expiry while serving.
    let blink = "SELECT count(*) FROM online_features('blink', 1)";
    assert_eq!(text_rows(&client, blink).await[0][0].as_deref(), Some("0"));
    client
        .batch_execute("INSERT INTO blink VALUES (1, now(), 1.0)")
        .await
        .unwrap();
    assert_eq!(text_rows(&client, blink).await[0][0].as_deref(), Some("1"));
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(text_rows(&client, blink).await[0][0].as_deref(), Some("0"));

    // After a restart the definitions, tables and online index are back.
    server.stop();
    let server = Server::start(&path);
    let client = server.connect().await;
    let lookup = client
        .prepare("SELECT avg_amount FROM online_features('stats', $1)")
        .await
        .unwrap();
    assert_eq!(
        amount(client.query(&lookup, &[&1i64]).await.unwrap()),
        Some(30.0)
    );
    let names = text_rows(&client, "SELECT name FROM ml.feature_views ORDER BY name").await;
    assert_eq!(names.len(), 2);
    client
        .batch_execute("DROP FEATURE VIEW blink")
        .await
        .unwrap();
    let err = client
        .simple_query("SELECT * FROM blink")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    server.stop();
}

#[tokio::test]
async fn feature_view_mistakes_are_clear_errors() {
    let (_dir, path) = temp_data_dir();
    let server = Server::start(&path);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE daily AS SELECT * FROM (VALUES (1, TIMESTAMP '2026-01-01 00:00:00', 'x', 2.0)) t(k, ts, label, v);
             CREATE FEATURE VIEW good ENTITY (k) TIMESTAMP (ts) FROM daily;",
        )
        .await
        .unwrap();
    for (sql, code) in [
        (
            "CREATE FEATURE VIEW f ENTITY (nope) TIMESTAMP (ts) FROM daily",
            "42703",
        ),
        (
            "CREATE FEATURE VIEW f ENTITY (k) TIMESTAMP (nope) FROM daily",
            "42703",
        ),
        (
            "CREATE FEATURE VIEW f ENTITY (k) TIMESTAMP (label) FROM daily",
            "42804",
        ),
        (
            "CREATE FEATURE VIEW f ENTITY (k) TIMESTAMP (ts) TTL INTERVAL 'soon' FROM daily",
            "22023",
        ),
        (
            "CREATE FEATURE VIEW f ENTITY (k) TIMESTAMP (ts) TTL 30 FROM daily",
            "42601",
        ),
        (
            "CREATE FEATURE VIEW good ENTITY (k) TIMESTAMP (ts) FROM daily",
            "42710",
        ),
        (
            "CREATE FEATURE VIEW daily ENTITY (k) TIMESTAMP (ts) FROM daily",
            "42P07",
        ),
        (
            "CREATE FEATURE VIEW f ENTITY (k) TIMESTAMP (ts) FROM nowhere",
            "42P01",
        ),
        ("REFRESH FEATURE VIEW nope", "42704"),
        ("DROP FEATURE VIEW nope", "42704"),
        ("SELECT * FROM online_features('nope', 1)", "42704"),
        ("SELECT * FROM online_features('good', 1, 2)", "22023"),
        (
            "SELECT * FROM features_at_time('SELECT k, ts FROM daily', 'nope')",
            "42704",
        ),
        (
            "SELECT * FROM features_at_time('SELECT k FROM daily', 'good')",
            "22023",
        ),
        (
            "SELECT * FROM features_at_time('SELECT ts FROM daily', 'good')",
            "42703",
        ),
        ("DROP TABLE good", "42809"),
        ("CREATE OR REPLACE TABLE good AS SELECT 1", "42809"),
    ] {
        let err = client.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), code, "{sql}: {err:?}");
    }
    client
        .batch_execute("DROP FEATURE VIEW IF EXISTS nope")
        .await
        .unwrap();
    // Through the extended protocol too.
    let err = client
        .query("SELECT * FROM online_features('nope', $1)", &[&1i64])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42704");
    server.stop();
}
