//! Starts the real `quiver` binary on a free port over a temporary data directory.
#![allow(dead_code)] // each test binary uses a different part of this harness

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tokio_postgres::{Client, NoTls};

pub const QUIVER: &str = env!("CARGO_BIN_EXE_quiver");

pub struct Server {
    child: Child,
    pub address: String,
    pub port: u16,
}

impl Server {
    /// Starts `quiver serve` on an OS-chosen port and waits until it listens.
    pub fn start(data_dir: &Path) -> Server {
        let mut child = Command::new(QUIVER)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "quiver=info,warn,buoyant_kernel=off")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start quiver serve");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (found, address) = mpsc::channel();
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1)
                    && let Some(sender) = found.take()
                {
                    let _ = sender.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
                eprintln!("[quiver] {line}");
            }
        });
        let address = address
            .recv_timeout(Duration::from_secs(60))
            .expect("quiver serve did not report its address");
        let port = address.rsplit(':').next().unwrap().parse().unwrap();
        Server {
            child,
            address,
            port,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub async fn connect(&self) -> Client {
        let config = format!("host=127.0.0.1 port={} user=postgres", self.port);
        let (client, connection) = tokio_postgres::connect(&config, NoTls)
            .await
            .expect("connect to quiver");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("send SIGTERM");
        assert!(status.success());
        let exit = wait_with_timeout(&mut self.child, Duration::from_secs(60));
        assert!(exit.success(), "quiver exited with {exit:?} after SIGTERM");
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL quiver");
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for quiver") {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "quiver did not exit in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn temp_data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    (dir, data)
}

/// The SQLSTATE of a failed statement.
pub fn sqlstate(error: &tokio_postgres::Error) -> String {
    error
        .code()
        .map(|c| c.code().to_string())
        .unwrap_or_else(|| panic!("no SQLSTATE in {error:?}"))
}
