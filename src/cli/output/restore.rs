//! `restore`: what it replaced.

use seedbake::ops::RestoreReport;

use super::{Output, Report, Text};

impl Report for RestoreReport {
    fn notes(&self, out: &Output) {
        out.backed_up(self.backup.as_ref());
    }

    fn text(&self, o: &mut Text) {
        say!(
            o,
            "restored {}: dropped {} objects, ran {} statements",
            self.target,
            self.dropped.len(),
            self.statements
        );
    }
}
