//! The commands that write a file: `dump --output`, `extract`, `schema
//! --output`.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use seedbake::ops::extract::PASSWORD_PLACEHOLDER;
use seedbake::ops::{DumpReport, ExtractReport};

use super::{Output, Report, Text};

/// A dump written to a file.
#[derive(Serialize)]
pub struct Dumped<'a> {
    #[serde(flatten)]
    pub report: &'a DumpReport,
    pub file: String,
}

impl Report for Dumped<'_> {
    fn text(&self, o: &mut Text) {
        let r = self.report;
        say!(
            o,
            "dumped {} ({} rows, {} tables) to {} ({} bytes)",
            r.target,
            r.rows,
            r.tables.len(),
            self.file,
            r.bytes
        );
    }
}

impl Output {
    /// A dump written to standard output: the dump is the output, so its
    /// figures go to standard error, and only when asked for.
    pub fn dumped_to_stdout(&self, r: &DumpReport) {
        if self.verbose {
            tell!("dumped {} rows, {} bytes", r.rows, r.bytes);
        }
    }
}

/// A diagram written to a file.
#[derive(Serialize)]
pub struct DiagramWritten<'a> {
    pub file: String,
    pub format: &'a str,
    pub tables: usize,
    pub bytes: usize,
}

impl DiagramWritten<'_> {
    pub fn new<'a>(
        file: &Path,
        format: &'a str,
        tables: usize,
        bytes: usize,
    ) -> DiagramWritten<'a> {
        DiagramWritten {
            file: file.display().to_string(),
            format,
            tables,
            bytes,
        }
    }
}

impl Report for DiagramWritten<'_> {
    fn text(&self, o: &mut Text) {
        say!(
            o,
            "wrote the {} diagram of {} tables to {} ({} bytes)",
            self.format,
            self.tables,
            self.file,
            self.bytes
        );
    }
}

impl Report for ExtractReport {
    fn text(&self, o: &mut Text) {
        let r = self;
        say!(
            o,
            "extracted {} ({} rows, {} tables) to {}\nfingerprint: {}",
            r.target,
            r.rows,
            r.tables.len(),
            r.folder,
            r.fingerprint
        );
        if r.complete {
            say!(
                o,
                "a build of {} verifies this database as it was read",
                r.folder
            );
        } else {
            say!(
                o,
                "only the tables chosen were written: a build of {} has their rows and the schema, fingerprint {}",
                r.folder,
                r.folder_fingerprint
            );
        }
        if !r.new_tables.is_empty() {
            say!(
                o,
                "tables the seed did not know, added to seed.toml: {}",
                r.new_tables.join(", ")
            );
        }
        if r.manifest_rewritten {
            say!(o, "seed.toml was written anew (its comments are not kept)");
        }
        if r.placeholder_passwords > 0 {
            say!(
                o,
                "{} passwords written as the placeholder {:?}: put the seed's own back before building",
                r.placeholder_passwords,
                PASSWORD_PLACEHOLDER
            );
        }
    }
}
