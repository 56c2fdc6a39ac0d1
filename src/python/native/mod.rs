//! What the embedded worker offers its Python side as the module `_pyslim_native`:
//! the allocation meter ([`meter`]) and the recorder of which instrumented code units a
//! test reached.
//!
//! Only the embedded worker has it; with the venv's own interpreter the Python side
//! falls back to tracemalloc and a Python-level recorder (`worker/meter.py`).

pub mod meter;

use std::collections::BTreeSet;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyModule};

/// Code units (ids chosen by the parent when it instrumented the working copy) reached
/// since the last [`take_hits`]. Only touched with the GIL held.
static HITS: std::sync::Mutex<BTreeSet<u32>> = std::sync::Mutex::new(BTreeSet::new());

/// `traced() -> (current, peak)`: bytes requested from Python's allocators and not
/// freed, and the highest such figure (tracemalloc's definition).
#[pyfunction]
fn traced() -> (i64, i64) {
    meter::traced()
}

/// `set_peak(value)`: restores the peak (at least the current figure) after the
/// worker's own temporary allocations (a census).
#[pyfunction]
fn set_peak(value: i64) {
    meter::set_peak(value);
}

/// `installed() -> bool`: whether the meter counts this process.
#[pyfunction]
fn installed() -> bool {
    meter::installed()
}

/// `sampling(interval)`: samples one allocation per `interval` bytes on average (0 stops).
#[pyfunction]
fn sampling(interval: u64) {
    meter::set_sampling(interval);
}

fn sites<'py>(py: Python<'py>, totals: Vec<meter::SiteTotal>) -> PyResult<Bound<'py, PyList>> {
    let rows = PyList::empty(py);
    for site in totals {
        let file = if site.file.is_null() {
            py.None().into_bound(py)
        } else {
            // SAFETY: the GIL is held and the pointer is a live str the meter owns a
            // reference to; a borrowed handle takes its own.
            unsafe { Bound::from_borrowed_ptr(py, site.file) }
        };
        rows.append((file, site.line, site.bytes, site.count))?;
    }
    Ok(rows)
}

/// `peak_sites() -> [(file, line, bytes, count)]`: estimated live bytes per line at the
/// highest level seen while sampling.
#[pyfunction]
fn peak_sites(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    // SAFETY: the GIL is held (a `Python` token exists).
    sites(py, unsafe { meter::peak_sites() })
}

/// `live_sites() -> [(file, line, bytes, count)]`: the same for the heap as it is now.
#[pyfunction]
fn live_sites(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    // SAFETY: the GIL is held.
    sites(py, unsafe { meter::live_sites() })
}

/// `storage_site(lst) -> (file, line) | None`: where a list's element storage was last
/// allocated or grown, when that block was sampled.
#[pyfunction]
fn storage_site<'py>(
    py: Python<'py>,
    list: &Bound<'py, PyList>,
) -> Option<(Bound<'py, PyAny>, i32)> {
    // SAFETY: the GIL is held and `list` is a live list; its storage block came from
    // PyMem_Malloc/Realloc (the MEM domain) or is null.
    unsafe {
        let raw = list.as_ptr().cast::<pyo3::ffi::PyListObject>();
        let items = (*raw).ob_item;
        let (file, line) = meter::block_site(items.cast())?;
        if file.is_null() {
            return None;
        }
        Some((Bound::from_borrowed_ptr(py, file), line))
    }
}

/// `census_at(level, callback)`: calls `callback(level_reached)` in the main thread,
/// once, as soon as traced memory reaches `level` (checked at every allocation).
#[pyfunction]
fn census_at(level: i64, callback: &Bound<'_, PyAny>) {
    // SAFETY: the GIL is held and `callback` is live; the meter keeps a reference.
    unsafe { meter::set_trigger(level, callback.as_ptr()) };
}

/// `lead(path, start)`: publishes this run's peak in the pace record at `path` (see
/// [`crate::python::pace`]); `start` is the meter's start.
#[pyfunction]
fn lead(path: std::path::PathBuf, start: i64) -> PyResult<()> {
    meter::lead(&path, start)
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{}: {e}", path.display())))
}

/// `lead_final(peak_above_start)`: the lead's workload has returned with this peak.
#[pyfunction]
fn lead_final(peak_above_start: i64) {
    meter::lead_final(peak_above_start);
}

/// `follow(path, start, share, callback)`: calls `callback(level)` in the main thread,
/// once, when traced memory first reaches `share` of the lead's final peak above
/// `start`, never running ahead of the lead (see [`crate::python::pace`]).
#[pyfunction]
fn follow(
    path: std::path::PathBuf,
    start: i64,
    share: f64,
    callback: &Bound<'_, PyAny>,
) -> PyResult<()> {
    // SAFETY: the GIL is held and `callback` is live; the meter keeps a reference.
    unsafe { meter::follow(&path, start, share, callback.as_ptr()) }
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{}: {e}", path.display())))
}

/// `sampled_probability(nbytes) -> float`: the chance a block that size was sampled.
#[pyfunction]
fn sampled_probability(nbytes: usize) -> f64 {
    meter::sampled_probability(nbytes)
}

/// `hit(unit)`: the instrumented code unit `unit` ran.
#[pyfunction]
fn hit(unit: u32) {
    if let Ok(mut hits) = HITS.lock() {
        hits.insert(unit);
    }
}

/// `take_hits() -> [unit]`: the units reached since the last call, sorted.
#[pyfunction]
fn take_hits() -> Vec<u32> {
    match HITS.lock() {
        Ok(mut hits) => std::mem::take(&mut *hits).into_iter().collect(),
        Err(_) => Vec::new(),
    }
}

/// Builds `_pyslim_native` and registers it in `sys.modules`.
pub fn register(py: Python<'_>) -> PyResult<()> {
    let module = PyModule::new(py, "_pyslim_native")?;
    module.add_function(wrap_pyfunction!(traced, &module)?)?;
    module.add_function(wrap_pyfunction!(set_peak, &module)?)?;
    module.add_function(wrap_pyfunction!(installed, &module)?)?;
    module.add_function(wrap_pyfunction!(sampling, &module)?)?;
    module.add_function(wrap_pyfunction!(peak_sites, &module)?)?;
    module.add_function(wrap_pyfunction!(live_sites, &module)?)?;
    module.add_function(wrap_pyfunction!(storage_site, &module)?)?;
    module.add_function(wrap_pyfunction!(census_at, &module)?)?;
    module.add_function(wrap_pyfunction!(sampled_probability, &module)?)?;
    module.add_function(wrap_pyfunction!(lead, &module)?)?;
    module.add_function(wrap_pyfunction!(lead_final, &module)?)?;
    module.add_function(wrap_pyfunction!(follow, &module)?)?;
    module.add_function(wrap_pyfunction!(hit, &module)?)?;
    module.add_function(wrap_pyfunction!(take_hits, &module)?)?;
    py.import("sys")?
        .getattr("modules")?
        .set_item("_pyslim_native", module)?;
    Ok(())
}
