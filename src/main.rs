//! The `seedbake` command. All the work is in the library; this parses
//! arguments, runs one command and maps its outcome to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
