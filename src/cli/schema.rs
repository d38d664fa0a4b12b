//! `seedbake schema`: the schema as an entity-relationship diagram, on
//! standard output or into a file.

use std::io::Write;
use std::path::Path;

use seedbake::atomic_file::AtomicFile;
use seedbake::diagram::{self, Format};
use seedbake::ops::paths::Written;
use seedbake::{Error, Result, ops};

use super::output::DiagramWritten;
use super::{Context, exit, profile};

/// Draws the embedded schema, or the database `--database-url` names when
/// it is given on the command line. `DATABASE_URL` alone does not count:
/// an app's environment sets it everywhere, and a diagram of the build
/// (for its documentation) must not turn into one of whatever database is
/// around.
pub(super) async fn run(cx: &Context<'_>, format: Format, file: Option<&Path>) -> Result<u8> {
    let (cli, out) = (cx.cli, cx.out);
    if cli.json && file.is_none() {
        return Err(Error::Usage(
            "schema --json needs --output FILE: without it, the diagram itself is what goes to standard output"
                .into(),
        ));
    }
    let model = if database_url_given() {
        // A diagram file is replaced in place: never the database's.
        let diagram = file
            .iter()
            .map(|p| Written::new("the diagram", p))
            .collect();
        cx.check_writes(None, diagram)?;
        let target = cx.open(false).await?;
        ops::diagram_of(target.as_ref()).await?
    } else {
        ops::diagram_of_build(profile(cli.profile.as_deref())?).await?
    };
    let text = diagram::render(&model, format);
    match file {
        Some(path) => {
            write_file(path, &text)?;
            out.print(&DiagramWritten::new(
                path,
                format.name(),
                model.tables.len(),
                text.len(),
            ));
        }
        None => {
            // A failure is remembered by the writer; `finish` reports it.
            let mut stdout = out.stdout_writer();
            let _ = stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush());
        }
    }
    Ok(exit::OK)
}

/// `--database-url` among the arguments (before a `--`).
fn database_url_given() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| {
            let a = a.to_string_lossy();
            a == "--database-url" || a.starts_with("--database-url=")
        })
}

/// Writes the whole diagram or nothing; a diagram file is regenerated in
/// place, so an existing file is replaced.
fn write_file(path: &Path, text: &str) -> Result<()> {
    let failed = |e: std::io::Error| Error::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut file = AtomicFile::create(path, true).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Usage(format!(
                "refusing to write the diagram to {}: {e}",
                path.display()
            ))
        } else {
            failed(e)
        }
    })?;
    file.write_all(text.as_bytes()).map_err(failed)?;
    file.finish(true).map_err(failed)
}
