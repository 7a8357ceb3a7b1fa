//! An emulator on its own thread and runtime, for synchronous tests (trycmd,
//! plain `#[test]`s) that cannot host an async one.

use std::io;
use std::ops::Deref;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::config::Config;
use crate::emulator::{Emulator, EmulatorHandle};

/// A running emulator on a dedicated thread; it stops (and the thread ends) on drop.
#[derive(Debug)]
pub struct EmulatorThread {
    handle: EmulatorHandle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmulatorThread {
    /// Starts the thread and returns once the emulator is listening.
    pub fn start(config: Config) -> io::Result<Self> {
        let (started_sender, started) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("costform-emulator".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = started_sender.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Emulator::start(config).await {
                        Ok(emulator) => {
                            let _ = started_sender.send(Ok(emulator.handle()));
                            // Either a stop request or the owner vanishing ends the wait.
                            let _ = stopped.await;
                            emulator.shutdown().await;
                        }
                        Err(error) => {
                            let _ = started_sender.send(Err(error));
                        }
                    }
                });
            })?;
        let handle = started
            .recv()
            .map_err(|_| io::Error::other("the emulator thread ended before it started"))??;
        Ok(Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Deref for EmulatorThread {
    type Target = EmulatorHandle;

    fn deref(&self) -> &EmulatorHandle {
        &self.handle
    }
}

impl Drop for EmulatorThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the emulator thread already failed whatever it served.
            let _ = thread.join();
        }
    }
}
