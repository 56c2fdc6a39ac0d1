//! Writing the results: unified diffs ([`diff`]), patches, and the rewritten files.
//!
//! Writes never leave a file half-written, whatever stops pyslim: the new content goes
//! to a temporary file in the same folder (same file system), takes the original's
//! permissions, is flushed to disk, and then renamed over the original.

pub mod diff;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::load::{FileError, FileOutcome, Workspace};

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

/// Atomic write that also creates the file.
pub fn atomic_write_new(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    if !path.exists() {
        std::fs::write(path, b"").with_context(|| format!("cannot create {}", path.display()))?;
    }
    atomic_write(path, bytes)
}

/// Unified diffs per file index: the text to show, and the bytes for a patch.
pub fn diffs(
    workspace: &Workspace,
    outcomes: &[FileOutcome],
) -> BTreeMap<usize, (String, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for outcome in outcomes {
        let Ok(Some(output)) = outcome.result.as_ref().map(|r| r.output.as_ref()) else {
            continue;
        };
        let file = &workspace.files[outcome.index];
        let old = file.source.for_diff(file.text());
        let new = file.source.for_diff(output);
        if let Some(text) = diff::unified(&workspace.patch_path(outcome.index), &old, &new) {
            let bytes = file.source.encode_fragment(&text);
            out.insert(outcome.index, (text, bytes));
        }
    }
    out
}

/// Writes the diffs' bytes to `patch` (relative to the workspace's folder), atomically.
pub fn write_patch(
    workspace: &Workspace,
    diffs: &BTreeMap<usize, (String, Vec<u8>)>,
    patch: &std::path::Path,
) -> Result<()> {
    let bytes: Vec<u8> = diffs
        .values()
        .flat_map(|(_, b)| b.iter().copied())
        .collect();
    let path = workspace.cwd.join(patch);
    if !path.exists() {
        std::fs::write(&path, b"")
            .with_context(|| format!("{}: cannot create the patch", patch.display()))?;
    }
    atomic_write(&path, &bytes)
}

/// Writes every changed file; a failure is reported and the others are still written.
pub fn write_files(workspace: &Workspace, outcomes: &[FileOutcome]) -> Vec<FileError> {
    let mut errors = Vec::new();
    for outcome in outcomes {
        let Ok(Some(output)) = outcome.result.as_ref().map(|r| r.output.as_ref()) else {
            continue;
        };
        let file = &workspace.files[outcome.index];
        let result = file
            .source
            .encode(output)
            .map_err(anyhow::Error::from)
            .and_then(|bytes| atomic_write(&file.path, &bytes));
        if let Err(e) = result {
            errors.push(FileError::whole_file(
                file.info.path.clone(),
                format!("not written: {e:#}"),
            ));
        }
    }
    errors
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
