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

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::{Event, Revision, StoreError, codec};

/// Segments are rolled at checkpoints, or earlier once they reach this size.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// The open tail segment.
pub struct Wal {
    dir: PathBuf,
    file: File,
    /// Bytes in the current segment.
    size: u64,
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

/// Reads the valid records of one segment; returns them and the length of the valid
/// prefix (anything after it is a torn or corrupt tail).
fn read_segment(path: &Path) -> Result<(Vec<Event>, u64), StoreError> {
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
        match codec::decode_event(revision, &payload[8..]) {
            Ok(event) => events.push(event),
            Err(_) => break,
        }
        at = end;
    }
    Ok((events, at as u64))
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
            let (events, valid) = read_segment(path)?;
            let len = std::fs::metadata(path)
                .map_err(|e| io("reading", path, e))?
                .len();
            if valid < len {
                if i + 1 < segs.len() {
                    // A damaged segment followed by newer ones means lost
                    // acknowledged writes: refuse rather than silently skip them.
                    return Err(StoreError::Backend(format!(
                        "write-ahead log segment {} is damaged at byte {valid} and is not the last one",
                        path.display()
                    )));
                }
                tracing::warn!(segment = %path.display(), valid, len, "cutting off a torn write-ahead log tail");
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
            .append(true)
            .open(&path)
            .map_err(|e| io("opening", &path, e))?;
        sync_dir(dir)?;
        Ok((
            Self {
                dir: dir.to_path_buf(),
                file,
                size,
            },
            replay,
        ))
    }

    /// Appends `bytes` (whole records) and makes them durable.
    pub fn append_durable(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.file
            .write_all(bytes)
            .map_err(|e| io("appending to", &self.dir, e))?;
        self.file
            .sync_data()
            .map_err(|e| io("syncing", &self.dir, e))?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Starts a new segment whose records begin after `revision`.
    pub fn roll(&mut self, revision: Revision) -> Result<(), StoreError> {
        let path = self.dir.join(segment_name(revision + 1));
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io("opening", &path, e))?;
        self.size = 0;
        sync_dir(&self.dir)
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
}
