//! The worker's disk jobs, run on the blocking pool: checking a reference file and listing a
//! folder for the file browser.

use std::path::Path;

use crate::api::input::ImageSource;
use crate::api::types::ALLOWED_EXTENSIONS;
use crate::tui::action::{CheckedRef, DirEntry};

/// Checks an entry the way the service would, and reads its pixel size.
pub fn check_reference(entry: &str) -> Result<CheckedRef, String> {
    let source = ImageSource::parse(entry).map_err(|e| e.to_string())?;
    let ImageSource::File(path) = &source else {
        return Ok(CheckedRef {
            source,
            dims: None,
            bytes: None,
        });
    };
    let bytes = std::fs::metadata(path).map(|m| m.len()).ok();
    let dims = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(image::ImageError::IoError)
        .and_then(|r| r.into_dimensions())
        .map_err(|e| {
            format!(
                "{} could not be read as an image ({e}): pick another file",
                path.display()
            )
        })?;
    Ok(CheckedRef {
        source,
        dims: Some(dims),
        bytes,
    })
}

/// Folders and allowed images in `dir`, folders first, by name; hidden entries left out.
pub fn list_dir(dir: &Path) -> Result<Vec<DirEntry>, String> {
    let read = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "cannot read {}: {}",
            dir.display(),
            crate::api::error::plain_io(&e)
        )
    })?;
    let mut entries = Vec::new();
    for entry in read.flatten().take(20_000) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(meta) = std::fs::metadata(entry.path()) else {
            continue;
        };
        let allowed = Path::new(&name)
            .extension()
            .map(|e| {
                ALLOWED_EXTENSIONS.contains(&e.to_string_lossy().to_ascii_lowercase().as_str())
            })
            .unwrap_or(false);
        if meta.is_dir() || (meta.is_file() && allowed) {
            entries.push(DirEntry {
                name,
                is_dir: meta.is_dir(),
                bytes: meta.len(),
            });
        }
    }
    entries.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_folders_first_then_allowed_images() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["b.PNG", "a.jpg", "notes.txt", ".hidden.png", "c.gif"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let names: Vec<String> = list_dir(dir.path())
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["sub", "a.jpg", "b.PNG"]);
        assert!(list_dir(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn checks_references_and_reads_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("r.png");
        image::RgbImage::new(12, 7).save(&png).unwrap();
        let c = check_reference(png.to_str().unwrap()).unwrap();
        assert_eq!(c.dims, Some((12, 7)));
        let bad = dir.path().join("bad.png");
        std::fs::write(&bad, b"not an image").unwrap();
        assert!(
            check_reference(bad.to_str().unwrap())
                .unwrap_err()
                .contains("could not be read as an image")
        );
        assert!(check_reference("/no/such.png").is_err());
    }
}
