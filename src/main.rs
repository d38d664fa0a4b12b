//! The `seedbake` command: the library's command line with the seed built
//! into it. An app's own binary is this same file with its own seed.

fn main() -> std::process::ExitCode {
    seedbake::cli::main(&seedbake::seed::SEED)
}
