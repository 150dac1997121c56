//! `quiver sql`: scripts and one-off statements with no server.

mod common;

use std::process::Command;

use common::{QUIVER, temp_data_dir};

fn quiver_sql(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(QUIVER)
        .args(["sql", "--data-dir"])
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn scripts_tables_csv_and_errors() {
    let (dir, data) = temp_data_dir();
    let script = dir.path().join("load.sql");
    std::fs::write(
        &script,
        "CREATE TABLE t (id INT, label TEXT);\n\
         INSERT INTO t VALUES (1, 'one'), (2, 'two, with comma');\n\
         SELECT id, label FROM t ORDER BY id;\n",
    )
    .unwrap();
    let output = quiver_sql(&data, &["-f", script.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("CREATE TABLE\nINSERT 0 2\n"), "{stdout}");
    assert!(stdout.contains("| 2  | two, with comma |"), "{stdout}");
    assert!(stdout.trim_end().ends_with("(2 rows)"), "{stdout}");

    // The rows were durable: a second run over the same directory reads them as CSV.
    let output = quiver_sql(
        &data,
        &["--csv", "-c", "SELECT id, label FROM t ORDER BY id"],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "id,label\n1,one\n2,\"two, with comma\"\n"
    );

    // The first error stops the script, names the SQLSTATE, and exits non-zero.
    let output = quiver_sql(
        &data,
        &[
            "-c",
            "INSERT INTO t VALUES (3, 'three'); SELECT * FROM missing; INSERT INTO t VALUES (4, 'four')",
        ],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("SQLSTATE 42P01"), "{stderr}");
    let output = quiver_sql(&data, &["--csv", "-c", "SELECT max(id) AS top FROM t"]);
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "top\n3\n");
}
