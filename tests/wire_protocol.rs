//! DDL, DML, prepared statements, COPY and time travel through tokio-postgres against the real
//! server binary.

mod common;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use common::{Server, sqlstate, temp_data_dir};
use futures::SinkExt;
use tokio_postgres::types::Type;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_dml_round_trip_with_command_tags() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;

    client
        .batch_execute("CREATE SCHEMA shop; CREATE TABLE shop.items (id INT NOT NULL, name TEXT, price DOUBLE PRECISION)")
        .await
        .unwrap();
    let inserted = client
        .execute(
            "INSERT INTO shop.items VALUES (1, 'apple', 0.5), (2, 'pear', 0.75), (3, 'fig', NULL)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(inserted, 3);
    let updated = client
        .execute("UPDATE shop.items SET price = 1.25 WHERE name = 'fig'", &[])
        .await
        .unwrap();
    assert_eq!(updated, 1);
    let deleted = client
        .execute("DELETE FROM shop.items WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(deleted, 1);

    let rows = client
        .query("SELECT id, name, price FROM shop.items ORDER BY id", &[])
        .await
        .unwrap();
    let got: Vec<(i32, String, Option<f64>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "pear".to_string(), Some(0.75)),
            (3, "fig".to_string(), Some(1.25))
        ]
    );

    // CREATE TABLE AS reports its row count as PostgreSQL does ("SELECT n").
    let created = client
        .execute(
            "CREATE TABLE shop.cheap AS SELECT * FROM shop.items WHERE price < 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(created, 1);

    let error = client
        .batch_execute("CREATE TABLE shop.items (x INT)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "42P07");
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS shop.items (x INT)")
        .await
        .unwrap();

    let error = client.batch_execute("DROP SCHEMA shop").await.unwrap_err();
    assert_eq!(sqlstate(&error), "2BP01");
    client.batch_execute("DROP TABLE shop.cheap").await.unwrap();
    let error = client
        .query("SELECT * FROM shop.cheap", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "42P01");
    client
        .batch_execute("DROP SCHEMA shop CASCADE")
        .await
        .unwrap();
    let error = client
        .batch_execute("CREATE TABLE shop.again (x INT)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "3F000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_with_typed_parameters_nulls_and_unicode() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE typed (
                s SMALLINT, i INT, b BIGINT, r REAL, d DOUBLE PRECISION, n NUMERIC(12, 3),
                t TEXT, v VARCHAR(20), ok BOOLEAN, day DATE, at TIMESTAMP, instant TIMESTAMPTZ)",
        )
        .await
        .unwrap();

    let insert = client
        .prepare_typed(
            "INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                Type::INT2,
                Type::INT4,
                Type::INT8,
                Type::FLOAT4,
                Type::FLOAT8,
                Type::NUMERIC,
                Type::TEXT,
                Type::VARCHAR,
                Type::BOOL,
                Type::DATE,
                Type::TIMESTAMP,
                Type::TIMESTAMPTZ,
            ],
        )
        .await
        .unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let at: NaiveDateTime = day.and_hms_micro_opt(13, 14, 15, 123_456).unwrap();
    let instant: DateTime<Utc> = at.and_utc();
    let unicode = "Grüße, 世界 🦀 — \"quoted\" 'single'";
    let decimal = rust_decimal_text("12345.678");
    client
        .execute(
            &insert,
            &[
                &7i16,
                &-42i32,
                &9_000_000_000i64,
                &1.5f32,
                &-2.25f64,
                &decimal,
                &unicode,
                &"varchar",
                &true,
                &day,
                &at,
                &instant,
            ],
        )
        .await
        .unwrap();
    let nulls: [Option<i32>; 1] = [None];
    client
        .execute("INSERT INTO typed (i) VALUES ($1)", &[&nulls[0]])
        .await
        .unwrap();

    // Binary results for every type, through a prepared SELECT with a parameter.
    let rows = client
        .query("SELECT * FROM typed WHERE i = $1", &[&-42i32])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.get::<_, i16>("s"), 7);
    assert_eq!(row.get::<_, i32>("i"), -42);
    assert_eq!(row.get::<_, i64>("b"), 9_000_000_000);
    assert_eq!(row.get::<_, f32>("r"), 1.5);
    assert_eq!(row.get::<_, f64>("d"), -2.25);
    assert_eq!(row.get::<_, String>("t"), unicode);
    assert_eq!(row.get::<_, String>("v"), "varchar");
    assert!(row.get::<_, bool>("ok"));
    assert_eq!(row.get::<_, NaiveDate>("day"), day);
    assert_eq!(row.get::<_, NaiveDateTime>("at"), at);
    assert_eq!(row.get::<_, DateTime<Utc>>("instant"), instant);
    // NUMERIC comes back exactly; read it as text to compare without a decimal crate.
    let numeric = client
        .query_one("SELECT CAST(n AS TEXT) FROM typed WHERE i = -42", &[])
        .await
        .unwrap();
    assert_eq!(numeric.get::<_, String>(0), "12345.678");

    let row = client
        .query_one("SELECT s, t, day, instant FROM typed WHERE i IS NULL", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<i16>>(0), None);
    assert_eq!(row.get::<_, Option<String>>(1), None);
    assert_eq!(row.get::<_, Option<NaiveDate>>(2), None);
    assert_eq!(row.get::<_, Option<DateTime<Utc>>>(3), None);

    // Text results through the simple protocol carry the same values.
    let simple = client
        .simple_query("SELECT t FROM typed WHERE i = -42")
        .await
        .unwrap();
    let text: Vec<&str> = simple
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0),
            _ => None,
        })
        .collect();
    assert_eq!(text, vec![unicode]);
}

/// NUMERIC parameters are sent in PostgreSQL's binary numeric format; this builds one from text
/// so the test needs no decimal crate.
fn rust_decimal_text(text: &str) -> PgNumeric {
    PgNumeric(text.to_string())
}

#[derive(Debug)]
struct PgNumeric(String);

impl tokio_postgres::types::ToSql for PgNumeric {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use bytes::BufMut;
        // Base-10000 digits of an unsigned value with a fractional part.
        let (int_part, frac_part) = self.0.split_once('.').unwrap_or((&self.0, ""));
        let mut int_digits = int_part.to_string();
        while int_digits.len() % 4 != 0 {
            int_digits.insert(0, '0');
        }
        let mut frac_digits = frac_part.to_string();
        while frac_digits.len() % 4 != 0 {
            frac_digits.push('0');
        }
        let groups: Vec<i16> = int_digits
            .as_bytes()
            .chunks(4)
            .chain(frac_digits.as_bytes().chunks(4))
            .map(|c| std::str::from_utf8(c).unwrap().parse().unwrap())
            .collect();
        let weight = (int_digits.len() / 4) as i16 - 1;
        out.put_i16(groups.len() as i16);
        out.put_i16(weight);
        out.put_u16(0x0000);
        out.put_u16(frac_part.len() as u16);
        for group in groups {
            out.put_i16(group);
        }
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    tokio_postgres::types::to_sql_checked!();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_100k_rows_and_copy_to_files() {
    let (dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE events (id BIGINT, kind TEXT, value DOUBLE PRECISION)")
        .await
        .unwrap();

    let mut csv = String::from("id,kind,value\n");
    let mut expected_sum = 0f64;
    for i in 0..100_000u64 {
        let value = (i % 997) as f64 * 0.5;
        expected_sum += value;
        let kind = if i % 3 == 0 { "\"a,b\"" } else { "plain" };
        csv.push_str(&format!("{i},{kind},{value}\n"));
    }
    let sink = client
        .copy_in("COPY events FROM STDIN WITH (FORMAT csv, HEADER true)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    for chunk in csv.as_bytes().chunks(65_536) {
        sink.send(bytes::Bytes::copy_from_slice(chunk))
            .await
            .unwrap();
    }
    let copied = sink.finish().await.unwrap();
    assert_eq!(copied, 100_000);

    let row = client
        .query_one(
            "SELECT count(*), sum(value), count(DISTINCT id), sum(CASE WHEN kind = 'a,b' THEN 1 ELSE 0 END) FROM events",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 100_000);
    assert!((row.get::<_, f64>(1) - expected_sum).abs() < 1e-6);
    assert_eq!(row.get::<_, i64>(2), 100_000);
    assert_eq!(row.get::<_, i64>(3), 33_334);

    // A load with a bad value fails as a whole: no rows from it appear.
    let sink = client
        .copy_in("COPY events FROM STDIN (FORMAT csv)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"1,ok,1.0\nnot-a-number,x,2\n"))
        .await
        .unwrap();
    let error = sink.finish().await.unwrap_err();
    assert_eq!(sqlstate(&error), "22P04");
    let count: i64 = client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 100_000);

    // Server-side files, both directions, CSV and Parquet.
    let csv_path = dir.path().join("out.csv");
    let parquet_path = dir.path().join("out.parquet");
    let written = client
        .execute(
            &format!(
                "COPY (SELECT id, kind FROM events WHERE id < 10) TO '{}' WITH (FORMAT csv, HEADER true)",
                csv_path.display()
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(written, 10);
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(text.starts_with("id,kind\n"), "{text}");
    assert_eq!(text.lines().count(), 11);
    client
        .batch_execute(&format!(
            "COPY events TO '{}' (FORMAT parquet)",
            parquet_path.display()
        ))
        .await
        .unwrap();
    client
        .batch_execute(&format!(
            "CREATE TABLE back_csv (id BIGINT, kind TEXT);
             COPY back_csv FROM '{}' WITH (FORMAT csv, HEADER true);
             CREATE TABLE back_parquet (id BIGINT, kind TEXT, value DOUBLE PRECISION);
             COPY back_parquet FROM '{}' (FORMAT parquet);",
            csv_path.display(),
            parquet_path.display()
        ))
        .await
        .unwrap();
    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM back_csv) AS from_csv, (SELECT count(*) FROM back_parquet) AS from_parquet",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(counts.get::<_, i64>(0), 10);
    assert_eq!(counts.get::<_, i64>(1), 100_000);

    // External tables read files in place.
    client
        .batch_execute(&format!(
            "CREATE EXTERNAL TABLE ext STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
            csv_path.display()
        ))
        .await
        .unwrap();
    let ext: i64 = client
        .query_one("SELECT count(*) FROM ext", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ext, 10);

    let error = client
        .batch_execute("COPY events FROM '/no/such/file.csv' (FORMAT csv)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "58P01");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_reads_earlier_versions() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE accounts (id INT, balance BIGINT);
             INSERT INTO accounts VALUES (1, 100), (2, 200);
             UPDATE accounts SET balance = 0 WHERE id = 1;
             DELETE FROM accounts WHERE id = 2;",
        )
        .await
        .unwrap();
    let history = client
        .query(
            "SELECT version, operation FROM table_history('accounts') ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let operations: Vec<(i64, String)> = history.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        operations,
        vec![
            (0, "WRITE".to_string()),
            (1, "WRITE".to_string()),
            (2, "UPDATE".to_string()),
            (3, "DELETE".to_string())
        ]
    );
    let at_version = |v: i64| {
        let client = &client;
        async move {
            client
                .query(
                    &format!("SELECT id, balance FROM table_at('accounts', {v}) ORDER BY id"),
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<_, i32>(0), r.get::<_, i64>(1)))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(at_version(0).await, vec![]);
    assert_eq!(at_version(1).await, vec![(1, 100), (2, 200)]);
    assert_eq!(at_version(2).await, vec![(1, 0), (2, 200)]);
    assert_eq!(at_version(3).await, vec![(1, 0)]);

    // By time: the commit time of version 2 sees version 2.
    let committed: DateTime<Utc> = client
        .query_one(
            "SELECT committed_at FROM table_history('accounts') WHERE version = 2",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let stamp = committed.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let rows = client
        .query(
            &format!("SELECT id, balance FROM table_at('accounts', '{stamp}') ORDER BY id"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);

    let error = client
        .query("SELECT * FROM table_at('accounts', 99)", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&error), "22023");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dml_with_subquery_is_refused_not_widened() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE a (id INT); INSERT INTO a VALUES (1), (2), (3);
             CREATE TABLE b (id INT); INSERT INTO b VALUES (2);",
        )
        .await
        .unwrap();
    for sql in [
        "DELETE FROM a WHERE id IN (SELECT id FROM b)",
        "UPDATE a SET id = 0 WHERE id IN (SELECT id FROM b)",
    ] {
        let error = client.execute(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&error), "0A000", "{sql}");
        let error = client.batch_execute(sql).await.unwrap_err();
        assert_eq!(sqlstate(&error), "0A000", "{sql}");
    }
    let count: i64 = client
        .query_one("SELECT count(*) FROM a", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 3);
}

#[tokio::test]
async fn limit_holds_when_the_scan_reads_no_columns() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    client
        .batch_execute("CREATE TABLE ten AS SELECT * FROM generate_series(1, 10) AS t(x)")
        .await
        .unwrap();
    for (sql, expected) in [
        ("SELECT 1 FROM ten LIMIT 1", 1),
        ("SELECT abs(-2) FROM ten LIMIT 3", 3),
        ("SELECT x FROM ten LIMIT 4", 4),
        ("SELECT 1 FROM ten", 10),
    ] {
        assert_eq!(
            client.query(sql, &[]).await.unwrap().len(),
            expected,
            "{sql}"
        );
    }
    server.stop();
}
