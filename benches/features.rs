//! Feature store figures, each next to a baseline measured in the same run:
//! - `ASOF JOIN`, 1M label rows × 10M feature rows over 100k entities, against the same answer
//!   computed the way DataFusion alone can (a range join and `row_number()`), seconds and peak
//!   memory;
//! - `features_at_time` with 3 views of 3M rows (one with a TTL) for the same 1M labels;
//! - `online_features` one-key lookups over loopback pgwire (prepared, p50/p99) against a
//!   prepared `SELECT 1` on the same connection.
//!
//! `benches/features_duckdb.py` times DuckDB's ASOF JOIN on identical data (the same integer
//! formulas) and prints the same checksums.
//!
//! cargo bench --bench features     (prints seconds, peak-memory and p50/p99 lines as well)

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use tokio::runtime::Runtime;

mod pgwire;
use pgwire::percentiles;

const ASOF: &str = "SELECT count(*), sum(f.v) FROM labels l \
    ASOF JOIN feats f ON l.k = f.k AND l.ts >= f.ts";

/// What DataFusion alone can do: every earlier feature row of the entity, then the latest.
const WINDOW_REWRITE: &str = "SELECT count(*), sum(v) FROM (\
    SELECT l.lid, f.v, row_number() OVER (PARTITION BY l.lid ORDER BY f.ts DESC) AS rn \
    FROM labels l LEFT JOIN feats f ON l.k = f.k AND f.ts <= l.ts) WHERE rn = 1";

const AT_TIME: &str = "SELECT count(*), sum(view1__x), sum(view2__x), sum(view3__x) \
    FROM features_at_time('SELECT lid, k, ts FROM labels', 'view1', 'view2', 'view3')";

const SETUP: &str = "
    CREATE TABLE feats AS SELECT value % 100000 AS k,
        to_timestamp_seconds((value * 7919) % 100000000) AS ts, (value % 1000) / 10.0 AS v
        FROM generate_series(0, 9999999);
    CREATE TABLE labels AS SELECT value AS lid, (value * 37) % 100000 AS k,
        to_timestamp_seconds((value * 104729) % 100000000 + 500) AS ts
        FROM generate_series(0, 999999);
    CREATE FEATURE VIEW view1 ENTITY (k) TIMESTAMP (ts) AS SELECT value % 100000 AS k,
        to_timestamp_seconds((value * 7919) % 100000000) AS ts, (value % 997) * 1.0 AS x
        FROM generate_series(0, 2999999);
    CREATE FEATURE VIEW view2 ENTITY (k) TIMESTAMP (ts) TTL INTERVAL '30 days' AS
        SELECT value % 100000 AS k, to_timestamp_seconds((value * 6151) % 100000000) AS ts,
        (value % 997) * 1.0 AS x FROM generate_series(0, 2999999);
    CREATE FEATURE VIEW view3 ENTITY (k) TIMESTAMP (ts) AS SELECT value % 100000 AS k,
        to_timestamp_seconds((value * 3571) % 100000000) AS ts, (value % 997) * 1.0 AS x
        FROM generate_series(0, 2999999);";

/// The process's resident and peak resident memory, in MiB (Linux).
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs `sql` `runs` times; prints the best time, the peak memory it added and its answer.
fn timed(
    runtime: &Runtime,
    engine: &quiver::Engine,
    (label, runs): (&str, usize),
    sql: &str,
) -> Vec<String> {
    // Writing 5 to clear_refs resets the peak (VmHWM) to the current resident size.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (before, _) = memory();
    let mut best = Duration::MAX;
    let mut answer = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let batches: Vec<RecordBatch> = runtime.block_on(engine.query(sql)).unwrap();
        best = best.min(start.elapsed());
        answer = batches[0]
            .columns()
            .iter()
            .map(|c| array_value_to_string(c, 0).unwrap())
            .collect();
    }
    let (_, peak) = memory();
    println!(
        "{label}: best {:.3} s, peak memory +{:.0} MiB, answer {answer:?}",
        best.as_secs_f64(),
        peak - before
    );
    answer
}

fn features(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(
        runtime
            .block_on(quiver::Engine::open(dir.path().join("data")))
            .unwrap(),
    );
    let start = Instant::now();
    runtime.block_on(engine.sql(SETUP)).unwrap();
    println!(
        "setup (10M + 1M rows, 3 views of 3M): {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let asof = timed(&runtime, &engine, ("asof join 1M x 10M", 3), ASOF);
    // The rewrite sorts ~50M joined rows; once is enough to see the difference.
    let rewrite = timed(
        &runtime,
        &engine,
        ("baseline: range join + row_number()", 1),
        WINDOW_REWRITE,
    );
    let sum = |answer: &[String]| answer[1].parse::<f64>().unwrap();
    assert!(
        asof[0] == rewrite[0] && (sum(&asof) - sum(&rewrite)).abs() <= 1e-9 * sum(&asof).abs(),
        "the ASOF JOIN and its rewrite disagree: {asof:?} vs {rewrite:?}"
    );
    timed(
        &runtime,
        &engine,
        ("features_at_time 1M labels x 3 views x 3M", 3),
        AT_TIME,
    );

    let mut group = c.benchmark_group("feature_store");
    group.sample_size(10);
    group.bench_function("asof_join_1m_x_10m", |b| {
        b.iter(|| runtime.block_on(engine.query(ASOF)).unwrap())
    });
    group.bench_function("features_at_time_3_views", |b| {
        b.iter(|| runtime.block_on(engine.query(AT_TIME)).unwrap())
    });
    group.finish();

    online_latency(c, &runtime, engine);
}

fn online_latency(c: &mut Criterion, runtime: &Runtime, engine: Arc<quiver::Engine>) {
    let client = runtime.block_on(pgwire::serve(engine));
    let lookup = runtime
        .block_on(client.prepare("SELECT * FROM online_features('view1', $1)"))
        .unwrap();
    let select_one = runtime.block_on(client.prepare("SELECT 1")).unwrap();

    let mut group = c.benchmark_group("online");
    let mut key = 0i64;
    group.bench_function("online_features_one_key", |b| {
        b.to_async(runtime).iter(|| {
            key = (key + 7919) % 100_000;
            let (client, lookup) = (&client, &lookup);
            async move { client.query(lookup, &[&key]).await.unwrap() }
        })
    });
    group.bench_function("baseline_prepared_select_1", |b| {
        b.to_async(runtime)
            .iter(|| async { client.query_one(&select_one, &[]).await.unwrap() })
    });
    group.finish();

    let samples = 10_000;
    let (lookup_p50, lookup_p99) = percentiles(runtime.block_on(async {
        let mut times = Vec::with_capacity(samples);
        for i in 0..samples as i64 {
            let key = (i * 7919) % 100_000;
            let start = Instant::now();
            let rows = client.query(&lookup, &[&key]).await.unwrap();
            times.push(start.elapsed());
            assert_eq!(rows.len(), 1);
        }
        times
    }));
    let (one_p50, one_p99) = percentiles(runtime.block_on(async {
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let start = Instant::now();
            client.query_one(&select_one, &[]).await.unwrap();
            times.push(start.elapsed());
        }
        times
    }));
    println!(
        "online_features one key: p50 {lookup_p50:?} p99 {lookup_p99:?}; prepared SELECT 1 \
         baseline: p50 {one_p50:?} p99 {one_p99:?}; ratio p50 {:.2}x",
        lookup_p50.as_secs_f64() / one_p50.as_secs_f64()
    );
}

criterion_group!(benches, features);
criterion_main!(benches);
