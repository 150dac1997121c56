//! The `quiver` command: `quiver serve` runs the Postgres-wire server, `quiver sql` runs SQL
//! against a data directory with no server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use quiver::cli::{OutputFormat, SqlSource};

#[derive(Parser)]
#[command(name = "quiver", version, about = "SQL-native machine-learning engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the data directory over the PostgreSQL wire protocol.
    Serve {
        /// Directory holding tables and metadata; created on first start.
        #[arg(long, default_value = "./quiver-data")]
        data_dir: PathBuf,
        /// Address to listen on (port 5433 leaves a local PostgreSQL on 5432 alone).
        #[arg(long, default_value = "127.0.0.1:5433")]
        listen: String,
    },
    /// Run SQL against the data directory without a server.
    Sql {
        #[arg(long, default_value = "./quiver-data")]
        data_dir: PathBuf,
        /// A script file of `;`-separated statements.
        #[arg(short = 'f', long = "file", conflicts_with = "command")]
        file: Option<PathBuf>,
        /// One or more `;`-separated statements.
        #[arg(short = 'c', long = "command")]
        command: Option<String>,
        /// Print results as CSV instead of aligned tables.
        #[arg(long)]
        csv: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "quiver=info,warn,buoyant_kernel=off".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("quiver: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve { data_dir, listen } => {
            runtime.block_on(quiver::server::run(&data_dir, &listen))
        }
        Command::Sql {
            data_dir,
            file,
            command,
            csv,
        } => {
            let source = match (file, command) {
                (Some(path), None) => SqlSource::File(path),
                (None, Some(text)) => SqlSource::Text(text),
                _ => {
                    eprintln!("quiver sql: give exactly one of -f FILE or -c SQL");
                    return ExitCode::from(2);
                }
            };
            let format = if csv {
                OutputFormat::Csv
            } else {
                OutputFormat::Table
            };
            runtime.block_on(quiver::cli::run_sql(&data_dir, source, format))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quiver: {e}");
            ExitCode::FAILURE
        }
    }
}
