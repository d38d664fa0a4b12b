//! `bookshop`: seedbake's command line with this app's seed, under the
//! app's own name.

use std::process::ExitCode;

/// The seed `build.rs` compiled, with a typed struct per table
/// (`seed::tables::Book`).
mod seed {
    include!(concat!(env!("OUT_DIR"), "/seed.rs"));
}

fn main() -> ExitCode {
    seedbake::cli::main(&seed::SEED)
}

#[cfg(test)]
mod tests {
    use super::seed::tables::{Author, Book};

    #[test]
    fn the_app_reads_its_own_rows_typed() {
        let dune = Book::by_key(&["Dune"]).unwrap();
        let author = Author::all().find(|a| a.id == dune.author_id).unwrap();
        assert_eq!((author.name, dune.year), ("Frank Herbert", 1965));
    }
}
