//! Throughput of the quiver-udfs statistics, each next to a baseline measured in the same run:
//! - every two-sample aggregate over 10M reference + 10M current rows, on one partition and on
//!   all cores, against `SELECT count(*), sum(x)` over the same table (a plain scan);
//! - KS and Wasserstein, which must sort, also against sorting the 20M values;
//! - `drift_report` over a 30-column, 1M-row table pair.
//!
//! cargo bench --bench statistics        (prints rows/s and ratio lines; `benches/statistics_scipy.py`
//!                                        times numpy/scipy on data of the same shape)

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use tokio::runtime::Runtime;

mod support;
use support::Normals;

const ROWS_PER_SAMPLE: usize = 10_000_000;
const BATCH: usize = 65_536;

/// 10M reference rows N(0, 1) and 10M current rows N(0.1, 1.1²), with a 20-level category as
/// `Utf8View` (how Quiver's tables and Parquet deliver text) and as `Utf8` (CSV, memory tables).
fn two_sample_table(partitions: usize) -> (MemTable, Vec<f64>) {
    let mut normals = Normals(0x9E37_79B9_7F4A_7C15);
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("category", DataType::Utf8View, false),
        Field::new("category_utf8", DataType::Utf8, false),
        Field::new("is_ref", DataType::Boolean, false),
    ]));
    let levels: Vec<String> = (0..20).map(|level| format!("level_{level}")).collect();
    let mut all_values = Vec::with_capacity(2 * ROWS_PER_SAMPLE);
    let mut batches = Vec::new();
    for is_reference in [true, false] {
        let (shift, scale) = if is_reference { (0.0, 1.0) } else { (0.1, 1.1) };
        let mut remaining = ROWS_PER_SAMPLE;
        while remaining > 0 {
            let rows = remaining.min(BATCH);
            remaining -= rows;
            let values: Vec<f64> = (0..rows).map(|_| shift + scale * normals.next()).collect();
            all_values.extend_from_slice(&values);
            let categories: Vec<&str> = values
                .iter()
                .map(|v| levels[((v * 4.0 + 10.0).clamp(0.0, 19.0)) as usize].as_str())
                .collect();
            batches.push(
                RecordBatch::try_new(
                    Arc::clone(&schema),
                    vec![
                        Arc::new(Float64Array::from(values)) as ArrayRef,
                        Arc::new(StringViewArray::from(categories.clone())),
                        Arc::new(StringArray::from(categories)),
                        Arc::new(BooleanArray::from(vec![is_reference; rows])),
                    ],
                )
                .unwrap(),
            );
        }
    }
    let mut parts = vec![Vec::new(); partitions];
    for (index, batch) in batches.into_iter().enumerate() {
        parts[index % partitions].push(batch);
    }
    (MemTable::try_new(schema, parts).unwrap(), all_values)
}

fn context(partitions: usize) -> SessionContext {
    let ctx =
        SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    quiver_udfs::register_all(&ctx);
    ctx
}

async fn run(ctx: &SessionContext, sql: &str) {
    ctx.sql(sql).await.unwrap().collect().await.unwrap();
}

fn median_seconds(runtime: &Runtime, ctx: &SessionContext, sql: &str) -> f64 {
    let mut times: Vec<f64> = (0..3)
        .map(|_| {
            let start = Instant::now();
            runtime.block_on(run(ctx, sql));
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[1]
}

const TWO_SAMPLE: &[(&str, &str)] = &[
    ("psi", "SELECT psi(x, is_ref) FROM t"),
    ("psi_pvalue", "SELECT psi_pvalue(x, is_ref) FROM t"),
    ("js_divergence", "SELECT js_divergence(x, is_ref) FROM t"),
    ("kl_divergence", "SELECT kl_divergence(x, is_ref) FROM t"),
    ("psi_categorical", "SELECT psi(category, is_ref) FROM t"),
    ("chi2_2samp", "SELECT chi2_2samp(category, is_ref) FROM t"),
    ("psi_cat_utf8", "SELECT psi(category_utf8, is_ref) FROM t"),
    ("ks_2samp", "SELECT ks_2samp(x, is_ref) FROM t"),
    ("wasserstein", "SELECT wasserstein(x, is_ref) FROM t"),
];
const SCAN: &str = "SELECT count(*), sum(x) FROM t";

fn two_sample(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rows = (2 * ROWS_PER_SAMPLE) as f64;
    for partitions in [1, cores] {
        let (table, values) = two_sample_table(partitions);
        let ctx = context(partitions);
        ctx.register_table("t", Arc::new(table)).unwrap();

        let mut group = c.benchmark_group(format!("two_sample_20M_rows_{partitions}_partitions"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
        group.bench_function("baseline_count_sum_scan", |b| {
            b.to_async(&runtime).iter(|| run(&ctx, SCAN))
        });
        for (name, sql) in TWO_SAMPLE {
            group.bench_function(*name, |b| b.to_async(&runtime).iter(|| run(&ctx, sql)));
        }
        group.finish();

        let scan = median_seconds(&runtime, &ctx, SCAN);
        let sort = {
            let mut copy = values.clone();
            let start = Instant::now();
            copy.sort_unstable_by(f64::total_cmp);
            start.elapsed().as_secs_f64()
        };
        println!(
            "\n{partitions} partition(s): scan baseline {:.0} rows/s; sort of the 20M values {sort:.2} s",
            rows / scan
        );
        for (name, sql) in TWO_SAMPLE {
            let seconds = median_seconds(&runtime, &ctx, sql);
            println!(
                "{partitions} partition(s): {name:<16} {:>12.0} rows/s  {:>5.2}x the scan  {:>5.2}x the sort",
                rows / seconds,
                seconds / scan,
                seconds / sort
            );
        }
    }
}

/// Two tables of 1M rows and 30 columns (25 numeric, 5 text), the current one shifted.
fn report_tables(ctx: &SessionContext) {
    const ROWS: usize = 1_000_000;
    let mut normals = Normals(42);
    let mut fields = Vec::new();
    for column in 0..30 {
        let data_type = if column < 25 {
            DataType::Float64
        } else {
            DataType::Utf8
        };
        fields.push(Field::new(format!("c{column}"), data_type, false));
    }
    let schema = Arc::new(Schema::new(fields));
    for (name, shift) in [("reference", 0.0), ("current", 0.05)] {
        let mut batches = Vec::new();
        let mut remaining = ROWS;
        while remaining > 0 {
            let rows = remaining.min(BATCH);
            remaining -= rows;
            let columns: Vec<ArrayRef> = (0..30)
                .map(|column| {
                    let values: Vec<f64> = (0..rows)
                        .map(|_| normals.next() + shift * column as f64 / 10.0)
                        .collect();
                    if column < 25 {
                        Arc::new(Float64Array::from(values)) as ArrayRef
                    } else {
                        Arc::new(StringArray::from(
                            values
                                .iter()
                                .map(|v| format!("k{}", (v * 3.0 + 10.0).clamp(0.0, 19.0) as u32))
                                .collect::<Vec<_>>(),
                        ))
                    }
                })
                .collect();
            batches.push(RecordBatch::try_new(Arc::clone(&schema), columns).unwrap());
        }
        let table = MemTable::try_new(Arc::clone(&schema), vec![batches]).unwrap();
        ctx.register_table(name, Arc::new(table)).unwrap();
    }
}

fn drift_report(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let ctx = context(cores);
    report_tables(&ctx);
    let report = "SELECT * FROM drift_report('SELECT * FROM reference', 'SELECT * FROM current')";
    let scan = "SELECT count(*) FROM (SELECT * FROM reference UNION ALL SELECT * FROM current)";
    let mut group = c.benchmark_group("drift_report_30_columns_1M_rows");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("drift_report", |b| {
        b.to_async(&runtime).iter(|| run(&ctx, report))
    });
    group.bench_function("baseline_scan_both", |b| {
        b.to_async(&runtime).iter(|| run(&ctx, scan))
    });
    group.finish();
    let seconds = median_seconds(&runtime, &ctx, report);
    println!(
        "\ndrift_report, 30 columns x 1M + 1M rows: {seconds:.2} s ({:.0} values/s)",
        60_000_000.0 / seconds
    );
}

criterion_group!(benches, two_sample, drift_report);
criterion_main!(benches);
