//! Foundation figures, each next to a baseline measured in the same run:
//! - prepared `SELECT 1` over loopback pgwire vs. a bare TCP echo round trip (the network floor);
//! - single-row INSERT commits through SQL vs. direct deltalake appends of one row;
//! - a 1M-row `INSERT ... SELECT` and a 1M-row COPY FROM STDIN vs. DataFusion writing the same
//!   rows to one Parquet file (no transaction log).
//!
//! cargo bench --bench foundation     (prints p50/p99 and rows/s lines as well)

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

mod pgwire;
use pgwire::percentiles;

struct Fixture {
    _dir: tempfile::TempDir,
    client: tokio_postgres::Client,
    engine_dir: std::path::PathBuf,
}

fn start_server(runtime: &Runtime) -> Fixture {
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let engine_dir = dir.path().join("data");
        let engine = Arc::new(quiver::Engine::open(&engine_dir).await.unwrap());
        let client = pgwire::serve(engine).await;
        Fixture {
            _dir: dir,
            client,
            engine_dir,
        }
    })
}

async fn echo_pair() -> tokio::net::TcpStream {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.set_nodelay(true).unwrap();
        let mut buffer = [0u8; 64];
        while let Ok(n) = socket.read(&mut buffer).await {
            if n == 0 || socket.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    });
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

fn select_one_latency(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let fixture = start_server(&runtime);
    let statement = runtime
        .block_on(fixture.client.prepare("SELECT 1"))
        .unwrap();
    let mut echo = runtime.block_on(echo_pair());

    let mut group = c.benchmark_group("round_trip");
    group.bench_function("prepared_select_1", |b| {
        b.to_async(&runtime)
            .iter(|| async { fixture.client.query_one(&statement, &[]).await.unwrap() })
    });
    group.bench_function("baseline_tcp_echo", |b| {
        b.iter(|| {
            runtime.block_on(async {
                echo.write_all(b"ping").await.unwrap();
                let mut reply = [0u8; 4];
                echo.read_exact(&mut reply).await.unwrap();
            })
        })
    });
    group.finish();

    let samples = 10_000;
    let (query_p50, query_p99) = percentiles(runtime.block_on(async {
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let start = Instant::now();
            fixture.client.query_one(&statement, &[]).await.unwrap();
            times.push(start.elapsed());
        }
        times
    }));
    let (echo_p50, echo_p99) = percentiles(runtime.block_on(async {
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let start = Instant::now();
            echo.write_all(b"ping").await.unwrap();
            let mut reply = [0u8; 4];
            echo.read_exact(&mut reply).await.unwrap();
            times.push(start.elapsed());
        }
        times
    }));
    println!(
        "prepared SELECT 1: p50 {query_p50:?} p99 {query_p99:?}; tcp echo baseline: p50 {echo_p50:?} \
         p99 {echo_p99:?}; ratio p50 {:.1}x",
        query_p50.as_secs_f64() / echo_p50.as_secs_f64()
    );
}

fn writes(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let fixture = start_server(&runtime);
    runtime
        .block_on(fixture.client.batch_execute(
            "CREATE TABLE single (id BIGINT, note TEXT);
             CREATE TABLE bulk (id BIGINT, note TEXT);
             CREATE TABLE copied (id BIGINT, note TEXT);",
        ))
        .unwrap();
    let insert = runtime
        .block_on(
            fixture
                .client
                .prepare("INSERT INTO single VALUES ($1, 'x')"),
        )
        .unwrap();

    // Direct deltalake appends of the same one-row batch: the storage floor for a commit.
    let raw_table = runtime.block_on(async {
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        let dir = fixture.engine_dir.join("raw-delta");
        std::fs::create_dir_all(&dir).unwrap();
        let url = url::Url::from_directory_path(&dir).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("note", DataType::Utf8, true),
        ]));
        let table = deltalake::DeltaTable::try_from_url(url).await.unwrap();
        let empty = datafusion::arrow::record_batch::RecordBatch::new_empty(schema);
        table.write(vec![empty]).await.unwrap()
    });
    let one_row = {
        use datafusion::arrow::array::{Int64Array, StringArray};
        let schema = raw_table.snapshot().unwrap().snapshot().arrow_schema();
        datafusion::arrow::record_batch::RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1])),
                Arc::new(StringArray::from(vec!["x"])),
            ],
        )
        .unwrap()
    };

    let mut group = c.benchmark_group("commit");
    group.sample_size(30);
    let mut id = 0i64;
    group.bench_function("sql_single_row_insert", |b| {
        b.iter(|| {
            id += 1;
            runtime
                .block_on(fixture.client.execute(&insert, &[&id]))
                .unwrap()
        })
    });
    let mut table = Some(raw_table);
    group.bench_function("baseline_deltalake_append", |b| {
        b.iter(|| {
            let current = table.take().unwrap();
            table = Some(
                runtime
                    .block_on(current.write(vec![one_row.clone()]).into_future())
                    .unwrap(),
            );
        })
    });
    group.finish();

    let rows = 1_000_000;
    let timed = |sql: String| {
        let start = Instant::now();
        runtime
            .block_on(fixture.client.batch_execute(&sql))
            .unwrap();
        start.elapsed()
    };
    let insert_select = timed(format!(
        "INSERT INTO bulk SELECT value, 'row' FROM generate_series(1, {rows})"
    ));
    let parquet = fixture.engine_dir.join("baseline.parquet");
    let baseline = timed(format!(
        "COPY (SELECT value AS id, 'row' AS note FROM generate_series(1, {rows})) TO '{}' (FORMAT parquet)",
        parquet.display()
    ));
    let csv: String = (0..rows).map(|i| format!("{i},row\n")).collect();
    let copy = runtime.block_on(async {
        let start = Instant::now();
        let sink = fixture
            .client
            .copy_in("COPY copied FROM STDIN (FORMAT csv)")
            .await
            .unwrap();
        futures::pin_mut!(sink);
        for chunk in csv.as_bytes().chunks(1 << 20) {
            sink.send(bytes::Bytes::copy_from_slice(chunk))
                .await
                .unwrap();
        }
        sink.finish().await.unwrap();
        start.elapsed()
    });
    let per_second = |d: Duration| rows as f64 / d.as_secs_f64();
    println!(
        "1M-row INSERT ... SELECT: {:.0} rows/s; COPY FROM STDIN (csv): {:.0} rows/s; baseline \
         DataFusion -> one Parquet file: {:.0} rows/s (INSERT/baseline {:.2}, COPY/baseline {:.2})",
        per_second(insert_select),
        per_second(copy),
        per_second(baseline),
        per_second(insert_select) / per_second(baseline),
        per_second(copy) / per_second(baseline),
    );
}

criterion_group!(benches, select_one_latency, writes);
criterion_main!(benches);
