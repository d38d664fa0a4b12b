//! The one place that writes to the terminal: text or `--json` on stdout,
//! warnings and errors on stderr, a progress bar only on a terminal.
//!
//! Nothing here panics on a failed write (`println!` would). Standard
//! output failing is remembered and decides the exit code in
//! [`Output::finish`]: a closed pipe (`seedbake dump | head`) only stops the
//! printing, quietly; anything else (a full disk) is an error, exit 7.
//! With `--json`, exactly one JSON object is printed, at the end, whatever
//! happened: the command's report, or `{"ok": false, "error": …}`, or both.
//!
//! A command's result is a [`Report`]: [`Output::print`] shows its text or
//! keeps its JSON; each report's text is written beside the type it
//! renders, in `output/<subject>.rs`.

use std::cell::RefCell;
use std::io::Write;

use serde_json::{Value, json};

use super::exit;

/// A line on standard output (text mode), never panicking.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => { $out.line(format_args!($($arg)*)) };
}

/// A line on standard error, never panicking.
macro_rules! tell {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod admin;
mod files;
mod info;
mod load;
mod migrate;
mod plan;
mod progress;
mod restore;
mod status;
mod values;
mod verify;

pub use files::{DiagramWritten, Dumped};
pub use info::SeedInfo;
pub use migrate::{MigratePlan, confirmation};
pub use progress::Progress;

/// A command's result as the command line shows it: its text on standard
/// output, or with `--json` its serde form as the one object printed at
/// the end. Rendered beside its type, printed by [`Output::print`].
pub trait Report: serde::Serialize {
    /// The report's lines for people.
    fn text(&self, o: &mut Text);

    /// What goes to standard error first, in either mode: a backup
    /// written, warnings.
    fn notes(&self, _out: &Output) {}
}

/// A report's text, collected, then written at once.
pub struct Text {
    /// `-v`: say more.
    pub verbose: bool,
    buf: String,
}

impl Text {
    fn line(&mut self, args: std::fmt::Arguments<'_>) {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = writeln!(self.buf, "{args}");
    }

    /// What a server was asked, when the database is one.
    fn traffic(&mut self, traffic: Option<&seedbake::ops::TrafficReport>) {
        if let Some(t) = traffic {
            say!(
                self,
                "  {} requests, {} bytes sent, {} received",
                t.requests,
                t.bytes_sent,
                t.bytes_received
            );
        }
    }
}

pub struct Output {
    json: bool,
    verbose: bool,
    /// `--json`: the object printed at the end.
    object: RefCell<Option<Value>>,
    /// The first failure writing standard output.
    stdout_error: RefCell<Option<std::io::Error>>,
}

/// A clap error (or `--help`, `--version`): printed as clap prints it, plus
/// the one JSON object when `--json` was asked for. Returns the exit code.
/// What the user typed (an unexpected argument, a refused value) is shown
/// as [`seedbake::database::display_url`] shows a URL: a database URL put
/// where it does not belong must not bring its password along.
pub fn arguments_refused(mut e: clap::Error, json: bool) -> u8 {
    use clap::error::ContextValue;
    let typed: Vec<_> = e
        .context()
        .filter_map(|(kind, value)| match value {
            ContextValue::String(s) => Some((kind, ContextValue::String(shown(s)))),
            ContextValue::Strings(v) => Some((
                kind,
                ContextValue::Strings(v.iter().map(|s| shown(s)).collect()),
            )),
            _ => None,
        })
        .collect();
    for (kind, value) in typed {
        e.insert(kind, value);
    }
    if !e.use_stderr() {
        // --help and --version: their text is the output.
        return match e.print() {
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                tell!("error: cannot write to standard output: {err}");
                exit::OUTPUT
            }
            _ => exit::OK,
        };
    }
    let _ = e.print();
    if json {
        let rendered = e.render().to_string();
        let first = rendered.lines().next().unwrap_or("").trim();
        let message = first.strip_prefix("error: ").unwrap_or(first);
        let _ = writeln!(
            std::io::stdout().lock(),
            "{}",
            json!({ "ok": false, "error": message })
        );
    }
    exit::USAGE
}

fn shown(typed: &str) -> String {
    seedbake::database::display_url(typed)
}

impl Output {
    pub fn new(json: bool, verbose: bool) -> Self {
        Output {
            json,
            verbose,
            object: RefCell::new(None),
            stdout_error: RefCell::new(None),
        }
    }

    /// One line on standard output; after a failure, nothing more.
    fn line(&self, args: std::fmt::Arguments<'_>) {
        self.raw(format_args!("{args}\n"));
    }

    /// Text on standard output as it is (lines of its own), its failure
    /// kept like a line's.
    fn raw(&self, args: std::fmt::Arguments<'_>) {
        if self.stdout_error.borrow().is_some() {
            return;
        }
        if let Err(e) = std::io::stdout().lock().write_fmt(args) {
            *self.stdout_error.borrow_mut() = Some(e);
        }
    }

    /// Standard output for bulk text (a dump), buffered; its failures are
    /// remembered like those of every other line.
    pub fn stdout_writer(&self) -> StdoutWriter<'_> {
        StdoutWriter {
            out: self,
            inner: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        }
    }

    pub fn stdout_failed(&self) -> bool {
        self.stdout_error.borrow().is_some()
    }

    /// The command's report: its notes, then its text, or with `--json`
    /// the object printed at the end.
    pub fn print(&self, report: &impl Report) {
        report.notes(self);
        if self.json {
            self.set(report);
        } else {
            self.raw(format_args!("{}", self.text(report)));
        }
    }

    /// A report shown on standard error, in either mode, before the
    /// operator is asked: standard output keeps only the result.
    pub fn print_before_asking(&self, report: &impl Report) {
        report.notes(self);
        let _ = std::io::stderr()
            .lock()
            .write_all(self.text(report).as_bytes());
    }

    /// A report's text, as it is printed.
    fn text(&self, report: &impl Report) -> String {
        let mut text = Text {
            verbose: self.verbose,
            buf: String::new(),
        };
        report.text(&mut text);
        text.buf
    }

    /// `--json`: the command's report becomes the object printed at the end.
    fn set(&self, report: &impl serde::Serialize) {
        let v = serde_json::to_value(report).unwrap_or_else(|e| json!({ "report": e.to_string() }));
        *self.object.borrow_mut() = Some(v);
    }

    /// Ends the run: the error line, the JSON object, and the exit code,
    /// which standard output's failure may change.
    pub fn finish(&self, code: u8, error: Option<&str>) -> u8 {
        if let Some(message) = error {
            tell!("error: {message}");
        }
        if self.json {
            let mut object = self.object.borrow_mut().take().unwrap_or_else(|| json!({}));
            if !object.is_object() {
                object = json!({ "report": object });
            }
            object["ok"] = (code == exit::OK).into();
            if let Some(message) = error {
                object["error"] = message.into();
            }
            say!(self, "{object}");
        }
        if self.stdout_error.borrow().is_none()
            && let Err(e) = std::io::stdout().lock().flush()
        {
            *self.stdout_error.borrow_mut() = Some(e);
        }
        match self.stdout_error.borrow_mut().take() {
            None => code,
            Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
            // A failed command has said why already, on one line.
            Some(_) if error.is_some() => code,
            Some(e) => {
                tell!(
                    "error: cannot write to standard output: {e}; what was printed there is incomplete"
                );
                if code == exit::OK { exit::OUTPUT } else { code }
            }
        }
    }

    pub fn warn(&self, message: &str) {
        tell!("warning: {message}");
    }

    pub fn note(&self, message: &str) {
        tell!("{message}");
    }
}

/// Standard output as a writer for bulk text; see [`Output::stdout_writer`].
pub struct StdoutWriter<'o> {
    out: &'o Output,
    inner: std::io::BufWriter<std::io::Stdout>,
}

impl StdoutWriter<'_> {
    fn remember<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result {
            let mut seen = self.out.stdout_error.borrow_mut();
            if seen.is_none() {
                *seen = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        }
        result
    }
}

impl Write for StdoutWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.remember(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.remember(result)
    }
}

impl Output {
    /// Where the backup taken under the write lock went.
    fn backed_up(&self, backup: Option<&seedbake::ops::BackupReport>) {
        if let Some(b) = backup {
            self.note(&format!(
                "backup written to {} under the write lock ({} rows in {} tables, {} bytes): the database as it was \
                 before this command; restore it with `{} restore {}`",
                b.path,
                b.rows,
                b.tables,
                b.bytes,
                seedbake::program::name(),
                b.path
            ));
        }
    }
}
