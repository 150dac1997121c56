//! What a running statement knows about who runs it and where its progress messages go: the
//! server sets this per statement, so training can send NOTICE messages that psql shows live.

use tokio::sync::mpsc::UnboundedSender;

#[derive(Clone, Debug, Default)]
pub struct StatementSession {
    /// The connecting user (Postgres `user`), recorded as who created or changed a model.
    pub user: Option<String>,
    /// Where NOTICE messages go; `None` where nobody listens (library use without a sink).
    pub notices: Option<UnboundedSender<String>>,
}

tokio::task_local! {
    static SESSION: StatementSession;
}

/// Runs `work` with `session` as the statement's session.
pub async fn scope<F: Future>(session: StatementSession, work: F) -> F::Output {
    SESSION.scope(session, work).await
}

/// The statement's session, or a default one outside [`scope`].
pub fn current() -> StatementSession {
    SESSION.try_with(Clone::clone).unwrap_or_default()
}

impl StatementSession {
    pub fn actor(&self) -> String {
        self.user
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "quiver".to_string())
    }

    pub fn notice(&self, message: impl Into<String>) {
        if let Some(notices) = &self.notices {
            // A client that went away just misses its progress messages.
            let _ = notices.send(message.into());
        }
    }
}
