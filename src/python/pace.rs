//! Pacing a census run behind a lead run of the same workload.
//!
//! A profile needs a census of the heap when memory is at its peak, and the peak is
//! only known once a run has ended. Without pacing, a second run (the census run)
//! starts after the first (the lead) and takes its census when it reaches 99.5% of
//! the lead's peak. With pacing, both run at once: the lead publishes its peak so far
//! in a small shared file, and the census run never climbs past the lead's published
//! peak (times the share) while the lead is still running; it waits inside the
//! allocator until the lead has gone higher or has ended. Once the lead has ended,
//! its final peak is known and the census is taken at the first point the census run
//! reaches the share of it, which is where the sequential design takes it too. The
//! same program allocates the same way in both runs (the hash seed is fixed), so the
//! census run, which is slower (probes, census), rarely waits at all.
//!
//! The record is four native-endian `i64`s, written by the lead's meter through a
//! shared mapping and by the parent with plain file writes (the page cache keeps both
//! views coherent on Linux):
//!
//! | slot | holds |
//! |------|-------|
//! | 0 | state: [`WAITING`], [`LEADING`], [`FINAL`] or [`ABANDONED`] |
//! | 1 | the lead's traced bytes when its meter started |
//! | 2 | the lead's highest traced bytes so far |
//! | 3 | the lead's final peak above its start (valid once [`FINAL`]) |
//!
//! Only the embedded worker paces (the native meter sees every allocation); with the
//! venv's own interpreter the runs stay sequential.

use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::{Context, Result};

/// The record's size in bytes.
pub const RECORD_BYTES: usize = 32;
/// The lead has not started measuring yet.
pub const WAITING: i64 = 0;
/// The lead is running; slots 1 and 2 are valid.
pub const LEADING: i64 = 1;
/// The lead's workload returned; slot 3 holds its peak above start.
pub const FINAL: i64 = 2;
/// The lead ended without a final peak (it failed or was killed): no census.
pub const ABANDONED: i64 = 3;

/// Slot indexes in the record.
pub const STATE: usize = 0;
/// See the module doc.
pub const LEAD_START: usize = 1;
/// See the module doc.
pub const LEAD_PEAK: usize = 2;
/// See the module doc.
pub const LEAD_FINAL: usize = 3;

/// One reading of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Slot 0.
    pub state: i64,
    /// Slot 1.
    pub lead_start: i64,
    /// Slot 2.
    pub lead_peak: i64,
    /// Slot 3.
    pub lead_final: i64,
}

/// What the census run does when its traced memory reaches a new level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Take the census now.
    Census,
    /// Go on until traced memory reaches this many bytes above the run's start.
    Until(i64),
    /// Wait: the lead has not been this high yet.
    Wait,
    /// No census will come (the lead was abandoned): stop checking.
    Off,
}

/// The census run's step at `above` bytes above its own start, with the census due at
/// `share` of the lead's final peak.
pub fn step(reading: Reading, above: i64, share: f64) -> Step {
    let part = |bytes: i64| (bytes.max(0) as f64 * share) as i64;
    match reading.state {
        FINAL => {
            let at = part(reading.lead_final);
            if above >= at {
                Step::Census
            } else {
                Step::Until(at)
            }
        }
        LEADING => {
            let allowed = part(reading.lead_peak - reading.lead_start);
            if above < allowed {
                Step::Until(allowed)
            } else {
                Step::Wait
            }
        }
        ABANDONED => Step::Off,
        _ => Step::Wait,
    }
}

/// Creates the record at `path`, in state [`WAITING`].
pub fn create(path: &Path) -> Result<()> {
    std::fs::write(path, [0u8; RECORD_BYTES])
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Reads the record at `path`.
pub fn read(path: &Path) -> Result<Reading> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let slot = |i: usize| {
        let mut word = [0u8; 8];
        if let Some(b) = bytes.get(i * 8..i * 8 + 8) {
            word.copy_from_slice(b);
        }
        i64::from_ne_bytes(word)
    };
    Ok(Reading {
        state: slot(STATE),
        lead_start: slot(LEAD_START),
        lead_peak: slot(LEAD_PEAK),
        lead_final: slot(LEAD_FINAL),
    })
}

/// Marks the lead as ended without a final peak unless it wrote one, so that a census
/// run waiting on it goes on (and ends) instead of waiting for its time limit.
pub fn abandon_unless_final(path: &Path) -> Result<()> {
    if read(path)?.state == FINAL {
        return Ok(());
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all_at(&ABANDONED.to_ne_bytes(), (STATE * 8) as u64)
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leading(start: i64, peak: i64) -> Reading {
        Reading {
            state: LEADING,
            lead_start: start,
            lead_peak: peak,
            lead_final: 0,
        }
    }

    #[test]
    fn the_census_run_stays_below_the_lead_while_it_runs() {
        // The lead has been 1,000 bytes above its start: the census run may go on to
        // 995 above its own, and waits there.
        assert_eq!(step(leading(5_000, 6_000), 0, 0.995), Step::Until(995));
        assert_eq!(step(leading(5_000, 6_000), 995, 0.995), Step::Wait);
        assert_eq!(step(leading(5_000, 6_000), 2_000, 0.995), Step::Wait);
    }

    #[test]
    fn a_finished_lead_sets_the_census_level() {
        let done = Reading {
            state: FINAL,
            lead_final: 10_000,
            ..leading(0, 10_000)
        };
        assert_eq!(step(done, 9_000, 0.995), Step::Until(9_950));
        assert_eq!(step(done, 9_950, 0.995), Step::Census);
        assert_eq!(step(done, 12_000, 0.995), Step::Census);
    }

    #[test]
    fn before_the_lead_starts_and_after_it_is_abandoned() {
        let waiting = Reading {
            state: WAITING,
            ..leading(0, 0)
        };
        assert_eq!(step(waiting, 0, 0.995), Step::Wait);
        let gone = Reading {
            state: ABANDONED,
            ..leading(0, 0)
        };
        assert_eq!(step(gone, 0, 0.995), Step::Off);
    }

    #[test]
    fn the_parent_abandons_only_a_lead_without_a_final_peak() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pace");
        create(&path).unwrap();
        assert_eq!(read(&path).unwrap().state, WAITING);
        abandon_unless_final(&path).unwrap();
        assert_eq!(read(&path).unwrap().state, ABANDONED);

        let mut record = [0u8; RECORD_BYTES];
        record[..8].copy_from_slice(&FINAL.to_ne_bytes());
        record[24..].copy_from_slice(&123i64.to_ne_bytes());
        std::fs::write(&path, record).unwrap();
        abandon_unless_final(&path).unwrap();
        let reading = read(&path).unwrap();
        assert_eq!((reading.state, reading.lead_final), (FINAL, 123));
    }
}
