//! Writing files so that a crash or Ctrl-C never leaves one half-written: the new
//! content goes to a temporary file in the same folder (same file system), takes the
//! original's permissions, is flushed to disk, and then renamed over the original.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Replaces the file at `path` with `bytes` atomically, keeping its permissions.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)
        .with_context(|| format!("{}: cannot read metadata", path.display()))?
        .permissions();
    let mut temp = tempfile::Builder::new()
        .prefix(".pyslim-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "{}: cannot create a temporary file beside it",
                path.display()
            )
        })?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("{}: cannot write the temporary file", path.display()))?;
    std::fs::set_permissions(temp.path(), permissions)
        .with_context(|| format!("{}: cannot copy permissions", path.display()))?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("{}: cannot replace the file", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::atomic_write;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn keeps_permissions_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.py");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o751)).unwrap();
        atomic_write(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o751);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
