//! Models in SQL over pgwire, checked against scikit-learn (tests/oracle/models_oracle.py wrote
//! the golden files): training, scoring, the registry, import, restarts and bad input.

mod common;

use std::path::PathBuf;

use common::{Server, sqlstate, temp_data_dir};
use quiver::ml::model::Model;
use serde_json::Value;
use tokio_postgres::Client;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden(name: &str) -> Value {
    let path = repo().join("tests/oracle/golden/models").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn ids(value: &Value) -> String {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Loads `tests/data/<file>.csv` as a durable table and splits it into `<name>_train` and
/// `<name>_test` by the oracle's test ids.
async fn load_split(client: &Client, name: &str, file: &str, test_ids: &str) {
    let path = repo().join("tests/data").join(format!("{file}.csv"));
    client
        .batch_execute(&format!(
            "CREATE EXTERNAL TABLE {name}_csv STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true');
             CREATE TABLE {name} AS SELECT * FROM {name}_csv;
             CREATE TABLE {name}_train AS SELECT * FROM {name} WHERE id NOT IN ({test_ids});
             CREATE TABLE {name}_test AS SELECT * FROM {name} WHERE id IN ({test_ids});",
            path.display()
        ))
        .await
        .unwrap();
}

async fn floats(client: &Client, sql: &str) -> Vec<f64> {
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<_, f64>(0))
        .collect()
}

#[tokio::test]
async fn logistic_regression_matches_scikit_learn_and_survives_a_restart() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    let oracle = golden("breast_cancer.json");
    load_split(&client, "bc", "breast_cancer", &ids(&oracle["test_ids"])).await;
    let features = strings(&oracle["features"]).join(", ");
    let l2 = oracle["l2_reg_equivalent"].as_f64().unwrap();
    let created = client
        .query_one(
            &format!(
                "CREATE MODEL cancer OPTIONS (model_type = 'logistic_reg', input_label_cols = ['target'], \
                 l2_reg = {l2}, max_iterations = 500, learn_rate = 0.1, early_stop = false, \
                 data_split_method = 'no_split') AS SELECT {features}, target FROM bc_train"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(created.get::<_, &str>("model"), "cancer");
    assert_eq!(created.get::<_, i64>("version"), 1);
    let auc_sql =
        format!("SELECT roc_auc(predict_proba('cancer', {features}), target = 1) FROM bc_test");
    let auc = floats(&client, &auc_sql).await[0];
    let sklearn = oracle["sklearn_test_roc_auc"].as_f64().unwrap();
    assert!(
        (auc - sklearn).abs() <= 0.005,
        "hold-out AUC {auc} vs scikit-learn {sklearn}"
    );

    let scores_sql = format!("SELECT predict_proba('cancer', {features}) FROM bc ORDER BY id");
    let before = floats(&client, &scores_sql).await;
    let through_ml_predict = floats(
        &client,
        "SELECT predicted_target_probability FROM ml_predict('cancer', 'SELECT * FROM bc') ORDER BY id",
    )
    .await;
    assert_eq!(
        before, through_ml_predict,
        "predict_proba and ml_predict disagree"
    );
    let evaluated = client
        .query_one(
            "SELECT roc_auc, accuracy FROM ml_evaluate('cancer', 'SELECT * FROM bc_test')",
            &[],
        )
        .await
        .unwrap();
    assert!((evaluated.get::<_, f64>(0) - auc).abs() < 1e-12);

    client
        .batch_execute("ALTER MODEL cancer SET STAGE 'staging'")
        .await
        .unwrap();
    drop(client);
    server.stop();
    let server = Server::start(&dir);
    let client = server.connect().await;
    let after = floats(&client, &scores_sql).await;
    let staged = floats(
        &client,
        &format!("SELECT predict_proba('cancer@staging', {features}) FROM bc ORDER BY id"),
    )
    .await;
    assert_eq!(after, staged);
    assert!(
        before
            .iter()
            .zip(&after)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "scores changed across a restart"
    );
    let version = client
        .query_one(
            "SELECT version, stage, model_type FROM ml.model_versions WHERE model = 'cancer'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(version.get::<_, i64>(0), 1);
    assert_eq!(version.get::<_, &str>(1), "Staging");
    assert_eq!(version.get::<_, &str>(2), "logistic_reg");
    server.stop();
}

#[tokio::test]
async fn linear_regression_equals_scikit_learn_least_squares() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    let oracle = golden("diabetes.json");
    load_split(&client, "diabetes", "diabetes", "0").await;
    let features = strings(&oracle["features"]).join(", ");
    client
        .batch_execute(&format!(
            "CREATE MODEL progression OPTIONS (model_type = 'linear_reg', input_label_cols = ['target']) \
             AS SELECT {features}, target FROM diabetes"
        ))
        .await
        .unwrap();
    let rows = client
        .query(
            &format!("SELECT id, predict('progression', {features}) FROM diabetes ORDER BY id"),
            &[],
        )
        .await
        .unwrap();
    let expected = oracle["predictions"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, pair) in rows.iter().zip(expected) {
        assert_eq!(row.get::<_, i64>(0), pair[0].as_i64().unwrap());
        let (got, want) = (row.get::<_, f64>(1), pair[1].as_f64().unwrap());
        assert!(
            (got - want).abs() <= 1e-6 * want.abs(),
            "row {}: {got} vs {want}",
            pair[0]
        );
    }
    // The stored artifact holds standardized weights: w_j / std_j are the raw coefficients.
    let model = Model::load(&dir.join("models/progression/1"), None).unwrap();
    let weights: Vec<f64> = model.layers[0]
        .weight_t
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let mut intercept: f64 = model.layers[0].bias.to_vec1::<f64>().unwrap()[0];
    for ((feature, weight), want) in model
        .spec
        .features
        .iter()
        .zip(&weights)
        .zip(oracle["coef"].as_array().unwrap())
    {
        let coefficient = weight / feature.std.unwrap();
        intercept -= coefficient * feature.mean.unwrap();
        let want = want.as_f64().unwrap();
        assert!(
            (coefficient - want).abs() <= 1e-6 * want.abs(),
            "{}: {coefficient} vs {want}",
            feature.name
        );
    }
    let want = oracle["intercept"].as_f64().unwrap();
    assert!(
        (intercept - want).abs() <= 1e-6 * want.abs(),
        "intercept {intercept} vs {want}"
    );
    server.stop();
}

#[tokio::test]
async fn multiclass_logistic_and_mlp_reach_their_hold_out_accuracy() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    let iris = golden("iris.json");
    load_split(&client, "iris", "iris", &ids(&iris["test_ids"])).await;
    let features = strings(&iris["features"]).join(", ");
    client
        .batch_execute(&format!(
            "CREATE MODEL iris OPTIONS (model_type = 'logistic_reg', input_label_cols = ['species'], \
             max_iterations = 300, early_stop = false) AS SELECT {features}, species FROM iris_train"
        ))
        .await
        .unwrap();
    let accuracy = floats(
        &client,
        &format!("SELECT accuracy(predict('iris', {features}), species) FROM iris_test"),
    )
    .await[0];
    assert!(accuracy >= 0.93, "iris hold-out accuracy {accuracy}");
    let probabilities = client
        .query_one(
            &format!("SELECT predict_proba('iris', {features}) FROM iris_test LIMIT 1"),
            &[],
        )
        .await
        .unwrap()
        .get::<_, Vec<f64>>(0);
    assert_eq!(probabilities.len(), 3);
    assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);

    let digits = golden("digits.json");
    load_split(&client, "digits", "digits", &ids(&digits["test_ids"])).await;
    let pixels = strings(&digits["features"]).join(", ");
    client
        .batch_execute(&format!(
            "CREATE MODEL digits OPTIONS (model_type = 'mlp_classifier', input_label_cols = ['target'], \
             hidden_units = [64], max_iterations = 100, seed = 7) AS SELECT {pixels}, target FROM digits_train"
        ))
        .await
        .unwrap();
    let accuracy = floats(
        &client,
        &format!("SELECT accuracy(predict('digits', {pixels}), target) FROM digits_test"),
    )
    .await[0];
    assert!(accuracy >= 0.95, "digits hold-out accuracy {accuracy}");
    server.stop();
}

#[tokio::test]
async fn an_imported_scikit_learn_mlp_gives_scikit_learns_probabilities() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    load_split(&client, "iris", "iris", "0").await;
    let linear_dir = repo().join("tests/oracle/golden/models/diabetes_linear");
    load_split(&client, "diabetes", "diabetes", "0").await;
    client
        .batch_execute(&format!(
            "CREATE MODEL progression FROM '{}'",
            linear_dir.display()
        ))
        .await
        .unwrap();
    let diabetes = golden("diabetes.json");
    let features = strings(&diabetes["features"]).join(", ");
    let predictions = floats(
        &client,
        &format!("SELECT predict('progression', {features}) FROM diabetes ORDER BY id"),
    )
    .await;
    for (got, pair) in predictions
        .iter()
        .zip(diabetes["predictions"].as_array().unwrap())
    {
        let want = pair[1].as_f64().unwrap();
        assert!((got - want).abs() <= 1e-9 * want.abs(), "{got} vs {want}");
    }
    let model_dir = repo().join("tests/oracle/golden/models/iris_mlp");
    client
        .batch_execute(&format!(
            "CREATE MODEL flowers FROM '{}'",
            model_dir.display()
        ))
        .await
        .unwrap();
    let expected = golden("iris_mlp_expected.json");
    let rows = client
        .query(
            "SELECT predict_proba('flowers', sepal_length, sepal_width, petal_length, petal_width), \
             predict('flowers', sepal_length, sepal_width, petal_length, petal_width) FROM iris ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    for ((row, probabilities), label) in rows
        .iter()
        .zip(expected["probabilities"].as_array().unwrap())
        .zip(expected["predictions"].as_array().unwrap())
    {
        let got: Vec<f64> = row.get(0);
        for (g, want) in got.iter().zip(probabilities[1].as_array().unwrap()) {
            assert!(
                (g - want.as_f64().unwrap()).abs() < 1e-12,
                "{got:?} vs {probabilities}"
            );
        }
        assert_eq!(row.get::<_, &str>(1), label[1].as_str().unwrap());
    }
    server.stop();
}

#[tokio::test]
async fn stages_events_and_drop_are_recorded() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE points AS SELECT x, CAST(x > 5 AS BIGINT) AS y FROM (VALUES (1.0), (2.0), (3.0), (4.0), (5.0), (6.0), (7.0), (8.0), (9.0), (10.0)) AS t(x);
             CREATE MODEL m OPTIONS (model_type = 'logistic_reg', input_label_cols = ['y']) AS SELECT x, y FROM points;
             CREATE OR REPLACE MODEL m OPTIONS (model_type = 'logistic_reg', input_label_cols = ['y'], max_iterations = 5) AS SELECT x, y FROM points;
             ALTER MODEL m SET STAGE 'production' VERSION 1;
             ALTER MODEL m SET STAGE 'production' VERSION 2;",
        )
        .await
        .unwrap();
    let stages: Vec<(i64, String)> = client
        .query(
            "SELECT version, stage FROM ml.model_versions WHERE model = 'm' ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        stages,
        vec![(1, "Archived".to_string()), (2, "Production".to_string())]
    );
    let used = client
        .query_one(
            "SELECT predict('m@1', 9.0) = predict('m', 9.0) FROM points LIMIT 1",
            &[],
        )
        .await;
    assert!(used.is_ok(), "{used:?}");
    let events: Vec<String> = client
        .query(
            "SELECT event FROM ml.model_events WHERE model = 'm' ORDER BY seq",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        events,
        [
            "registered",
            "registered",
            "stage_changed",
            "stage_changed",
            "stage_changed"
        ]
    );
    let runs = client
        .query_one("SELECT count(*) FROM ml.runs WHERE model = 'm'", &[])
        .await
        .unwrap();
    assert_eq!(runs.get::<_, i64>(0), 2);
    let steps = client
        .query_one(
            "SELECT max(step) FROM ml.run_metrics WHERE name = 'training_loss'",
            &[],
        )
        .await
        .unwrap();
    assert!(steps.get::<_, i64>(0) >= 5);
    let shown = client.simple_query("SHOW MODELS").await.unwrap();
    assert!(!shown.is_empty());
    client.batch_execute("DROP MODEL m").await.unwrap();
    let err = client
        .query("SELECT predict('m', x) FROM points", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42704", "{err}");
    assert!(
        client
            .execute(
                "INSERT INTO ml.model_events SELECT * FROM ml.model_events",
                &[]
            )
            .await
            .is_err()
    );
    server.stop();
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_the_server_keeps_serving() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE t AS SELECT * FROM (VALUES (1.0, 'a', 0), (2.0, 'b', 1), (3.0, 'a', 0), (4.0, 'b', 1)) AS v(x, c, y);
             CREATE MODEL ok OPTIONS (model_type = 'logistic_reg', input_label_cols = ['y']) AS SELECT x, c, y FROM t;",
        )
        .await
        .unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "SELECT predict('nope', x, c) FROM t",
            "42704",
            "does not exist",
        ),
        ("SELECT predict('ok', x) FROM t", "22023", "takes 2"),
        ("SELECT predict('ok', c, x) FROM t", "22023", "must be"),
        ("SELECT predict('ok', y, c) FROM t", "22023", "(x, c)"),
        (
            "SELECT predict('ok', CAST('NaN' AS DOUBLE), c) FROM t",
            "22023",
            "NaN",
        ),
        ("SELECT predict('ok@9', x, c) FROM t", "42704", "no version"),
        (
            "CREATE MODEL bad OPTIONS (model_type = 'logistic_reg', input_label_cols = ['missing']) AS SELECT x, y FROM t",
            "42703",
            "missing",
        ),
        (
            "CREATE MODEL bad OPTIONS (model_type = 'logistic_reg', input_label_cols = ['y']) AS SELECT x, y FROM t WHERE x > 100",
            "22023",
            "no rows",
        ),
        (
            "CREATE MODEL bad OPTIONS (model_type = 'logistic_reg', input_label_cols = ['y']) AS SELECT x, y FROM t WHERE y = 1",
            "22023",
            "single class",
        ),
        (
            "CREATE MODEL bad OPTIONS (model_type = 'logistic_reg', max_iter = 3) AS SELECT x, y FROM t",
            "22023",
            "max_iter",
        ),
        (
            "CREATE MODEL bad OPTIONS (model_type = 'linear_reg', input_label_cols = ['c']) AS SELECT x, c FROM t",
            "22023",
            "numeric label",
        ),
        (
            "CREATE MODEL ok OPTIONS (model_type = 'logistic_reg', input_label_cols = ['y']) AS SELECT x, c, y FROM t",
            "42710",
            "already exists",
        ),
        (
            "CREATE MODEL bad OPTIONS (model_type = 'linear_reg') AS SELECT x, y FROM t; SELECT 1",
            "42703",
            "label",
        ),
        (
            "CREATE MODEL imported FROM '/nonexistent/model'",
            "22023",
            "cannot read",
        ),
    ];
    for (sql, code, fragment) in cases {
        let err = client.batch_execute(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), *code, "{sql}: {err:?}");
        let message = err
            .as_db_error()
            .map(|e| e.message().to_string())
            .unwrap_or_default();
        assert!(message.contains(fragment), "{sql}: {message}");
    }
    let still = client
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap();
    assert_eq!(still.get::<_, i64>(0), 4);
    let models = client
        .query_one("SELECT count(*) FROM ml.models", &[])
        .await
        .unwrap();
    assert_eq!(models.get::<_, i64>(0), 1);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_shows_training_progress_and_cancel_registers_nothing() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    load_split(&client, "digits", "digits", "0").await;
    let output = std::process::Command::new("psql")
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres"])
        .args(["-p", &server.port.to_string()])
        .args([
            "-c",
            "CREATE MODEL quick OPTIONS (model_type = 'logistic_reg', input_label_cols = ['target'], \
             max_iterations = 3, early_stop = false) AS SELECT p3_3, p4_4, target FROM digits",
        ])
        .output()
        .expect("run psql");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("NOTICE:  iteration 3/3: training loss"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("quick"));

    let cancel = client.cancel_token();
    let training = tokio::spawn(async move {
        client
            .batch_execute(
                "CREATE MODEL slow OPTIONS (model_type = 'mlp_classifier', input_label_cols = ['target'], \
                 max_iterations = 100000, early_stop = false) AS SELECT * FROM digits",
            )
            .await
    });
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    cancel.cancel_query(tokio_postgres::NoTls).await.unwrap();
    let err = tokio::time::timeout(std::time::Duration::from_secs(30), training)
        .await
        .expect("cancel stops training")
        .unwrap()
        .unwrap_err();
    assert_eq!(sqlstate(&err), "57014", "{err:?}");
    let client = server.connect().await;
    let models: Vec<String> = client
        .query("SELECT model FROM ml.models ORDER BY model", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(models, ["quick"]);
    // The cancelled run is recorded by a task of its own, shortly after the cancel.
    let mut statuses = Vec::new();
    for _ in 0..50 {
        statuses = client
            .query("SELECT model, status FROM ml.runs ORDER BY started_at", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
            .collect();
        if statuses.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        statuses,
        [
            ("quick".to_string(), "succeeded".to_string()),
            ("slow".to_string(), "cancelled".to_string())
        ]
    );
    server.stop();
}

#[tokio::test]
async fn model_drift_compares_new_data_with_the_training_profile() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    let models = repo().join("tests/oracle/golden/models");
    for name in ["drift_train", "drift_current"] {
        client
            .batch_execute(&format!(
                "CREATE EXTERNAL TABLE {name} STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
                models.join(format!("{name}.csv")).display()
            ))
            .await
            .unwrap();
    }
    client
        .batch_execute(
            "CREATE MODEL watched OPTIONS (model_type = 'logistic_reg', input_label_cols = ['y'], \
             data_split_method = 'no_split', max_iterations = 5) AS SELECT x, c, y FROM drift_train",
        )
        .await
        .unwrap();
    let rows = client
        .query(
            "SELECT column, kind, CAST(n_ref AS BIGINT), CAST(n_cur AS BIGINT), null_share_ref, null_share_cur, method, statistic, \
             p_value, psi, threshold, drifted FROM model_drift('watched', 'SELECT * FROM drift_current')",
            &[],
        )
        .await
        .unwrap();
    let expected = golden("drift_expected.json");
    let expected = expected["rows"]
        .as_array()
        .or_else(|| expected.as_array())
        .unwrap()
        .clone();
    assert_eq!(rows.len(), expected.len());
    let close = |got: f64, want: &Value, tolerance: f64| {
        let want = want.as_f64().unwrap();
        assert!(
            (got - want).abs() <= tolerance * want.abs().max(1e-300),
            "{got} vs {want}"
        );
    };
    for (row, want) in rows.iter().zip(&expected) {
        assert_eq!(row.get::<_, &str>(0), want["column"].as_str().unwrap());
        assert_eq!(row.get::<_, &str>(1), want["kind"].as_str().unwrap());
        assert_eq!(row.get::<_, i64>(2), want["n_ref"].as_i64().unwrap());
        assert_eq!(row.get::<_, i64>(3), want["n_cur"].as_i64().unwrap());
        close(row.get(4), &want["null_share_ref"], 1e-12);
        close(row.get(5), &want["null_share_cur"], 1e-12);
        assert_eq!(row.get::<_, &str>(6), want["method"].as_str().unwrap());
        close(row.get(7), &want["statistic"], 1e-9);
        close(row.get(8), &want["p_value"], 1e-6);
        close(row.get(9), &want["psi"], 1e-9);
        close(row.get(10), &want["threshold"], 0.0);
        assert_eq!(row.get::<_, bool>(11), want["drifted"].as_bool().unwrap());
    }
    server.stop();
}

#[test]
fn the_readme_models_quickstart_runs() {
    let (_guard, dir) = temp_data_dir();
    let output = std::process::Command::new(common::QUIVER)
        .current_dir(repo())
        .args(["sql", "--data-dir"])
        .arg(&dir)
        .args(["-f", "sql/models_quickstart.sql"])
        .output()
        .expect("run quiver sql");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("NOTICE:  iteration 1/200"), "{stderr}");
    // A CUDA build runs where a GPU is; falling back to the CPU there would hide a broken build.
    let device = if cfg!(feature = "cuda") {
        "cuda:0"
    } else {
        "cpu"
    };
    assert!(
        stderr.contains(&format!("4 features → 4 inputs, on {device}")),
        "{stderr}"
    );
    assert!(
        stdout.contains("| 101 | virginica  | virginica  |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| flowers | 1       | Production |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| sepal_length | psi    | true    |"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_damaged_artifact_is_refused_not_served() {
    let (_guard, dir) = temp_data_dir();
    let server = Server::start(&dir);
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE pts AS SELECT * FROM (VALUES (1.0, 0), (2.0, 0), (3.0, 1), (4.0, 1)) AS v(x, y);
             CREATE MODEL fragile OPTIONS (model_type = 'logistic_reg', input_label_cols = ['y']) AS SELECT x, y FROM pts;",
        )
        .await
        .unwrap();
    drop(client);
    server.stop();
    let weights = dir.join("models/fragile/1/model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&weights, bytes).unwrap();
    let server = Server::start(&dir);
    let client = server.connect().await;
    let err = client
        .query("SELECT predict('fragile', x) FROM pts", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "XX001", "{err:?}");
    assert!(err.as_db_error().unwrap().message().contains("SHA-256"));
    assert_eq!(
        client.query("SELECT x FROM pts", &[]).await.unwrap().len(),
        4
    );
    server.stop();
}
