//! quiver-udfs through the server: golden scipy / scikit-learn values reproduced by GROUP BY
//! queries over durable tables loaded in several commits (so the scan has several partitions
//! and partial aggregates are merged), and bad input reported with SQLSTATEs.

mod common;

use bytes::Bytes;
use common::{Server, sqlstate, temp_data_dir};
use futures::SinkExt;
use serde_json::Value;
use tokio_postgres::Client;

fn golden(function: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/oracle/golden/{function}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("golden JSON");
    file["cases"].as_array().expect("cases").clone()
}

fn csv_field(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => format!("\"{}\"", text.replace('"', "\"\"")),
        other => other.to_string(),
    }
}

/// Loads the cases whose x values satisfy `keep` into `table (g, x, y)`, in three COPY
/// statements, and returns the loaded cases in group order.
async fn load(
    client: &Client,
    table: &str,
    x_type: &str,
    y_type: &str,
    cases: Vec<Value>,
) -> Vec<Value> {
    client
        .batch_execute(&format!(
            "CREATE TABLE {table} (g BIGINT, x {x_type}, y {y_type})"
        ))
        .await
        .unwrap();
    let mut lines = Vec::new();
    for (group, case) in cases.iter().enumerate() {
        let (x, y) = (case["x"].as_array().unwrap(), case["y"].as_array().unwrap());
        for (x, y) in x.iter().zip(y) {
            lines.push(format!("{group},{},{}\n", csv_field(x), csv_field(y)));
        }
    }
    for part in 0..3 {
        let sink = client
            .copy_in(&format!(
                "COPY {table} (g, x, y) FROM STDIN WITH (FORMAT csv)"
            ))
            .await
            .unwrap();
        let mut sink = Box::pin(sink);
        let chunk: String = lines.iter().skip(part).step_by(3).cloned().collect();
        sink.send(Bytes::from(chunk)).await.unwrap();
        sink.as_mut().finish().await.unwrap();
    }
    cases
}

fn close(context: &str, actual: Option<f64>, expected: &Value, relative: f64) {
    match (actual, expected.as_f64()) {
        (None, None) => {}
        (Some(actual), Some(expected)) => {
            let difference = (actual - expected).abs();
            assert!(
                difference <= relative * expected.abs() || difference <= 1e-12,
                "{context}: {actual} vs {expected}"
            );
        }
        (actual, _) => panic!("{context}: {actual:?} vs {expected}"),
    }
}

fn with_x(cases: Vec<Value>, wanted: fn(&Value) -> bool) -> Vec<Value> {
    cases
        .into_iter()
        .filter(|case| {
            let x = case["x"].as_array().unwrap();
            !x.is_empty() && x.iter().filter(|v| !v.is_null()).all(wanted)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sample_statistics_match_scipy_by_group() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;

    let cases = with_x(golden("ks_2samp"), Value::is_number);
    let cases = load(&client, "ks", "DOUBLE PRECISION", "BOOLEAN", cases).await;
    let rows = client
        .query(
            "SELECT g, ks_2samp(x, y)['statistic'], ks_2samp(x, y)['pvalue'] \
             FROM ks GROUP BY g ORDER BY g",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), cases.len());
    for row in rows {
        let case = &cases[row.get::<_, i64>(0) as usize];
        let name = case["name"].as_str().unwrap();
        close(name, row.get(1), &case["expected"]["statistic"], 1e-9);
        close(name, row.get(2), &case["expected"]["pvalue"], 1e-6);
    }

    let cases: Vec<Value> = with_x(golden("psi"), Value::is_number)
        .into_iter()
        .filter(|case| case["args"].as_object().is_some_and(|a| a.is_empty()))
        .collect();
    let cases = load(&client, "drift", "DOUBLE PRECISION", "BOOLEAN", cases).await;
    let rows = client
        .query("SELECT g, psi(x, y) FROM drift GROUP BY g ORDER BY g", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), cases.len());
    for row in rows {
        let case = &cases[row.get::<_, i64>(0) as usize];
        close(
            case["name"].as_str().unwrap(),
            row.get(1),
            &case["expected"],
            1e-9,
        );
    }

    let cases = with_x(golden("chi2_2samp"), Value::is_string);
    let cases = load(&client, "categories", "TEXT", "BOOLEAN", cases).await;
    let rows = client
        .query(
            "SELECT g, chi2_2samp(x, y)['statistic'], chi2_2samp(x, y)['pvalue'], \
             chi2_2samp(x, y)['dof'] FROM categories GROUP BY g ORDER BY g",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), cases.len());
    for row in rows {
        let case = &cases[row.get::<_, i64>(0) as usize];
        let name = case["name"].as_str().unwrap();
        close(name, row.get(1), &case["expected"]["statistic"], 1e-9);
        close(name, row.get(2), &case["expected"]["pvalue"], 1e-6);
        assert_eq!(
            row.get::<_, Option<i64>>(3),
            case["expected"]["dof"].as_i64(),
            "{name}"
        );
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluation_and_ab_functions_match_sklearn_and_scipy() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;

    let cases = with_x(golden("roc_auc"), Value::is_number);
    let scored = load(&client, "scored", "DOUBLE PRECISION", "BIGINT", cases).await;
    let rows = client
        .query(
            "SELECT g, roc_auc(x, y), gini(x, y) FROM scored GROUP BY g ORDER BY g",
            &[],
        )
        .await
        .unwrap();
    for row in rows {
        let case = &scored[row.get::<_, i64>(0) as usize];
        let name = case["name"].as_str().unwrap();
        close(name, row.get(1), &case["expected"], 1e-9);
        let gini = case["expected"].as_f64().map(|auc| 2.0 * auc - 1.0);
        close(name, row.get(2), &serde_json::json!(gini), 1e-9);
    }

    let cases = with_x(golden("welch_ttest"), Value::is_number);
    let cases = load(&client, "experiment", "DOUBLE PRECISION", "BOOLEAN", cases).await;
    let rows = client
        .query(
            "SELECT g, welch_ttest(x, y)['statistic'], welch_ttest(x, y)['pvalue'], \
             welch_ttest(x, y)['ci_low'] FROM experiment GROUP BY g ORDER BY g",
            &[],
        )
        .await
        .unwrap();
    for row in rows {
        let case = &cases[row.get::<_, i64>(0) as usize];
        let name = case["name"].as_str().unwrap();
        close(name, row.get(1), &case["expected"]["statistic"], 1e-9);
        close(name, row.get(2), &case["expected"]["pvalue"], 1e-6);
        close(name, row.get(3), &case["expected"]["ci_low"], 1e-9);
    }

    // Struct and array results reach drivers: the confusion matrix as labels and row-major counts.
    let row = client
        .query_one(
            "SELECT confusion_matrix(x > 0.5, y = 1)['labels'], \
             confusion_matrix(x > 0.5, y = 1)['counts'] FROM scored WHERE g = 0",
            &[],
        )
        .await
        .unwrap();
    let labels: Vec<String> = row.get(0);
    let counts: Vec<i64> = row.get(1);
    assert_eq!(labels, ["false", "true"]);
    let case = &scored[0];
    let (scores, truth) = (case["x"].as_array().unwrap(), case["y"].as_array().unwrap());
    let mut expected = [0i64; 4];
    for (score, label) in scores.iter().zip(truth) {
        if let (Some(score), Some(label)) = (score.as_f64(), label.as_f64()) {
            expected[usize::from(label == 1.0) * 2 + usize::from(score > 0.5)] += 1;
        }
    }
    assert_eq!(counts, expected);
    let text = client
        .simple_query("SELECT confusion_matrix(x > 0.5, y = 1) FROM scored WHERE g = 0")
        .await
        .unwrap();
    assert!(matches!(
        &text[1],
        tokio_postgres::SimpleQueryMessage::Row(_)
    ));

    // A scalar function with typed parameters on the extended protocol.
    let statement = client
        .prepare("SELECT ab_sample_size($1::DOUBLE PRECISION, $2::DOUBLE PRECISION, 0.05, 0.8)")
        .await
        .unwrap();
    let row = client
        .query_one(&statement, &[&0.1f64, &0.1f64])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 14751);
    server.stop();
}

/// `INSERT ... SELECT` of one sample of `golden/large_samples.json`, by its formula (integer
/// arithmetic, then the same IEEE operations as the oracle, so both see the same doubles).
fn insert_formula_sample(case: &str, spec: &Value, is_reference: bool) -> String {
    let number = |key: &str| {
        spec[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {spec}"))
    };
    let (step, spread) = (number("step") as i64, number("spread"));
    format!(
        "INSERT INTO big SELECT '{case}', {shift:?} + {scale:?} * ((u - 0.5) * (1.0 + u)), \
         {is_reference} FROM (SELECT CAST((value * {step}) % {modulus} AS DOUBLE) / {spread:?} \
         AS u FROM generate_series(0, {last}))",
        shift = number("shift"),
        scale = number("scale"),
        modulus = spread as i64,
        last = number("rows") as i64 - 1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_samples_match_scipy_with_and_without_group_by() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    let path = format!(
        "{}/tests/oracle/golden/large_samples.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cases = file["cases"].as_array().expect("cases");
    client
        .batch_execute("CREATE TABLE big (c TEXT, x DOUBLE PRECISION, r BOOLEAN)")
        .await
        .unwrap();
    // one commit per sample, so the scan has several files and partial states are merged
    for case in cases {
        let name = case["name"].as_str().unwrap();
        for (part, is_reference) in [("reference", true), ("current", false)] {
            let sql = insert_formula_sample(name, &case[part], is_reference);
            client.batch_execute(&sql).await.unwrap();
        }
    }
    let measures = "psi(x, r), psi(x, r, 10, 'equal_width'), js_divergence(x, r), \
                    ks_2samp(x, r)['statistic'], ks_2samp(x, r)['pvalue'], wasserstein(x, r)";
    let expected_keys = [
        "psi",
        "psi_equal_width",
        "js_divergence",
        "ks_statistic",
        "ks_pvalue",
        "wasserstein",
    ];
    for case in cases {
        let name = case["name"].as_str().unwrap();
        // without GROUP BY (whole batches held and counted) and with it (rows per group)
        for sql in [
            format!("SELECT {measures} FROM big WHERE c = '{name}'"),
            format!("SELECT {measures} FROM big GROUP BY c HAVING c = '{name}'"),
        ] {
            let row = client.query_one(&sql, &[]).await.unwrap();
            for (column, key) in expected_keys.iter().enumerate() {
                let tolerance = if key.ends_with("pvalue") { 1e-6 } else { 1e-9 };
                let context = format!("{name} {key}: {sql}");
                close(&context, row.get(column), &case["expected"][key], tolerance);
            }
        }
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_statistics_input_reports_sqlstates() {
    let (_dir, data) = temp_data_dir();
    let server = Server::start(&data);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE s (x DOUBLE PRECISION, r BOOLEAN, label TEXT); \
             INSERT INTO s VALUES (1.0, true, 'a'), (2.0, false, 'b'), \
             (CAST('NaN' AS DOUBLE PRECISION), NULL, 'c')",
        )
        .await
        .unwrap();
    let cases = [
        // NaN with a NULL flag is ignored; a NaN value in a sample is refused.
        ("SELECT psi(x, true) FROM s", "22023"),
        ("SELECT psi(x, r, 1) FROM s", "22023"),
        ("SELECT psi(x, r, 10, 'fancy') FROM s", "22023"),
        (
            "SELECT psi(x, r, CAST(x AS BIGINT)) FROM s WHERE r IS NOT NULL",
            "22023",
        ),
        ("SELECT roc_auc(x, 2) FROM s WHERE r IS NOT NULL", "22023"),
        ("SELECT log_loss(x, r) FROM s WHERE r IS NOT NULL", "22023"),
        ("SELECT ab_sample_size(1.5, 0.1, 0.05, 0.8)", "22023"),
        ("SELECT ks_2samp(label, r) FROM s", "42883"),
        ("SELECT ks_2samp(x) FROM s", "42883"),
        ("SELECT wasserstein(x, label) FROM s", "42883"),
    ];
    for (sql, expected) in cases {
        let error = client.query(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&error), expected, "{sql}: {error:?}");
    }
    // NULLs are ignored, so the NaN row (NULL flag) does not count; an empty side gives NULL.
    let row = client
        .query_one(
            "SELECT psi(x, r), wasserstein(x, r), psi(x, r) FILTER (WHERE r) FROM s",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, Option<f64>>(0).is_some());
    assert_eq!(row.get::<_, Option<f64>>(1), Some(1.0));
    assert_eq!(row.get::<_, Option<f64>>(2), None);
    // The connection survives all of that.
    assert_eq!(
        client
            .query_one("SELECT 1", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        1
    );
    server.stop();
}
