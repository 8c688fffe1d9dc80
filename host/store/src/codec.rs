//! On-disk encodings of the sled backend: object records in sled, change records in
//! the write-ahead log.
//!
//! sled layout, one tree so that a write is one atomic batch:
//! - `o<key>` → `mod_revision (u64 BE) ++ value`
//! - `mrev`   → the newest revision applied (u64 BE)

use crate::{Event, EventKind, Revision, StoreError};

pub const OBJECT_PREFIX: u8 = b'o';
pub const META_REVISION: &[u8] = b"mrev";

pub fn object_key(key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(OBJECT_PREFIX);
    k.extend_from_slice(key.as_bytes());
    k
}

pub fn encode_object(revision: Revision, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(value.len() + 8);
    v.extend_from_slice(&revision.to_be_bytes());
    v.extend_from_slice(value);
    v
}

pub fn decode_object(bytes: &[u8]) -> Result<(Revision, &[u8]), StoreError> {
    if bytes.len() < 8 {
        return Err(corrupt("object record shorter than its revision"));
    }
    let (rev, value) = bytes.split_at(8);
    Ok((decode_u64(rev)?, value))
}

pub fn decode_u64(bytes: &[u8]) -> Result<u64, StoreError> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| corrupt("revision field is not 8 bytes"))?;
    Ok(u64::from_be_bytes(arr))
}

/// Set in the kind byte of a record that ends with the previous value's revision.
const WITH_PREV_REVISION: u8 = 0x10;

/// `kind (1) ++ key ++ value ++ prev [++ prev_revision (u64 BE)]`, each variable part
/// length-prefixed (u32 BE); a missing `prev` has length `u32::MAX`. The trailing
/// revision is there when the kind byte has [`WITH_PREV_REVISION`] (records written
/// before it existed have not). Appended to `out`.
pub fn encode_event_into(out: &mut Vec<u8>, event: &Event) {
    let prev_len = event.prev_value.as_ref().map_or(0, |p| p.len());
    out.reserve(21 + event.key.len() + event.value.len() + prev_len);
    let kind = match event.kind {
        EventKind::Created => 0,
        EventKind::Updated => 1,
        EventKind::Deleted => 2,
    };
    let flag = if event.prev_revision.is_some() {
        WITH_PREV_REVISION
    } else {
        0
    };
    out.push(kind | flag);
    put_bytes(out, event.key.as_bytes());
    put_bytes(out, &event.value);
    match &event.prev_value {
        Some(prev) => put_bytes(out, prev),
        None => out.extend_from_slice(&u32::MAX.to_be_bytes()),
    }
    if let Some(prev_revision) = event.prev_revision {
        out.extend_from_slice(&prev_revision.to_be_bytes());
    }
}

pub fn decode_event(revision: Revision, bytes: &[u8]) -> Result<Event, StoreError> {
    let (&kind, mut rest) = bytes
        .split_first()
        .ok_or_else(|| corrupt("empty history record"))?;
    let with_prev_revision = kind & WITH_PREV_REVISION != 0;
    let kind = match kind & !WITH_PREV_REVISION {
        0 => EventKind::Created,
        1 => EventKind::Updated,
        2 => EventKind::Deleted,
        other => return Err(corrupt(&format!("unknown event kind {other}"))),
    };
    let key = take_bytes(&mut rest)?.ok_or_else(|| corrupt("history record without key"))?;
    let key = String::from_utf8(key.to_vec()).map_err(|_| corrupt("key is not UTF-8"))?;
    let value = bytes::Bytes::copy_from_slice(
        take_bytes(&mut rest)?.ok_or_else(|| corrupt("history record without value"))?,
    );
    let prev_value = take_bytes(&mut rest)?.map(bytes::Bytes::copy_from_slice);
    let prev_revision = if with_prev_revision {
        let bytes = rest
            .get(..8)
            .ok_or_else(|| corrupt("truncated history record"))?;
        Some(decode_u64(bytes)?)
    } else {
        None
    };
    Ok(Event {
        revision,
        kind,
        key,
        value,
        prev_value,
        prev_revision,
    })
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Values are bounded far below 4 GiB by the API server's request size limit.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX - 1);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn take_bytes<'a>(rest: &mut &'a [u8]) -> Result<Option<&'a [u8]>, StoreError> {
    if rest.len() < 4 {
        return Err(corrupt("truncated history record"));
    }
    let (len, tail) = rest.split_at(4);
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
    if len == u32::MAX {
        *rest = tail;
        return Ok(None);
    }
    let len = len as usize;
    if tail.len() < len {
        return Err(corrupt("truncated history record"));
    }
    let (bytes, tail) = tail.split_at(len);
    *rest = tail;
    Ok(Some(bytes))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt record: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(event: &Event) -> Vec<u8> {
        let mut out = Vec::new();
        encode_event_into(&mut out, event);
        out
    }

    #[test]
    fn events_round_trip() {
        for (kind, prev, prev_revision) in [
            (EventKind::Created, None, None),
            (EventKind::Updated, Some(b"old".to_vec()), Some(5)),
            (EventKind::Updated, Some(b"old".to_vec()), None),
            (EventKind::Deleted, Some(Vec::new()), Some(6)),
        ] {
            let event = Event {
                revision: 7,
                kind,
                key: "/registry/pods/default/p".into(),
                value: bytes::Bytes::from_static(b"{}"),
                prev_value: prev.map(bytes::Bytes::from),
                prev_revision,
            };
            assert_eq!(decode_event(7, &encoded(&event)).unwrap(), event);
        }
    }

    #[test]
    fn truncated_records_are_errors_not_panics() {
        let event = Event {
            revision: 1,
            kind: EventKind::Updated,
            key: "k".into(),
            value: bytes::Bytes::from_static(b"value"),
            prev_value: Some(bytes::Bytes::from_static(b"p")),
            prev_revision: Some(3),
        };
        let bytes = encoded(&event);
        for cut in 0..bytes.len() {
            assert!(decode_event(1, &bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode_object(&[1, 2, 3]).is_err());
    }
}
