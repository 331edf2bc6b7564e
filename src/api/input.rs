//! Reference images and masks as a person gives them: local paths or URLs, checked before any
//! request, and uploaded when local.

use std::path::{Path, PathBuf};

use crate::api::client::Client;
use crate::api::error::{Error, Result};
use crate::api::types::{ALLOWED_EXTENSIONS, MAX_FILE_BYTES, MAX_REFERENCES};

/// A reference image (or mask): a URL the service fetches itself, or a local file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    Url(String),
    File(PathBuf),
}

impl ImageSource {
    /// Parses and checks one entry: a URL must be http(s) with an allowed extension if it has
    /// one; a file must exist, have an allowed extension and be at most 25 MB.
    pub fn parse(entry: &str) -> Result<ImageSource> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(Error::Input(
                "an empty reference was given: give a file path or a URL".into(),
            ));
        }
        if entry.starts_with("http://") || entry.starts_with("https://") {
            let url = url::Url::parse(entry)
                .map_err(|e| Error::Input(format!("{entry:?} is not a valid URL ({e})")))?;
            if let Some(ext) = Path::new(url.path()).extension() {
                check_extension(entry, &ext.to_string_lossy())?;
            }
            return Ok(ImageSource::Url(entry.to_owned()));
        }
        // Anything else with a scheme (`ftp://`, `file://`, `data:`…) is a URL the service
        // cannot be given, not a file name.
        if let Some((scheme, _)) = entry.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(Error::Input(format!(
                "{entry:?} is a {scheme}:// URL, which the service cannot fetch: give an https:// or http:// URL, or a local file path"
            )));
        }
        let path = PathBuf::from(entry);
        let meta = std::fs::metadata(&path).map_err(|e| {
            Error::Input(format!(
                "cannot use {entry:?}: {}",
                crate::api::error::plain_io(&e)
            ))
        })?;
        if !meta.is_file() {
            return Err(Error::Input(format!(
                "{entry:?} is not a file: give an image file"
            )));
        }
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        check_extension(entry, &ext)?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(Error::Input(format!(
                "{entry:?} is {:.1} MB; the service takes at most 25 MB: scale it down first",
                meta.len() as f64 / (1024.0 * 1024.0)
            )));
        }
        Ok(ImageSource::File(path))
    }

    /// The URL the generate call gets: local files are uploaded first.
    pub async fn resolve(&self, client: &Client) -> Result<String> {
        match self {
            ImageSource::Url(u) => Ok(u.clone()),
            ImageSource::File(p) => Ok(client.upload_file(p).await?.download_url),
        }
    }

    pub fn label(&self) -> String {
        match self {
            ImageSource::Url(u) => u.clone(),
            ImageSource::File(p) => p.display().to_string(),
        }
    }
}

fn check_extension(entry: &str, ext: &str) -> Result<()> {
    let lower = ext.to_ascii_lowercase();
    if ALLOWED_EXTENSIONS.contains(&lower.as_str()) {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "{entry:?} is not an allowed image format: use one of .{}",
            ALLOWED_EXTENSIONS.join(" .")
        )))
    }
}

/// Checks a whole set: at most five references, and a mask only with at most one.
pub fn check_set(refs: &[ImageSource], mask: Option<&ImageSource>) -> Result<()> {
    if refs.len() > MAX_REFERENCES {
        return Err(Error::Input(format!(
            "{} reference images were given; the service takes at most {MAX_REFERENCES}: drop some",
            refs.len()
        )));
    }
    if mask.is_some() && refs.len() > 1 {
        return Err(Error::Input(
            "a mask can only go with a single reference image: give one reference, or no mask"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_the_service_would() {
        let dir = tempfile::tempdir().unwrap();
        let gif = dir.path().join("a.gif");
        std::fs::write(&gif, b"GIF89a").unwrap();
        let err = ImageSource::parse(gif.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not an allowed image format"), "{err}");
        let err = ImageSource::parse("/no/such/file.png")
            .unwrap_err()
            .to_string();
        assert!(err.contains("check the path"), "{err}");
        assert!(ImageSource::parse("https://example.com/x.bmp").is_err());
        for url in ["ftp://example.com/a.png", "file:///tmp/a.png"] {
            let err = ImageSource::parse(url).unwrap_err().to_string();
            assert!(
                err.contains("cannot fetch") && err.contains("https://"),
                "{err}"
            );
        }
        assert!(matches!(
            ImageSource::parse("https://example.com/img?id=3"),
            Ok(ImageSource::Url(_))
        ));
        let png = dir.path().join("b.PNG");
        std::fs::write(&png, b"x").unwrap();
        let one = ImageSource::parse(png.to_str().unwrap()).unwrap();
        assert!(check_set(&vec![one.clone(); 6], None).is_err());
        assert!(check_set(&[one.clone(), one.clone()], Some(&one)).is_err());
        assert!(check_set(std::slice::from_ref(&one), Some(&one)).is_ok());
    }
}
