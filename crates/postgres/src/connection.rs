//! One database session on a thread of its own. The state interface is
//! synchronous (a record must be durable before the engine looks at the
//! next answer, exactly as with the local file's `fsync`), while the driver
//! is async: the session's thread runs its own small runtime, and calls
//! block on its answer. The session is what holds the advisory lock, so it
//! lives exactly as long as the [`Connection`]; a killed process closes its
//! socket and the server releases the lock.

use std::sync::Arc;
use std::thread::JoinHandle;

use costform_planner::Error;
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_postgres::Client;

use crate::settings::Settings;
use crate::tls;

type Job = Box<dyn FnOnce(Arc<Client>) -> BoxFuture<'static, ()> + Send>;

/// An open session; dropping it closes the connection.
#[derive(Debug)]
pub struct Connection {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    thread: Option<JoinHandle<()>>,
    location: String,
}

impl Connection {
    /// Connects (TLS as the settings say) and starts the session's thread.
    pub fn open(settings: &Settings) -> Result<Self, Error> {
        let location = settings.location.clone();
        let connector = tls::connector(settings).map_err(|reason| Error::BackendRefused {
            location: location.clone(),
            reason,
        })?;
        let config = settings.config.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("costform-postgres".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(Box::new(error) as BoxError));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let (client, connection) = match config.connect(connector).await {
                        Ok(pair) => pair,
                        Err(error) => {
                            let _ = ready_tx.send(Err(Box::new(error) as BoxError));
                            return;
                        }
                    };
                    let driver = tokio::spawn(connection);
                    let client = Arc::new(client);
                    let (jobs_tx, mut jobs_rx) = mpsc::unbounded_channel::<Job>();
                    if ready_tx.send(Ok(jobs_tx)).is_err() {
                        return;
                    }
                    while let Some(job) = jobs_rx.recv().await {
                        job(Arc::clone(&client)).await;
                    }
                    drop(client);
                    let _ = driver.await;
                });
            })
            .map_err(|error| backend_error("start a thread for", &location, error))?;
        match ready_rx.recv() {
            Ok(Ok(jobs)) => Ok(Self {
                jobs: Some(jobs),
                thread: Some(thread),
                location,
            }),
            Ok(Err(source)) => {
                let _ = thread.join();
                Err(Error::Backend {
                    action: "connect to".to_owned(),
                    location,
                    source,
                })
            }
            Err(_) => {
                let _ = thread.join();
                Err(backend_error(
                    "connect to",
                    &location,
                    std::io::Error::other("the session thread ended"),
                ))
            }
        }
    }

    /// Runs `job` on the session and waits for its answer. `action` names
    /// it in errors ("record a token in").
    pub fn call<R, F>(&self, action: &str, job: F) -> Result<R, Error>
    where
        R: Send + 'static,
        F: FnOnce(Arc<Client>) -> BoxFuture<'static, Result<R, tokio_postgres::Error>>
            + Send
            + 'static,
    {
        let (answer_tx, answer_rx) = std::sync::mpsc::sync_channel(1);
        let job: Job = Box::new(move |client| {
            Box::pin(async move {
                let _ = answer_tx.send(job(client).await);
            })
        });
        let gone = || {
            backend_error(
                action,
                &self.location,
                std::io::Error::other("the database session has ended"),
            )
        };
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        match answer_rx.recv() {
            Ok(answer) => answer.map_err(|error| backend_error(action, &self.location, error)),
            Err(_) => Err(gone()),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Closing the channel ends the session's loop, which closes the
        // socket: the server then releases the session's advisory lock.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs `body` between `begin` (`BEGIN`, or `BEGIN` with options) and
/// `COMMIT`, rolling back when it fails: one place for what every
/// multi-statement write does.
pub async fn transaction<R>(
    client: &Client,
    begin: &str,
    body: impl Future<Output = Result<R, tokio_postgres::Error>>,
) -> Result<R, tokio_postgres::Error> {
    client.batch_execute(begin).await?;
    match body.await {
        Ok(value) => {
            client.batch_execute("COMMIT").await?;
            Ok(value)
        }
        Err(error) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(error)
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The planner's error for a failed database operation.
pub fn backend_error(
    action: &str,
    location: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::Backend {
        action: action.to_owned(),
        location: location.to_owned(),
        source: Box::new(source),
    }
}
