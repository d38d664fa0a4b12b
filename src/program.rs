//! The name the binary was run under, for the commands its messages
//! suggest: an app's own binary (`bookshop`) tells its operator to run
//! `bookshop verify`, not `seedbake verify`. Library callers that never go
//! through the command line get `seedbake`.

use std::path::Path;
use std::sync::OnceLock;

static NAME: OnceLock<String> = OnceLock::new();

/// Takes the program's name from how it was started (the file name of
/// `argv[0]`); called once by the command line.
pub fn set_from_args() {
    let name = std::env::args_os()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .filter(|n| !n.is_empty());
    if let Some(name) = name {
        let _ = NAME.set(name);
    }
}

/// The program's name, `seedbake` unless the command line said otherwise.
pub fn name() -> &'static str {
    NAME.get().map_or("seedbake", String::as_str)
}
