//! The one rule for a path below the app's static folder, shared by the
//! compiler (which refuses a seed whose images could not be delivered) and
//! the runtime (which refuses to write outside the folder).

/// What is wrong with `path` as the place of a file below a static folder,
/// if anything: it must be relative, `/`-separated, and stay inside.
pub fn problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("it is empty");
    }
    if path.contains('\0') {
        return Some("it contains a NUL byte");
    }
    if path.starts_with('/') || std::path::Path::new(path).is_absolute() {
        return Some("it is absolute");
    }
    if path.contains('\\') {
        return Some("it contains a backslash (separate with '/')");
    }
    for part in path.split('/') {
        match part {
            "" => return Some("it has an empty component ('//' or a trailing '/')"),
            ".." => return Some("it contains '..'"),
            "." => return Some("it contains '.'"),
            _ => {}
        }
    }
    None
}

/// What is wrong with `prefix` as the folder part put before image paths
/// (empty, or a path as [`problem`] wants it followed by `/`), if anything.
pub fn prefix_problem(prefix: &str) -> Option<&'static str> {
    if prefix.is_empty() {
        return None;
    }
    match prefix.strip_suffix('/') {
        None => Some("it must end with '/' (it names a folder)"),
        Some(folder) => problem(folder),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_paths_that_stay_inside_pass() {
        assert_eq!(problem("figuren/images/f01.png"), None);
        assert_eq!(problem("f01.png"), None);
        for (bad, why) in [
            ("", "empty"),
            ("/etc/x", "absolute"),
            ("a/../x", "'..'"),
            ("./x", "'.'"),
            ("a//x", "empty component"),
            ("a/", "empty component"),
            ("a\\x", "backslash"),
            ("a\0x", "NUL"),
        ] {
            assert!(problem(bad).is_some_and(|p| p.contains(why)), "{bad:?}");
        }
    }

    #[test]
    fn prefixes_name_a_folder() {
        assert_eq!(prefix_problem(""), None);
        assert_eq!(prefix_problem("figuren/"), None);
        assert_eq!(prefix_problem("a/b/"), None);
        assert!(prefix_problem("figuren").is_some_and(|p| p.contains("end with '/'")));
        assert!(prefix_problem("../figuren/").is_some_and(|p| p.contains("'..'")));
        assert!(prefix_problem("/static/").is_some_and(|p| p.contains("absolute")));
        assert!(prefix_problem("/").is_some_and(|p| p.contains("empty")));
    }
}
