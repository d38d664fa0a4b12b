//! Images the seed names: read from beside their source file, their media
//! type sniffed from the bytes, and each embedded once.

use std::path::Path;

use seedbake_core::schema;

use crate::error::{ErrorKind, Origin, SeedError};
use crate::{Compiler, Image};

impl Compiler {
    /// Reads the image `rel` (relative to the source file) that a cell of
    /// `table.col` names, and registers it for embedding under `stored`, the
    /// value the cell holds and the file's path below the static folder.
    pub(crate) fn embed_image(
        &mut self,
        table: &schema::Table,
        col: &schema::Column,
        rel: &str,
        stored: &str,
        origin: Origin,
        source_path: &Path,
    ) -> Result<(), SeedError> {
        let file = source_path.parent().unwrap_or(Path::new(".")).join(rel);
        let bytes = std::fs::read(&file).map_err(|e| {
            SeedError::new(
                ErrorKind::MissingImage,
                origin.clone(),
                format!(
                    "{}.{}: image {rel:?} cannot be read ({e}); expected at {}",
                    table.name,
                    col.name,
                    file.display()
                ),
            )
            .with_field(&table.name, &col.name)
        })?;
        self.inputs.push(file.clone());
        let media_type = sniff_media_type(&bytes);
        let ext = Path::new(rel)
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if !media_type_matches(media_type, &ext) {
            self.warnings.push(format!(
                "{origin}: image {rel:?} holds {media_type} data despite its .{ext} name (embedded as is)"
            ));
        }
        match self.images.iter().find(|i| i.path == stored) {
            None => self.images.push(Image {
                path: stored.to_owned(),
                table: table.name.clone(),
                column: col.name.clone(),
                file,
                media_type,
            }),
            // One file delivered twice under one name is one file; two
            // different ones would overwrite each other in the static folder.
            Some(other) if std::fs::read(&other.file).is_ok_and(|b| b == bytes) => {}
            Some(other) => {
                return Err(SeedError::new(
                    ErrorKind::ImagePath,
                    origin,
                    format!(
                        "{}.{}: the image {} would be delivered as {stored:?}, where {} (named by {}.{}) goes too; \
                         give the images different names",
                        table.name,
                        col.name,
                        file.display(),
                        other.file.display(),
                        other.table,
                        other.column
                    ),
                )
                .with_field(&table.name, &col.name));
            }
        }
        Ok(())
    }
}

/// The media type the bytes hold, by their magic number.
fn sniff_media_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if bytes.starts_with(b"<svg") || bytes.starts_with(b"<?xml") {
        "image/svg+xml"
    } else {
        "application/octet-stream"
    }
}

/// Whether a file name's extension fits its media type.
fn media_type_matches(media_type: &str, ext: &str) -> bool {
    matches!(
        (media_type, ext),
        ("image/png", "png")
            | ("image/jpeg", "jpg" | "jpeg")
            | ("image/gif", "gif")
            | ("image/webp", "webp")
            | ("image/svg+xml", "svg")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_come_from_the_bytes() {
        assert_eq!(sniff_media_type(b"\x89PNG\r\n\x1a\n...."), "image/png");
        assert_eq!(sniff_media_type(&[0xff, 0xd8, 0xff, 0xe0]), "image/jpeg");
        assert_eq!(sniff_media_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(sniff_media_type(b"hello"), "application/octet-stream");
        assert!(media_type_matches("image/jpeg", "jpeg"));
        assert!(!media_type_matches("image/jpeg", "png"));
    }
}
