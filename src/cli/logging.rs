//! Logging: to stderr (colours only on a terminal, so journald shows it cleanly) and, when
//! asked, to a file a day (`logfile`).

use std::io::IsTerminal;
use std::path::Path;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Sets up logging: `verbose` 0 info, 1 debug for autochase, 2 trace; `quiet` warnings only;
/// `RUST_LOG` overrides both. `own_lines`: the command prints a line per file itself
/// (`upload`, `retry`, `backfill`), so the engine's info lines would only say it again:
/// warnings only unless `verbose`. `log_file` also logs to that file, one per day.
pub fn init(verbose: u8, quiet: bool, own_lines: bool, log_file: Option<&Path>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let default = match verbose {
        _ if quiet => "warn",
        0 if own_lines => "warn",
        0 => "info",
        1 => "autochase=debug,info",
        _ => "trace",
    };
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let colours = std::io::stderr().is_terminal();
    let stderr = tracing_subscriber::fmt::layer()
        .with_timer(LocalTime)
        .with_writer(Escaping {
            inner: std::io::stderr,
            colours,
        })
        .with_ansi(colours)
        .with_target(false);
    let mut file_error = None;
    let file = log_file.and_then(|path| match super::logfile::DailyFile::open(path) {
        Ok(appender) => Some(
            tracing_subscriber::fmt::layer()
                .with_timer(LocalTime)
                .with_writer(Escaping {
                    inner: appender,
                    colours: false,
                })
                .with_ansi(false)
                .with_target(false),
        ),
        Err(e) => {
            file_error = Some(format!("cannot log to {}: {e}", path.display()));
            None
        }
    });
    tracing_subscriber::registry()
        .with(filter())
        .with(stderr)
        .with(file)
        .init();
    if let Some(e) = file_error {
        tracing::error!("{e}; logging to stderr only");
    }
}

/// Log times in this machine's time zone, with its offset, as people read them.
struct LocalTime;

impl tracing_subscriber::fmt::time::FormatTime for LocalTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        let now = jiff::ZonedDateTime::now();
        write!(w, "{}", now.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z"))
    }
}

/// A log writer that writes control characters out (`\n`, `\u{1b}`) but for each event's
/// final newline and, on a terminal, the colour codes the formatter adds: a file name or a
/// server message can neither start a forged log line nor steer the terminal.
struct Escaping<M> {
    inner: M,
    colours: bool,
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Escaping<M> {
    type Writer = EscapingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter {
            inner: self.inner.make_writer(),
            colours: self.colours,
        }
    }
}

struct EscapingWriter<W> {
    inner: W,
    colours: bool,
}

/// Clears the terminal line before a log line: a command's progress bar may stand there
/// (it is drawn again with the next file).
const CLEAR_LINE: &str = "\r\u{1b}[2K";

impl<W: std::io::Write> std::io::Write for EscapingWriter<W> {
    /// The formatter writes each event whole, in one call.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut line = escape_event(buf, self.colours);
        if self.colours {
            line.insert_str(0, CLEAR_LINE);
        }
        self.inner.write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One formatted event with its control characters written out; see `Escaping`.
fn escape_event(buf: &[u8], colours: bool) -> String {
    let text = String::from_utf8_lossy(buf);
    let (body, newline) = match text.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (&*text, ""),
    };
    let mut out = String::with_capacity(buf.len() + 8);
    let mut rest = body;
    while let Some(at) = rest.find(|c: char| c.is_control()) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let colour = colours.then(|| sgr_len(tail)).flatten();
        let taken = match colour {
            Some(len) => {
                out.push_str(&tail[..len]);
                len
            }
            None => {
                let c = tail.chars().next().unwrap_or_default();
                out.push_str(&crate::platform::printable(c.encode_utf8(&mut [0; 4])));
                c.len_utf8()
            }
        };
        rest = &tail[taken..];
    }
    out.push_str(rest);
    out.push_str(newline);
    out
}

/// The length of a colour code (`ESC [ digits and ; m`) at the start of `text`, if it is one.
fn sgr_len(text: &str) -> Option<usize> {
    let params = text.strip_prefix("\u{1b}[")?;
    let end = params.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
    (params[end..].starts_with('m')).then_some(2 + end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_keeps_its_newline_and_colours_and_loses_every_other_control() {
        let event =
            "\u{1b}[2mT\u{1b}[0m WARN path=/d/x\nERROR forged\u{1b}[2J\u{1b}]0;t\u{7}\u{9b}1m\n";
        assert_eq!(
            escape_event(event.as_bytes(), true),
            "\u{1b}[2mT\u{1b}[0m WARN path=/d/x\\nERROR forged\\u{1b}[2J\\u{1b}]0;t\\u{7}\\u{9b}1m\n"
        );
        assert_eq!(
            escape_event(event.as_bytes(), false),
            "\\u{1b}[2mT\\u{1b}[0m WARN path=/d/x\\nERROR forged\\u{1b}[2J\\u{1b}]0;t\\u{7}\\u{9b}1m\n"
        );
        assert_eq!(escape_event(b"plain\n", false), "plain\n");
    }

    #[test]
    fn on_a_terminal_a_log_line_first_clears_a_progress_bar() {
        use std::io::Write;
        let mut terminal = EscapingWriter {
            inner: Vec::new(),
            colours: true,
        };
        terminal.write_all(b" WARN x\n").unwrap();
        assert_eq!(terminal.inner, b"\r\x1b[2K WARN x\n");
        let mut piped = EscapingWriter {
            inner: Vec::new(),
            colours: false,
        };
        piped.write_all(b" WARN x\n").unwrap();
        assert_eq!(piped.inner, b" WARN x\n");
    }
}
