//! Models: scoring throughput, one-row latency and training time, each next to a baseline
//! measured in the same run:
//! - `predict_proba` of a 30-feature logistic model over 10M rows, against the same formula
//!   written by hand in SQL (`1/(1+exp(-(b + w1*(f1-m1)/s1 + ...)))`);
//! - one-row `predict_proba` over pgwire with a prepared statement, against prepared `SELECT 1`;
//! - training a 1M × 30 logistic model (100 full-batch iterations) and an MLP on digits.
//!
//! cargo bench --bench models     (prints the figures; `benches/models_sklearn.py` times
//!                                 scikit-learn on data of the same shape)

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use quiver::Engine;
use quiver::ml::model::Model;
use tokio::runtime::Runtime;

mod pgwire;
mod support;
use pgwire::percentiles;
use support::Normals;

const FEATURES: usize = 30;
const SCORED_ROWS: usize = 10_000_000;
const TRAINING_ROWS: usize = 1_000_000;
const BATCH: usize = 8_192;

fn feature_names() -> Vec<String> {
    (1..=FEATURES).map(|i| format!("f{i}")).collect()
}

/// `rows` rows of 30 features N(i/10, 1 + i/30) and a label drawn from a logistic model.
fn table(rows: usize, seed: u64, partitions: usize) -> MemTable {
    let mut normals = Normals(seed);
    let mut fields: Vec<Field> = feature_names()
        .iter()
        .map(|n| Field::new(n, DataType::Float64, false))
        .collect();
    fields.push(Field::new("y", DataType::Int64, false));
    let schema = Arc::new(Schema::new(fields));
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
    let mut made = 0;
    let mut part = 0;
    while made < rows {
        let n = BATCH.min(rows - made);
        made += n;
        let mut columns: Vec<Vec<f64>> = (0..FEATURES).map(|_| Vec::with_capacity(n)).collect();
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let mut logit = -0.5;
            for (i, column) in columns.iter_mut().enumerate() {
                let value = i as f64 / 10.0 + (1.0 + i as f64 / 30.0) * normals.next();
                logit += if i % 3 == 0 { 0.4 } else { -0.1 } * (value - i as f64 / 10.0);
                column.push(value);
            }
            labels.push(i64::from(normals.uniform() < 1.0 / (1.0 + (-logit).exp())));
        }
        let mut arrays: Vec<ArrayRef> = columns
            .into_iter()
            .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef)
            .collect();
        arrays.push(Arc::new(Int64Array::from(labels)));
        parts[part % partitions].push(RecordBatch::try_new(Arc::clone(&schema), arrays).unwrap());
        part += 1;
    }
    MemTable::try_new(schema, parts).unwrap()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut work: F) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                work();
                start.elapsed()
            })
            .collect(),
    )
}

/// The hand-written SQL of the trained model: the standardization and the single linear layer.
fn hand_written_formula(model: &Model) -> String {
    let weights: Vec<f64> = model.layers[0]
        .weight_t
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let bias: f64 = model.layers[0].bias.to_vec1::<f64>().unwrap()[0];
    let terms: Vec<String> = model
        .spec
        .features
        .iter()
        .zip(&weights)
        .map(|(f, w)| {
            format!(
                "{w:e} * ((\"{}\" - {:e}) / {:e})",
                f.name,
                f.mean.unwrap(),
                f.std.unwrap()
            )
        })
        .collect();
    format!("1.0 / (1.0 + exp(-({bias:e} + {})))", terms.join(" + "))
}

fn models(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(
        runtime
            .block_on(Engine::open(dir.path().join("data")))
            .unwrap(),
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ctx = engine.session_context();
    ctx.register_table("training", Arc::new(table(TRAINING_ROWS, 7, cores)))
        .unwrap();
    ctx.register_table("scored", Arc::new(table(SCORED_ROWS, 11, cores)))
        .unwrap();
    let features = feature_names().join(", ");

    let start = Instant::now();
    runtime
        .block_on(engine.sql(&format!(
            "CREATE MODEL bench OPTIONS (model_type = 'logistic_reg', input_label_cols = ['y'], \
             max_iterations = 100, early_stop = false, data_split_method = 'no_split') \
             AS SELECT {features}, y FROM training"
        )))
        .unwrap();
    let logistic_training = start.elapsed();

    let model = Model::load(&dir.path().join("data/models/bench/1"), None).unwrap();
    let predict_sql = format!("SELECT sum(predict_proba('bench', {features})) FROM scored");
    let hand_sql = format!("SELECT sum({}) FROM scored", hand_written_formula(&model));
    let check = |sql: &str| -> f64 {
        let batches = runtime.block_on(engine.query(sql)).unwrap();
        batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .value(0)
    };
    let (via_predict, via_hand) = (check(&predict_sql), check(&hand_sql));
    assert!(
        (via_predict - via_hand).abs() <= 1e-9 * via_hand.abs(),
        "{via_predict} vs {via_hand}"
    );
    let predict_time = time(5, || {
        check(&predict_sql);
    });
    let hand_time = time(5, || {
        check(&hand_sql);
    });
    let rate = |d: Duration| SCORED_ROWS as f64 / d.as_secs_f64() / 1e6;
    println!(
        "predict_proba, 30 features, 10M rows, {cores} partitions: {:.2} s = {:.1} M rows/s; hand-written SQL \
         formula: {:.2} s = {:.1} M rows/s; ratio (hand / predict) {:.2}x",
        predict_time.as_secs_f64(),
        rate(predict_time),
        hand_time.as_secs_f64(),
        rate(hand_time),
        hand_time.as_secs_f64() / predict_time.as_secs_f64()
    );

    let digits = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits.csv");
    runtime
        .block_on(engine.sql(&format!(
            "CREATE EXTERNAL TABLE digits STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true')",
            digits.display()
        )))
        .unwrap();
    let pixels: Vec<String> = (0..8)
        .flat_map(|r| (0..8).map(move |c| format!("p{r}_{c}")))
        .collect();
    let start = Instant::now();
    runtime
        .block_on(engine.sql(&format!(
            "CREATE MODEL digits OPTIONS (model_type = 'mlp_classifier', input_label_cols = ['target'], \
             hidden_units = [100], max_iterations = 200, batch_size = 200, early_stop = false, \
             data_split_method = 'no_split') AS SELECT {}, target FROM digits",
            pixels.join(", ")
        )))
        .unwrap();
    let mlp_training = start.elapsed();
    let newton_steps = runtime
        .block_on(engine.query("SELECT max(r.step) FROM ml.run_metrics r JOIN ml.runs USING (run_id) WHERE model = 'bench'"))
        .unwrap();
    println!(
        "training: logistic_reg 1M x 30 (Newton, {} iterations to convergence): {:.2} s; mlp_classifier \
         on digits (1797 x 64, hidden 100, 200 epochs of batch 200): {:.2} s",
        newton_steps[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0),
        logistic_training.as_secs_f64(),
        mlp_training.as_secs_f64()
    );

    // One-row scoring over pgwire, against prepared SELECT 1 on the same connection.
    let client = runtime.block_on(pgwire::serve(Arc::clone(&engine)));
    let placeholders: Vec<String> = (1..=FEATURES)
        .map(|i| format!("${i}::DOUBLE PRECISION"))
        .collect();
    let one_row = runtime
        .block_on(client.prepare(&format!(
            "SELECT predict_proba('bench', {})",
            placeholders.join(", ")
        )))
        .unwrap();
    let select_one = runtime.block_on(client.prepare("SELECT 1")).unwrap();
    let values: Vec<f64> = (0..FEATURES).map(|i| i as f64 / 10.0).collect();
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
        .iter()
        .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    let mut group = c.benchmark_group("one_row");
    group.bench_function("prepared_predict_proba", |b| {
        b.to_async(&runtime)
            .iter(|| async { client.query_one(&one_row, &params).await.unwrap() })
    });
    group.bench_function("baseline_prepared_select_1", |b| {
        b.to_async(&runtime)
            .iter(|| async { client.query_one(&select_one, &[]).await.unwrap() })
    });
    group.finish();
    let samples = 5_000;
    let measure = |statement: &tokio_postgres::Statement,
                   params: &[&(dyn tokio_postgres::types::ToSql + Sync)]| {
        percentiles(runtime.block_on(async {
            let mut times = Vec::with_capacity(samples);
            for _ in 0..samples {
                let start = Instant::now();
                client.query_one(statement, params).await.unwrap();
                times.push(start.elapsed());
            }
            times
        }))
    };
    let (predict_p50, predict_p99) = measure(&one_row, &params);
    let (one_p50, one_p99) = measure(&select_one, &[]);
    println!(
        "one-row predict_proba over pgwire (prepared): p50 {predict_p50:?} p99 {predict_p99:?}; prepared \
         SELECT 1: p50 {one_p50:?} p99 {one_p99:?}"
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = models
}
criterion_main!(benches);
