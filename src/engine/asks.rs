//! Who asked about which file (`autochase upload`, `retry`, `backfill`; through the inbox or
//! in this very process) and how each gets its answer: one report per file as soon as the
//! file is decided, then the end of the request.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use crate::fate::Report;
use crate::inbox::{Answer, Conversation};

/// Where an ask's answers go.
#[derive(Debug)]
pub enum Sink {
    /// A command in this process (`upload` without a running daemon).
    Channel(mpsc::UnboundedSender<Report>),
    /// A command that left a request in the inbox.
    Inbox(Conversation),
}

#[derive(Debug)]
struct Ask {
    sink: Sink,
    left: HashSet<PathBuf>,
    force: bool,
    asked: usize,
}

/// The open asks.
#[derive(Debug, Default)]
pub struct Asks {
    open: Vec<Ask>,
}

impl Asks {
    /// Someone asks about `paths`; `force` uploads replays the filters would skip.
    pub fn add(&mut self, paths: Vec<PathBuf>, force: bool, sink: Sink) {
        let left: HashSet<PathBuf> = paths.into_iter().collect();
        let mut ask = Ask {
            asked: left.len(),
            sink,
            left,
            force,
        };
        if ask.left.is_empty() {
            finish(&mut ask);
        } else {
            self.open.push(ask);
        }
    }

    /// Someone waits for this file's word.
    pub fn asked(&self, path: &Path) -> bool {
        self.open.iter().any(|a| a.left.contains(path))
    }

    /// Someone asked to upload this file whatever the filters say.
    pub fn forced(&self, path: &Path) -> bool {
        self.open.iter().any(|a| a.force && a.left.contains(path))
    }

    /// No one waits for anything.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// The files someone still waits for.
    pub fn waiting(&self) -> Vec<PathBuf> {
        let all: HashSet<&PathBuf> = self.open.iter().flat_map(|a| &a.left).collect();
        all.into_iter().cloned().collect()
    }

    /// A file's final word, to everyone waiting for it; an ask with nothing left ends.
    pub fn answer(&mut self, report: &Report) {
        for ask in &mut self.open {
            if ask.left.remove(&report.path) {
                match &mut ask.sink {
                    Sink::Channel(tx) => {
                        let _ = tx.send(report.clone());
                    }
                    Sink::Inbox(conversation) => conversation.progress(report),
                }
            }
        }
        let (done, open): (Vec<Ask>, Vec<Ask>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|a| a.left.is_empty());
        self.open = open;
        for mut ask in done {
            finish(&mut ask);
        }
    }
}

fn finish(ask: &mut Ask) {
    let sink = std::mem::replace(&mut ask.sink, Sink::Channel(mpsc::unbounded_channel().0));
    if let Sink::Inbox(conversation) = sink {
        conversation.finish(&Answer {
            changed: ask.asked,
            error: None,
        });
    }
    // A channel's receiver sees the end when the engine drops its sender.
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Fate;

    fn report(path: &str) -> Report {
        Report {
            path: PathBuf::from(path),
            id: None,
            fate: Fate::Created,
            location: None,
            reason: None,
        }
    }

    #[test]
    fn each_asker_hears_each_file_once_and_asks_end_when_answered() {
        let (tx1, mut rx1) = mpsc::unbounded_channel();
        let (tx2, mut rx2) = mpsc::unbounded_channel();
        let mut asks = Asks::default();
        asks.add(vec!["/a".into(), "/b".into()], false, Sink::Channel(tx1));
        asks.add(vec!["/b".into()], true, Sink::Channel(tx2));
        assert!(asks.asked(Path::new("/a")) && asks.forced(Path::new("/b")));
        assert!(!asks.forced(Path::new("/a")));
        asks.answer(&report("/b"));
        asks.answer(&report("/b"));
        assert_eq!(rx1.try_recv().unwrap().path, PathBuf::from("/b"));
        assert!(rx1.try_recv().is_err(), "once");
        assert_eq!(rx2.try_recv().unwrap().path, PathBuf::from("/b"));
        assert_eq!(asks.waiting(), vec![PathBuf::from("/a")]);
        asks.answer(&report("/a"));
        assert!(asks.is_empty());
        assert_eq!(rx1.try_recv().unwrap().path, PathBuf::from("/a"));
    }
}
