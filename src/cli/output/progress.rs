//! The progress bar of a long load.

use indicatif::{ProgressBar, ProgressStyle};

use seedbake::ops::Observer;

/// A progress bar for long loads; invisible otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(total: u64, visible: bool) -> Self {
        let bar = visible.then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg:20} [{bar:40}] {pos}/{len} rows ({eta})")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        Progress { bar }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn table_started(&mut self, table: &str, _rows: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(table.to_owned());
        }
    }

    fn rows_loaded(&mut self, _table: &str, rows: usize) -> Result<(), String> {
        if let Some(bar) = &self.bar {
            bar.inc(rows as u64);
        }
        Ok(())
    }
}
