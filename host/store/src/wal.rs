//! The write-ahead log that makes sled writes durable cheaply.
//!
//! Every write is appended here as a checksummed record and acknowledged once a
//! group of records is `fdatasync`ed: one sequential write and one sync per group,
//! instead of a flush of sled's page cache per group. sled itself is flushed only at
//! checkpoints; on open, records newer than sled's flushed revision are replayed.
//! This is the shape of etcd's own WAL-plus-backend design.
//!
//! The log is a series of segment files `wal-<first revision, 20 digits>.log`. A
//! checkpoint starts a new segment, flushes sled, then deletes the segments sled now
//! covers. A torn tail (a crash mid-append) is detected by length and checksum and cut
//! off on open; nothing after it was ever acknowledged.
//!
//! Record: `len: u32 LE | checksum(payload): u32 LE | payload`, payload =
//! `revision: u64 BE | encoded event`.
//!
//! Space is allocated ahead of the records, [`PREALLOCATE_BYTES`] of zeros at a
//! time, and records overwrite it in place. An append that grows the file makes
//! `fdatasync` commit the file system's metadata too (its size and new blocks,
//! through the ext4 journal); one that overwrites allocated blocks syncs the data
//! alone. Measured on these machines: 300–370 µs and ~106 µs of kernel CPU per sync
//! in place, against 575–820 µs and 180–220 µs per appending sync. etcd
//! preallocates its WAL segments for the same reason. A zero length where a record
//! would start is the clean end of the log.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::{Event, Revision, StoreError, codec};

/// Segments are rolled at checkpoints, or earlier once they reach this size.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Zeros written ahead of the records at a time: one sync in this many bytes of
/// log pays for the file growing.
pub const PREALLOCATE_BYTES: u64 = 4 * 1024 * 1024;

/// The open tail segment.
pub struct Wal {
    dir: PathBuf,
    file: File,
    /// Bytes of records in the current segment: where the next one goes.
    size: u64,
    /// Length of the current segment's file: records, then zeros.
    allocated: u64,
    /// The first append that failed. The log refuses every append after it: where
    /// a failed write stopped is unknown, and Linux reports a failed write-back to
    /// one `fdatasync` only, so a later sync could succeed over a gap.
    failed: Option<StoreError>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("{what} {}: {e}", path.display()))
}

fn segment_name(first: Revision) -> String {
    format!("wal-{first:020}.log")
}

/// Segments in `dir`, oldest first, with the first revision each may hold.
fn segments(dir: &Path) -> Result<Vec<(Revision, PathBuf)>, StoreError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| io("listing", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io("listing", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(rev) = name
            .strip_prefix("wal-")
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse::<Revision>().ok())
        {
            out.push((rev, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Appends `event`'s record to `out`, encoding it in place: the write path builds
/// a group commit's records in one buffer, without a copy per record.
pub fn append_record(out: &mut Vec<u8>, event: &Event) {
    let start = out.len();
    // Length and checksum, filled in once the payload is there.
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&event.revision.to_be_bytes());
    codec::encode_event_into(out, event);
    let payload = &out[start + 8..];
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let crc = checksum(payload);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// What follows a segment's valid records.
#[derive(Debug, PartialEq, Eq)]
enum Tail {
    /// Nothing, or preallocated zeros.
    Clean,
    /// A torn or corrupt record: a crash mid-append, or damage.
    Torn,
}

/// Reads the valid records of one segment; returns them, the length of the valid
/// prefix and what follows it.
fn read_segment(path: &Path) -> Result<(Vec<Event>, u64, Tail), StoreError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| io("reading", path, e))?;
    let mut events = Vec::new();
    let mut at = 0usize;
    while bytes.len() - at >= 8 {
        let len =
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let crc = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
        let start = at + 8;
        let Some(end) = start.checked_add(len).filter(|&e| e <= bytes.len()) else {
            break;
        };
        let payload = &bytes[start..end];
        if len < 8 || checksum(payload) != crc {
            break;
        }
        let revision = codec::decode_u64(&payload[..8])?;
        if revision == 0 || revision == Revision::MAX {
            // Never written by a store (revisions start at 1 and cannot run out).
            break;
        }
        match codec::decode_event(revision, &payload[8..]) {
            Ok(event) => events.push(event),
            Err(_) => break,
        }
        at = end;
    }
    let tail = if bytes[at..].iter().all(|&b| b == 0) {
        Tail::Clean
    } else {
        Tail::Torn
    };
    Ok((events, at as u64, tail))
}

impl Wal {
    /// Opens the log in `dir`, returning it and every record it holds, in order, for
    /// the caller to replay what it lacks. Cuts off a torn tail. `applied` is the
    /// newest revision the caller already holds; a log with no segment yet starts its
    /// first one after it.
    pub fn open(dir: &Path, applied: Revision) -> Result<(Self, Vec<Event>), StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, e))?;
        let mut replay = Vec::new();
        let segs = segments(dir)?;
        let mut tail: Option<(PathBuf, u64)> = None;
        for (i, (_, path)) in segs.iter().enumerate() {
            let (events, valid, after) = read_segment(path)?;
            let len = std::fs::metadata(path)
                .map_err(|e| io("reading", path, e))?
                .len();
            let last = i + 1 == segs.len();
            if after == Tail::Torn {
                if !last {
                    // A damaged segment followed by newer ones means lost
                    // acknowledged writes: refuse rather than silently skip them.
                    return Err(StoreError::Backend(format!(
                        "write-ahead log segment {} is damaged at byte {valid} and is not the last one",
                        path.display()
                    )));
                }
                tracing::warn!(segment = %path.display(), valid, len, "cutting off a torn write-ahead log tail");
            }
            if last && valid < len {
                // Torn or preallocated, the tail segment continues from its last
                // record; its space is allocated again as it fills.
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| io("opening", path, e))?;
                f.set_len(valid).map_err(|e| io("truncating", path, e))?;
                f.sync_all().map_err(|e| io("syncing", path, e))?;
            }
            replay.extend(events);
            tail = Some((path.clone(), valid));
        }
        let (path, size) = match tail {
            Some(t) => t,
            None => {
                let path = dir.join(segment_name(applied + 1));
                (path, 0)
            }
        };
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("opening", &path, e))?;
        // What was read back may have come from the page cache of a process killed
        // before its sync: synced now, before any of it is replayed and shown.
        file.sync_all().map_err(|e| io("syncing", &path, e))?;
        sync_dir(dir)?;
        Ok((
            Self {
                dir: dir.to_path_buf(),
                file,
                size,
                allocated: size,
                failed: None,
            },
            replay,
        ))
    }

    /// Appends `bytes` (whole records) and makes them durable.
    pub fn append_durable(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let appended = self.append(bytes);
        if let Err(e) = &appended {
            self.failed = Some(e.clone());
        }
        appended
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let end = self.size + bytes.len() as u64;
        if end > self.allocated {
            self.preallocate(end + PREALLOCATE_BYTES)?;
        }
        self.file
            .write_all_at(bytes, self.size)
            .map_err(|e| io("appending to", &self.dir, e))?;
        self.file
            .sync_data()
            .map_err(|e| io("syncing", &self.dir, e))?;
        self.size = end;
        Ok(())
    }

    /// Writes zeros up to `len`. Not synced here: the append that needed the space
    /// syncs it with its records.
    fn preallocate(&mut self, len: u64) -> Result<(), StoreError> {
        static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
        let mut at = self.allocated;
        while at < len {
            let n = (len - at).min(ZEROS.len() as u64) as usize;
            self.file
                .write_all_at(&ZEROS[..n], at)
                .map_err(|e| io("allocating space in", &self.dir, e))?;
            at += n as u64;
        }
        self.allocated = len;
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Starts a new segment whose records begin after `revision`.
    pub fn roll(&mut self, revision: Revision) -> Result<(), StoreError> {
        // The finished segment gives back its unused space. Not synced: should the
        // truncation be lost, its zeros read as the clean end they are.
        if let Err(e) = self.file.set_len(self.size) {
            tracing::debug!(dir = %self.dir.display(), error = %e, "could not trim a finished write-ahead log segment");
        }
        let path = self.dir.join(segment_name(revision + 1));
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("opening", &path, e))?;
        // The new segment's name is made durable before any record goes into it.
        // Should that fail, the log stays in the old segment and the empty new file
        // is removed: beside a segment still receiving records, its name would
        // claim a lower first revision than the records it follows.
        if let Err(e) = sync_dir(&self.dir) {
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        self.file = file;
        self.size = 0;
        self.allocated = 0;
        Ok(())
    }

    /// Deletes segments whose records are all at or below `covered` (now in sled).
    pub fn release(&self, covered: Revision) -> Result<(), StoreError> {
        let segs = segments(&self.dir)?;
        for pair in segs.windows(2) {
            let ((_, path), (next_first, _)) = (&pair[0], &pair[1]);
            // Every record of a segment is below the next segment's first revision.
            if *next_first <= covered + 1 {
                std::fs::remove_file(path).map_err(|e| io("removing", path, e))?;
            }
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("syncing directory", dir, e))
}

/// CRC-32 (IEEE), hardware-accelerated by `crc32fast`.
fn checksum(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;

    fn record(event: &Event) -> Vec<u8> {
        let mut out = Vec::new();
        append_record(&mut out, event);
        out
    }

    fn event(revision: Revision) -> Event {
        Event {
            revision,
            kind: EventKind::Created,
            key: format!("/k/{revision}"),
            value: bytes::Bytes::from(vec![b'v'; 100]),
            prev_value: None,
            prev_revision: None,
        }
    }

    #[test]
    fn checksum_is_the_standard_crc32() {
        assert_eq!(checksum(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn records_survive_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, replay) = Wal::open(dir.path(), 0).unwrap();
        assert!(replay.is_empty());
        let mut bytes = Vec::new();
        for r in 1..=3 {
            bytes.extend(record(&event(r)));
        }
        wal.append_durable(&bytes).unwrap();
        // Half of a fourth record: a crash mid-append.
        let partial = record(&event(4));
        wal.append_durable(&partial[..partial.len() / 2]).unwrap();
        drop(wal);
        let (mut wal, replay) = Wal::open(dir.path(), 1).unwrap();
        assert_eq!(
            replay.iter().map(|e| e.revision).collect::<Vec<_>>(),
            [1, 2, 3],
            "every whole record, none of the torn one"
        );
        wal.append_durable(&record(&event(4))).unwrap();
        drop(wal);
        let (_, replay) = Wal::open(dir.path(), 0).unwrap();
        assert_eq!(
            replay.iter().map(|e| e.revision).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn a_record_claiming_revision_zero_ends_the_log_like_a_torn_write() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
        let mut bytes = record(&event(1));
        // Well formed, checksum and all, but no store ever writes revision 0.
        bytes.extend(record(&event(0)));
        wal.append_durable(&bytes).unwrap();
        drop(wal);
        let (_, replay) = Wal::open(dir.path(), 0).unwrap();
        assert_eq!(replay.iter().map(|e| e.revision).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn released_segments_are_gone_and_the_rest_replays() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
        wal.append_durable(&record(&event(1))).unwrap();
        wal.roll(1).unwrap();
        wal.append_durable(&record(&event(2))).unwrap();
        wal.release(1).unwrap();
        assert_eq!(segments(dir.path()).unwrap().len(), 1);
        drop(wal);
        let (_, replay) = Wal::open(dir.path(), 1).unwrap();
        assert_eq!(
            replay.iter().map(|e| e.revision).collect::<Vec<_>>(),
            [2],
            "segment 1 was released"
        );
    }

    #[test]
    fn preallocated_space_reads_as_the_clean_end_of_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
        for r in 1..=3 {
            wal.append_durable(&record(&event(r))).unwrap();
        }
        let first = segments(dir.path()).unwrap()[0].1.clone();
        let on_disk = std::fs::metadata(&first).unwrap().len();
        assert!(
            on_disk >= PREALLOCATE_BYTES && wal.size() < on_disk,
            "space is allocated ahead of the records ({on_disk} bytes for {})",
            wal.size()
        );
        drop(wal);
        let (mut wal, replay) = Wal::open(dir.path(), 0).unwrap();
        assert_eq!(
            replay.iter().map(|e| e.revision).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        wal.append_durable(&record(&event(4))).unwrap();
        wal.roll(4).unwrap();
        assert_eq!(
            std::fs::metadata(&first).unwrap().len(),
            wal_bytes(1..=4),
            "a finished segment gives back its unused space"
        );
        // A crash that lost that trim leaves zeros after a finished segment's
        // records: the clean end of that segment, not damage.
        OpenOptions::new()
            .write(true)
            .open(&first)
            .unwrap()
            .set_len(wal_bytes(1..=4) + 4096)
            .unwrap();
        wal.append_durable(&record(&event(5))).unwrap();
        drop(wal);
        let (_, replay) = Wal::open(dir.path(), 0).unwrap();
        assert_eq!(
            replay.iter().map(|e| e.revision).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
    }

    fn wal_bytes(revisions: std::ops::RangeInclusive<Revision>) -> u64 {
        revisions.map(|r| record(&event(r)).len() as u64).sum()
    }
}
