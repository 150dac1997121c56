//! The psql client as people use it: catalog commands, \copy, \timing and scripts with -f.

mod common;

use std::process::Command;

use common::{Server, temp_data_dir};

fn psql(server: &Server, args: &[&str], input: Option<&str>) -> String {
    let mut command = Command::new("psql");
    command
        .args([
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ])
        .args(["-p", &server.port.to_string()])
        .args(args)
        .env("PGCONNECT_TIMEOUT", "10");
    let output = match input {
        Some(text) => {
            use std::io::Write;
            let mut child = command
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("psql must be installed (apt-get install postgresql-client)");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        }
        None => command
            .output()
            .expect("psql must be installed (apt-get install postgresql-client)"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "psql failed: {stderr}\n{stdout}");
    stdout
}

#[test]
fn catalog_commands_copy_and_scripts() {
    let (dir, data) = temp_data_dir();
    let server = Server::start(&data);

    let script = dir.path().join("setup.sql");
    std::fs::write(
        &script,
        "CREATE SCHEMA analytics;\n\
         CREATE TABLE customers (id BIGINT NOT NULL, name TEXT, signup DATE, score DOUBLE PRECISION);\n\
         INSERT INTO customers VALUES (1, 'Ann', '2026-01-05', 0.5);\n\
         -- a comment between statements\n\
         INSERT INTO customers VALUES (2, 'Bo;b', '2026-02-06', NULL);\n",
    )
    .unwrap();
    let out = psql(&server, &["-f", script.to_str().unwrap()], None);
    assert!(
        out.contains("CREATE TABLE") && out.contains("INSERT 0 1"),
        "{out}"
    );

    let out = psql(&server, &["-c", "\\dt"], None);
    assert!(out.contains("customers") && out.contains("table"), "{out}");

    let out = psql(&server, &["-c", "\\d customers"], None);
    for expected in [
        "id",
        "bigint",
        "not null",
        "name",
        "text",
        "signup",
        "date",
        "score",
        "double precision",
    ] {
        assert!(out.contains(expected), "\\d output lacks {expected}: {out}");
    }

    let out = psql(&server, &["-c", "\\dn"], None);
    assert!(out.contains("analytics") && out.contains("public"), "{out}");

    let out = psql(&server, &["-c", "\\l"], None);
    assert!(out.contains("datafusion"), "{out}");

    let csv = dir.path().join("more.csv");
    std::fs::write(
        &csv,
        "id,name,signup,score\n3,Cy,2026-03-07,1.5\n4,\"Di, Jr\",,\n",
    )
    .unwrap();
    let out = psql(
        &server,
        &[],
        Some(&format!(
            "\\timing on\n\\copy customers FROM '{}' CSV HEADER\nSELECT count(*) AS n FROM customers;\n",
            csv.display()
        )),
    );
    assert!(out.contains("COPY 2"), "{out}");
    assert!(out.contains("Time:"), "{out}");
    let out = psql(
        &server,
        &["-A", "-t", "-c", "SELECT name FROM customers ORDER BY id"],
        None,
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["Ann", "Bo;b", "Cy", "Di, Jr"]
    );
}
