//! What asks a running daemon to stop: SIGINT and SIGTERM on Unix; on Windows every console
//! event a user or the system can send (Ctrl-C, Ctrl-Break, the console window closed, logoff,
//! shutdown).

use std::fmt;

/// Why the daemon was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C (SIGINT, or CTRL_C_EVENT on Windows).
    Interrupt,
    /// SIGTERM (systemd, launchd, `kill`).
    Terminate,
    /// Ctrl-Break (Windows).
    Break,
    /// The console window was closed (Windows; a few seconds to finish).
    Close,
    /// The user is logging off (Windows; a few seconds to finish).
    Logoff,
    /// The machine is shutting down (Windows; a few seconds to finish).
    Shutdown,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::Interrupt => "Ctrl-C",
            Stop::Terminate => "SIGTERM",
            Stop::Break => "Ctrl-Break",
            Stop::Close => "console closed",
            Stop::Logoff => "logoff",
            Stop::Shutdown => "system shutdown",
        })
    }
}

/// Resolves when the daemon is asked to stop, and says by what. On Windows, after a close,
/// logoff or shutdown event the system ends the process a few seconds later whatever it does:
/// the state is written so that such an end loses nothing (an upload cut short is redone).
pub async fn shutdown_signal() -> Stop {
    let stop = Signals::new().expect("signal handlers").recv().await;
    tracing::info!(by = %stop, "asked to stop");
    stop
}

/// The stop requests this process listens for, registered when it is made (an event that comes
/// before `recv` is kept, not lost).
pub struct Signals {
    #[cfg(unix)]
    unix: [tokio::signal::unix::Signal; 2],
    #[cfg(windows)]
    windows: (
        tokio::signal::windows::CtrlC,
        tokio::signal::windows::CtrlBreak,
        tokio::signal::windows::CtrlClose,
        tokio::signal::windows::CtrlLogoff,
        tokio::signal::windows::CtrlShutdown,
    ),
}

impl Signals {
    /// Registers the handlers (inside a tokio runtime).
    pub fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                unix: [
                    signal(SignalKind::interrupt())?,
                    signal(SignalKind::terminate())?,
                ],
            })
        }
        #[cfg(windows)]
        {
            use tokio::signal::windows;
            Ok(Signals {
                windows: (
                    windows::ctrl_c()?,
                    windows::ctrl_break()?,
                    windows::ctrl_close()?,
                    windows::ctrl_logoff()?,
                    windows::ctrl_shutdown()?,
                ),
            })
        }
    }

    /// The next stop request.
    pub async fn recv(&mut self) -> Stop {
        #[cfg(unix)]
        {
            let [int, term] = &mut self.unix;
            tokio::select! {
                _ = int.recv() => Stop::Interrupt,
                _ = term.recv() => Stop::Terminate,
            }
        }
        #[cfg(windows)]
        {
            let (c, brk, close, logoff, shutdown) = &mut self.windows;
            tokio::select! {
                _ = c.recv() => Stop::Interrupt,
                _ = brk.recv() => Stop::Break,
                _ = close.recv() => Stop::Close,
                _ = logoff.recv() => Stop::Logoff,
                _ = shutdown.recv() => Stop::Shutdown,
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sigterm_and_sigint_are_told_apart() {
        // Signals to this very process, sent once the handlers are registered.
        let mut signals = Signals::new().unwrap();
        let me = rustix::process::getpid();
        for (signal, expected) in [
            (rustix::process::Signal::TERM, Stop::Terminate),
            (rustix::process::Signal::INT, Stop::Interrupt),
        ] {
            rustix::process::kill_process(me, signal).unwrap();
            let stop = tokio::time::timeout(std::time::Duration::from_secs(5), signals.recv())
                .await
                .expect("the signal is seen");
            assert_eq!(stop, expected);
        }
        assert_eq!(Stop::Break.to_string(), "Ctrl-Break");
    }
}
