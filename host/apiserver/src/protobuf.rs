//! Reading Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`).
//!
//! kubectl's typed clients (`kubectl create namespace|deployment|configmap|secret|service|
//! serviceaccount` and `kubectl auth can-i|whoami` in kubectl 1.32) and client-go based
//! components send their request bodies as protobuf.
//! Wharf keeps and processes objects only as Kubernetes JSON, so this module turns such a
//! body into exactly the JSON the same client would have sent with
//! `Content-Type: application/json`; after that, the request is handled like any JSON one.
//! The server always answers in JSON, so there is no encoder here.
//!
//! A body is the 4-byte magic `k8s\0` followed by a `runtime.Unknown` envelope whose
//! `typeMeta` names the kind and whose `raw` holds the object's own protobuf message. The
//! object is read by a small generic wire decoder driven by the static schema table at the
//! bottom of this file (field number, JSON name and type for every message Wharf accepts),
//! so adding a field is a one-line change and no generated code is needed.
//!
//! This module must never:
//! - panic, loop forever or exhaust the stack on hostile input: every read is bounds
//!   checked, every loop consumes input, and message nesting is capped at [`MAX_DEPTH`];
//! - fail on a field number it does not know: newer clients add fields, and protobuf's rule
//!   is to skip them (their wire type says how long they are);
//! - guess at a kind it has no schema for: that is an error naming the kind, so the client
//!   learns the body was not understood instead of getting a half-empty object stored;
//! - invent fields: a field absent from the body is absent from the JSON.

use std::fmt;

use serde_json::{Map, Value};

/// The media type this module reads.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Every Kubernetes protobuf body starts with these bytes, so a body of another format is
/// rejected before any of it is interpreted as protobuf.
const MAGIC: &[u8] = b"k8s\x00";

/// The deepest message nesting accepted. Real objects stay far below it (a pod's
/// `spec.affinity.nodeAffinity...matchExpressions` is about 10 deep); the cap only stops
/// crafted bodies from recursing until the stack runs out.
const MAX_DEPTH: usize = 64;

/// Why a body could not be read. The message is meant for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtobufError(pub String);

impl fmt::Display for ProtobufError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtobufError {}

/// Decodes a Kubernetes protobuf request body into the object's Kubernetes JSON, with
/// "apiVersion" and "kind" set from the envelope's typeMeta.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let rest = body.strip_prefix(MAGIC).ok_or_else(|| {
        ProtobufError("protobuf body does not start with the Kubernetes magic \"k8s\\0\"".into())
    })?;
    let envelope = Envelope::parse(rest)
        .map_err(|f| ProtobufError(format!("invalid protobuf envelope: {f}")))?;
    let (api_version, kind) = (envelope.api_version, envelope.kind);
    if kind.is_empty() {
        return Err(ProtobufError("protobuf envelope names no kind".into()));
    }
    if !envelope.content_encoding.is_empty() {
        return Err(ProtobufError(format!(
            "protobuf envelope content encoding {:?} is not supported",
            envelope.content_encoding
        )));
    }
    let message = schema::lookup(&api_version, &kind).ok_or_else(|| {
        ProtobufError(format!(
            "protobuf bodies of kind {kind} in {api_version} are not supported; send JSON"
        ))
    })?;
    let mut object = Map::new();
    decode_into(envelope.raw, message, &mut object, 1)
        .map_err(|f| ProtobufError(format!("invalid protobuf {api_version} {kind}: {f}")))?;
    // Set after decoding so the envelope is the one authority on the type, as it is for
    // the Kubernetes API server.
    object.insert("apiVersion".into(), Value::String(api_version));
    object.insert("kind".into(), Value::String(kind));
    Ok(Value::Object(object))
}

/// A decoding failure together with the JSON path where it happened, built up on the way
/// out of the recursion so that the client's error names the offending field.
#[derive(Debug)]
struct Fault {
    path: String,
    msg: String,
}

impl Fault {
    fn new(msg: impl Into<String>) -> Self {
        Fault {
            path: String::new(),
            msg: msg.into(),
        }
    }

    fn within(mut self, name: &str) -> Self {
        self.path = if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{name}.{}", self.path)
        };
        self
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.msg)
        } else {
            write!(f, "{}: {}", self.path, self.msg)
        }
    }
}

type Result<T, E = Fault> = std::result::Result<T, E>;

/// The `runtime.Unknown` envelope around the object.
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
}

impl<'a> Envelope<'a> {
    fn parse(buf: &'a [u8]) -> Result<Self> {
        let mut envelope = Envelope {
            api_version: String::new(),
            kind: String::new(),
            raw: &[],
            content_encoding: String::new(),
        };
        let mut reader = Reader::new(buf);
        while let Some((number, wire)) = reader.next_field()? {
            match number {
                1 => envelope
                    .read_type_meta(wire)
                    .map_err(|f| f.within("typeMeta"))?,
                2 => envelope.raw = wire.bytes().map_err(|f| f.within("raw"))?,
                3 => {
                    envelope.content_encoding =
                        string(wire).map_err(|f| f.within("contentEncoding"))?
                }
                // contentType (4) only repeats the media type; other fields are unknown.
                _ => {}
            }
        }
        Ok(envelope)
    }

    fn read_type_meta(&mut self, wire: Wire<'_>) -> Result<()> {
        let mut reader = Reader::new(wire.bytes()?);
        while let Some((number, wire)) = reader.next_field()? {
            match number {
                1 => self.api_version = string(wire).map_err(|f| f.within("apiVersion"))?,
                2 => self.kind = string(wire).map_err(|f| f.within("kind"))?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// One field value as it appears on the wire, before the schema gives it a meaning.
#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    // No covered field is fixed-width, so their values are only ever skipped.
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32,
    /// A (deprecated) group, already skipped: no Kubernetes message uses groups, but a
    /// well-formed protobuf may carry one as an unknown field.
    Group,
}

impl<'a> Wire<'a> {
    fn name(self) -> &'static str {
        match self {
            Wire::Varint(_) => "varint",
            Wire::Fixed64 => "fixed64",
            Wire::Bytes(_) => "length-delimited",
            Wire::Fixed32 => "fixed32",
            Wire::Group => "group",
        }
    }

    fn bytes(self) -> Result<&'a [u8]> {
        match self {
            Wire::Bytes(b) => Ok(b),
            other => Err(wrong_wire(other, "length-delimited")),
        }
    }

    fn varint(self) -> Result<u64> {
        match self {
            Wire::Varint(v) => Ok(v),
            other => Err(wrong_wire(other, "varint")),
        }
    }
}

fn wrong_wire(got: Wire<'_>, want: &str) -> Fault {
    Fault::new(format!(
        "wrong wire type: got {}, expected {want}",
        got.name()
    ))
}

/// A cursor over one message's bytes. Every method either consumes input or fails, which
/// is what guarantees that decoding terminates.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        // A 64-bit varint takes at most 10 bytes; an 11th continuation is malformed, as in
        // Go's decoder, rather than silently wrapping.
        for shift in (0..70).step_by(7) {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(Fault::new("truncated varint"));
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Fault::new("varint longer than 10 bytes"))
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8]> {
        let available = self.buf.len() - self.pos;
        match usize::try_from(len) {
            Ok(len) if len <= available => {
                let bytes = &self.buf[self.pos..self.pos + len];
                self.pos += len;
                Ok(bytes)
            }
            _ => Err(Fault::new(format!(
                "length {len} runs past the end of the message ({available} bytes left)"
            ))),
        }
    }

    /// Reads a field key and returns its number and wire type.
    fn key(&mut self) -> Result<(u32, u8)> {
        let key = self.varint()?;
        let number = key >> 3;
        // Field numbers are 1..=2^29-1; 0 and anything larger are corruption.
        if number == 0 || number > 0x1fff_ffff {
            return Err(Fault::new(format!("invalid field number {number}")));
        }
        Ok((number as u32, (key & 7) as u8))
    }

    /// Reads the next field, or `None` at the end of the message.
    fn next_field(&mut self) -> Result<Option<(u32, Wire<'a>)>> {
        if self.at_end() {
            return Ok(None);
        }
        let (number, wire_type) = self.key()?;
        let wire = match wire_type {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed64
            }
            2 => {
                let len = self.varint()?;
                Wire::Bytes(self.take(len)?)
            }
            3 => {
                self.skip_group(number)?;
                Wire::Group
            }
            4 => return Err(Fault::new(format!("unexpected end of group {number}"))),
            5 => {
                self.take(4)?;
                Wire::Fixed32
            }
            other => return Err(Fault::new(format!("invalid wire type {other}"))),
        };
        Ok(Some((number, wire)))
    }

    /// Skips a group whose start key was just read, including nested groups, without
    /// recursion; the open groups are kept on a stack bounded by [`MAX_DEPTH`].
    fn skip_group(&mut self, number: u32) -> Result<()> {
        let mut open = vec![number];
        while let Some(&innermost) = open.last() {
            if self.at_end() {
                return Err(Fault::new(format!("unterminated group {innermost}")));
            }
            let (number, wire_type) = self.key()?;
            match wire_type {
                0 => {
                    self.varint()?;
                }
                1 => {
                    self.take(8)?;
                }
                2 => {
                    let len = self.varint()?;
                    self.take(len)?;
                }
                3 if open.len() < MAX_DEPTH => open.push(number),
                3 => return Err(Fault::new("groups nested too deeply")),
                4 if number == innermost => {
                    open.pop();
                }
                4 => return Err(Fault::new(format!("group {innermost} ended as {number}"))),
                5 => {
                    self.take(4)?;
                }
                other => return Err(Fault::new(format!("invalid wire type {other}"))),
            }
        }
        Ok(())
    }
}

fn string(wire: Wire<'_>) -> Result<String> {
    let bytes = wire.bytes()?;
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| Fault::new("string is not valid UTF-8"))
}

/// One message type: its fields. A newtype rather than a bare slice so that statics can
/// refer to each other by address, which also allows recursive messages.
struct Message(&'static [Field]);

/// A field: its protobuf number, its JSON name and what it holds.
struct Field(u32, &'static str, Kind);

/// How a field occurs in a message.
#[derive(Clone, Copy)]
enum Kind {
    /// A single value, kept whenever it is on the wire: the Go field is a pointer (so its
    /// presence is meaningful even when zero, as in `replicas: 0`) or has no `omitempty`.
    One(Ty),
    /// A single scalar whose Go field is a non-pointer with `omitempty`. Go's protobuf
    /// encoder writes such fields even when zero, but its JSON encoder leaves zeros out;
    /// dropping them keeps an empty `imagePullPolicy` from looking set to the defaulting.
    OmitEmpty(Ty),
    /// A repeated value; numeric and bool ones may come packed or not.
    List(Ty),
    /// A `map<string, T>`: repeated entry messages with key = 1 and value = 2.
    Map(Ty),
    /// A Go struct embedded with `json:",inline"`: a nested message in protobuf, whose
    /// fields sit directly in the parent in JSON (e.g. `Volume.volumeSource`).
    Inline(&'static Message),
}

/// The type of a value.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    I32,
    I64,
    Bool,
    /// Bytes; JSON carries them as standard base64, as Go's encoding/json does.
    Bytes,
    Msg(&'static Message),
    /// `metav1.Time` {seconds = 1, nanos = 2}: an RFC 3339 string with whole seconds.
    Time,
    /// `metav1.MicroTime`: like `Time`, with exactly six fractional digits.
    MicroTime,
    /// `resource.Quantity` {string = 1}: the quantity's string.
    Quantity,
    /// `intstr.IntOrString` {type = 1, intVal = 2, strVal = 3}: a JSON number or string.
    IntOrString,
    /// `runtime.RawExtension` and `metav1.FieldsV1` {raw = 1}: embedded JSON.
    Raw,
}

impl Ty {
    /// Whether a repeated field of this type may be packed into one length-delimited run.
    fn packable(self) -> bool {
        matches!(self, Ty::I32 | Ty::I64 | Ty::Bool)
    }
}

/// Decodes the message in `buf` into `out`, merging with what is already there: protobuf
/// merges a message field that occurs twice, and an inline field writes into its parent.
fn decode_into(
    buf: &[u8],
    message: &Message,
    out: &mut Map<String, Value>,
    depth: usize,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Fault::new(format!(
            "messages nested deeper than {MAX_DEPTH}"
        )));
    }
    let mut reader = Reader::new(buf);
    while let Some((number, wire)) = reader.next_field()? {
        // Unknown fields were already skipped by reading them.
        let Some(Field(_, name, kind)) = message.0.iter().find(|f| f.0 == number) else {
            continue;
        };
        decode_field(*kind, wire, name, out, depth).map_err(|f| f.within(name))?;
    }
    Ok(())
}

fn decode_field(
    kind: Kind,
    wire: Wire<'_>,
    name: &str,
    out: &mut Map<String, Value>,
    depth: usize,
) -> Result<()> {
    match kind {
        Kind::One(Ty::Msg(message)) => {
            let bytes = wire.bytes()?;
            let slot = out.entry(name).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(map) = slot {
                decode_into(bytes, message, map, depth + 1)?;
            }
        }
        Kind::One(ty) | Kind::OmitEmpty(ty) => match value(ty, wire, depth)? {
            Some(v) if !(matches!(kind, Kind::OmitEmpty(_)) && is_zero(&v)) => {
                out.insert(name.to_string(), v);
            }
            // An empty Time or RawExtension is Go's zero value, which JSON writes as null;
            // leaving it out means the same to every reader. A later occurrence of a field
            // replaces an earlier one, so a zero one removes it.
            _ => {
                out.remove(name);
            }
        },
        Kind::Inline(message) => decode_into(wire.bytes()?, message, out, depth + 1)?,
        Kind::List(ty) => {
            let mut items = Vec::new();
            match wire {
                Wire::Bytes(bytes) if ty.packable() => unpack(ty, bytes, &mut items)?,
                _ => items.push(value(ty, wire, depth)?.unwrap_or(Value::Null)),
            }
            let slot = out.entry(name).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = slot {
                list.extend(items);
            } else {
                *slot = Value::Array(items);
            }
        }
        Kind::Map(ty) => {
            let (key, val) = map_entry(ty, wire.bytes()?, depth)?;
            let slot = out.entry(name).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(map) = slot {
                map.insert(key, val);
            }
        }
    }
    Ok(())
}

/// Whether a scalar is Go's zero value for its type.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_i64() == Some(0),
        Value::Bool(b) => !b,
        _ => false,
    }
}

/// Reads a packed run of numeric values.
fn unpack(ty: Ty, bytes: &[u8], items: &mut Vec<Value>) -> Result<()> {
    let mut reader = Reader::new(bytes);
    while !reader.at_end() {
        // Packed values are scalars, which never decode to "absent".
        items.extend(value(ty, Wire::Varint(reader.varint()?), 0)?);
    }
    Ok(())
}

/// Reads one map entry. A missing key or value is the type's default, as in protobuf.
fn map_entry(ty: Ty, bytes: &[u8], depth: usize) -> Result<(String, Value)> {
    let mut key = String::new();
    let mut val = None;
    let mut reader = Reader::new(bytes);
    while let Some((number, wire)) = reader.next_field()? {
        match number {
            1 => key = string(wire).map_err(|f| f.within("key"))?,
            2 => val = Some(value(ty, wire, depth).map_err(|f| f.within("value"))?),
            _ => {}
        }
    }
    let val = match val {
        Some(v) => v,
        None if ty.packable() => value(ty, Wire::Varint(0), depth)?,
        None => value(ty, Wire::Bytes(&[]), depth)?,
    };
    Ok((key, val.unwrap_or(Value::Null)))
}

/// Converts one wire value to JSON. `None` is Go's zero value that JSON writes as null.
fn value(ty: Ty, wire: Wire<'_>, depth: usize) -> Result<Option<Value>> {
    let v = match ty {
        Ty::Str => Value::String(string(wire)?),
        // Go truncates an int32 varint to its low 32 bits; negative ones arrive
        // sign-extended to 64 bits.
        Ty::I32 => Value::from(wire.varint()? as i32),
        Ty::I64 => Value::from(wire.varint()? as i64),
        Ty::Bool => Value::Bool(wire.varint()? != 0),
        Ty::Bytes => Value::String(base64(wire.bytes()?)),
        Ty::Msg(message) => {
            let mut map = Map::new();
            decode_into(wire.bytes()?, message, &mut map, depth + 1)?;
            Value::Object(map)
        }
        Ty::Time | Ty::MicroTime => return timestamp(ty, wire.bytes()?),
        Ty::Quantity => {
            // A Quantity message without its string is Go's zero Quantity, written "0".
            let s = single_string(wire.bytes()?)?;
            Value::String(s.unwrap_or_else(|| "0".to_string()))
        }
        Ty::IntOrString => int_or_string(wire.bytes()?)?,
        Ty::Raw => return raw_json(wire.bytes()?),
    };
    Ok(Some(v))
}

/// Reads a message whose only field is string 1 (Quantity).
fn single_string(bytes: &[u8]) -> Result<Option<String>> {
    let mut out = None;
    let mut reader = Reader::new(bytes);
    while let Some((number, wire)) = reader.next_field()? {
        if number == 1 {
            out = Some(string(wire)?);
        }
    }
    Ok(out)
}

fn int_or_string(bytes: &[u8]) -> Result<Value> {
    let (mut ty, mut int_val, mut str_val) = (0i64, 0i32, String::new());
    let mut reader = Reader::new(bytes);
    while let Some((number, wire)) = reader.next_field()? {
        match number {
            1 => ty = wire.varint()? as i64,
            2 => int_val = wire.varint()? as i32,
            3 => str_val = string(wire)?,
            _ => {}
        }
    }
    match ty {
        0 => Ok(Value::from(int_val)),
        1 => Ok(Value::String(str_val)),
        // Go's IntOrString refuses to marshal any other type, so neither do we.
        other => Err(Fault::new(format!("IntOrString has invalid type {other}"))),
    }
}

/// `RawExtension.raw` / `FieldsV1.raw` hold JSON; an empty one is Go's nil (JSON null).
fn raw_json(bytes: &[u8]) -> Result<Option<Value>> {
    let mut raw: &[u8] = &[];
    let mut reader = Reader::new(bytes);
    while let Some((number, wire)) = reader.next_field()? {
        if number == 1 {
            raw = wire.bytes()?;
        }
    }
    if raw.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(raw)
        .map(Some)
        .map_err(|e| Fault::new(format!("embedded object is not JSON: {e}")))
}

/// Formats a `Time` or `MicroTime` message the way Go's encoding/json does.
fn timestamp(ty: Ty, bytes: &[u8]) -> Result<Option<Value>> {
    // A zero-length Time is how Go marshals the zero time, which JSON writes as null.
    if bytes.is_empty() {
        return Ok(None);
    }
    let (mut seconds, mut nanos) = (0i64, 0i32);
    let mut reader = Reader::new(bytes);
    while let Some((number, wire)) = reader.next_field()? {
        match number {
            1 => seconds = wire.varint()? as i64,
            2 => nanos = wire.varint()? as i32,
            _ => {}
        }
    }
    // Go's Time unmarshaling drops the nanoseconds (JSON Time has whole seconds); MicroTime
    // truncates them toward zero to microseconds, then normalizes like time.Unix.
    let micro = matches!(ty, Ty::MicroTime);
    let nanos = if micro { nanos - nanos % 1000 } else { 0 };
    let total = i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
    let (seconds, nanos) = (
        total.div_euclid(1_000_000_000),
        total.rem_euclid(1_000_000_000),
    );
    // RFC 3339 has four-digit years. Anything outside them is corrupt input, and rejecting
    // it keeps every stored timestamp parseable by clients.
    const MIN: i128 = -62_167_219_200; // 0000-01-01T00:00:00Z
    const MAX: i128 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if !(MIN..=MAX).contains(&seconds) {
        return Err(Fault::new(format!(
            "timestamp {seconds} is outside years 0..=9999"
        )));
    }
    let days = seconds.div_euclid(86_400);
    let secs_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
    let mut text = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if micro {
        text.push_str(&format!(".{:06}", nanos / 1000));
    }
    text.push('Z');
    Ok(Some(Value::String(text)))
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day), using
/// Howard Hinnant's `civil_from_days` algorithm.
fn civil_from_days(days: i128) -> (i128, i128, i128) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

/// Standard base64 with padding, as Go's encoding/json writes `[]byte`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The schema table: for each message type Wharf reads, its fields as (number, JSON name,
/// kind). Numbers and types follow Kubernetes' `generated.proto` files as of 1.35 (the
/// k8s-pb 0.9 crate); names are the API's JSON names, which equal the protobuf ones except
/// for the `Inline` embeddings; `One` versus `OmitEmpty` follows the Go field's pointer-ness
/// and `omitempty` tag in k8s.io/api. Every field of a listed message is here, so that a
/// protobuf body loses nothing its JSON form would have carried; the two exceptions are
/// marked where they are. The table was checked field by field against the Go types and
/// against k8s-openapi's JSON names.
// Laid out by hand, one field per line: rustfmt's call-width heuristic would otherwise
// break every field with a long type name over five lines.
#[rustfmt::skip]
mod schema {
    use super::Kind::{Inline, List, Map, OmitEmpty, One};
    use super::Ty::{Bool, Bytes, I32, I64, IntOrString, MicroTime, Msg, Quantity, Raw, Str, Time};
    use super::{Field, Message};

    /// The top-level kinds by apiVersion and kind.
    static KINDS: &[(&str, &str, &Message)] = &[
        ("v1", "Namespace", &NAMESPACE),
        ("v1", "ConfigMap", &CONFIG_MAP),
        ("v1", "Secret", &SECRET),
        ("v1", "ServiceAccount", &SERVICE_ACCOUNT),
        ("v1", "Service", &SERVICE),
        ("v1", "Endpoints", &ENDPOINTS),
        ("v1", "Pod", &POD),
        ("v1", "Binding", &BINDING),
        ("v1", "Event", &EVENT),
        ("v1", "Node", &NODE),
        ("apps/v1", "Deployment", &DEPLOYMENT),
        ("apps/v1", "ReplicaSet", &REPLICA_SET),
        ("coordination.k8s.io/v1", "Lease", &LEASE),
        ("scheduling.k8s.io/v1", "PriorityClass", &PRIORITY_CLASS),
        ("policy/v1", "PodDisruptionBudget", &POD_DISRUPTION_BUDGET),
        ("networking.k8s.io/v1", "Ingress", &INGRESS),
        ("rbac.authorization.k8s.io/v1", "Role", &ROLE),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", &CLUSTER_ROLE),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", &ROLE_BINDING),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &ROLE_BINDING),
        ("autoscaling/v1", "Scale", &SCALE),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview", &SELF_SUBJECT_ACCESS_REVIEW),
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview", &SELF_SUBJECT_RULES_REVIEW),
        ("authorization.k8s.io/v1", "SubjectAccessReview", &SUBJECT_ACCESS_REVIEW),
        ("authentication.k8s.io/v1", "SelfSubjectReview", &SELF_SUBJECT_REVIEW),
    ];

    /// Finds the message type of a top-level kind.
    pub(super) fn lookup(api_version: &str, kind: &str) -> Option<&'static Message> {
        // client-go registers DeleteOptions in every group version and labels the body
        // with the group version of the resource being deleted (`apps/v1` for a
        // Deployment), so any apiVersion names the same meta/v1 message.
        if kind == "DeleteOptions" {
            return Some(&DELETE_OPTIONS);
        }
        KINDS
            .iter()
            .find(|(v, k, _)| *v == api_version && *k == kind)
            .map(|(_, _, message)| *message)
    }

    static OBJECT_META: Message = Message(&[
        Field(1, "name", OmitEmpty(Str)),
        Field(2, "generateName", OmitEmpty(Str)),
        Field(3, "namespace", OmitEmpty(Str)),
        Field(4, "selfLink", OmitEmpty(Str)),
        Field(5, "uid", OmitEmpty(Str)),
        Field(6, "resourceVersion", OmitEmpty(Str)),
        Field(7, "generation", OmitEmpty(I64)),
        Field(8, "creationTimestamp", One(Time)),
        Field(9, "deletionTimestamp", One(Time)),
        Field(10, "deletionGracePeriodSeconds", One(I64)),
        Field(11, "labels", Map(Str)),
        Field(12, "annotations", Map(Str)),
        Field(13, "ownerReferences", List(Msg(&OWNER_REFERENCE))),
        Field(14, "finalizers", List(Str)),
        Field(17, "managedFields", List(Msg(&MANAGED_FIELDS_ENTRY))),
        ]);

    // Reviews (`kubectl auth can-i`, `kubectl auth whoami`): what a client sends. Their
    // status is the server's to fill in, so it is not read.
    static SELF_SUBJECT_ACCESS_REVIEW: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&SELF_SUBJECT_ACCESS_REVIEW_SPEC))),
        ]);

    static SELF_SUBJECT_ACCESS_REVIEW_SPEC: Message = Message(&[
        Field(1, "resourceAttributes", One(Msg(&RESOURCE_ATTRIBUTES))),
        Field(2, "nonResourceAttributes", One(Msg(&NON_RESOURCE_ATTRIBUTES))),
        ]);

    static RESOURCE_ATTRIBUTES: Message = Message(&[
        Field(1, "namespace", OmitEmpty(Str)),
        Field(2, "verb", OmitEmpty(Str)),
        Field(3, "group", OmitEmpty(Str)),
        Field(4, "version", OmitEmpty(Str)),
        Field(5, "resource", OmitEmpty(Str)),
        Field(6, "subresource", OmitEmpty(Str)),
        Field(7, "name", OmitEmpty(Str)),
        Field(8, "fieldSelector", One(Msg(&FIELD_SELECTOR_ATTRIBUTES))),
        Field(9, "labelSelector", One(Msg(&LABEL_SELECTOR_ATTRIBUTES))),
        ]);

    static FIELD_SELECTOR_ATTRIBUTES: Message = Message(&[
        Field(1, "rawSelector", OmitEmpty(Str)),
        Field(2, "requirements", List(Msg(&FIELD_SELECTOR_REQUIREMENT))),
        ]);

    static FIELD_SELECTOR_REQUIREMENT: Message = Message(&[
        Field(1, "key", One(Str)),
        Field(2, "operator", One(Str)),
        Field(3, "values", List(Str)),
        ]);

    static LABEL_SELECTOR_ATTRIBUTES: Message = Message(&[
        Field(1, "rawSelector", OmitEmpty(Str)),
        Field(2, "requirements", List(Msg(&LABEL_SELECTOR_REQUIREMENT))),
        ]);

    static NON_RESOURCE_ATTRIBUTES: Message = Message(&[
        Field(1, "path", OmitEmpty(Str)),
        Field(2, "verb", OmitEmpty(Str)),
        ]);

    static SELF_SUBJECT_RULES_REVIEW: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&SELF_SUBJECT_RULES_REVIEW_SPEC))),
        ]);

    static SELF_SUBJECT_RULES_REVIEW_SPEC: Message = Message(&[
        Field(1, "namespace", OmitEmpty(Str)),
        ]);

    // `extra` (5) is a map of `ExtraValue` messages that JSON writes as bare string
    // arrays, a shape this table has no type for; like any unknown field it is skipped,
    // and no review's answer depends on it.
    static SUBJECT_ACCESS_REVIEW: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&SUBJECT_ACCESS_REVIEW_SPEC))),
        ]);

    static SUBJECT_ACCESS_REVIEW_SPEC: Message = Message(&[
        Field(1, "resourceAttributes", One(Msg(&RESOURCE_ATTRIBUTES))),
        Field(2, "nonResourceAttributes", One(Msg(&NON_RESOURCE_ATTRIBUTES))),
        Field(3, "user", OmitEmpty(Str)),
        Field(4, "groups", List(Str)),
        Field(6, "uid", OmitEmpty(Str)),
        ]);

    static SELF_SUBJECT_REVIEW: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        ]);

    static OWNER_REFERENCE: Message = Message(&[
        Field(1, "kind", One(Str)),
        Field(3, "name", One(Str)),
        Field(4, "uid", One(Str)),
        Field(5, "apiVersion", One(Str)),
        Field(6, "controller", One(Bool)),
        Field(7, "blockOwnerDeletion", One(Bool)),
        ]);

    static MANAGED_FIELDS_ENTRY: Message = Message(&[
        Field(1, "manager", OmitEmpty(Str)),
        Field(2, "operation", OmitEmpty(Str)),
        Field(3, "apiVersion", OmitEmpty(Str)),
        Field(4, "time", One(Time)),
        Field(6, "fieldsType", OmitEmpty(Str)),
        Field(7, "fieldsV1", One(Raw)),
        Field(8, "subresource", OmitEmpty(Str)),
        ]);

    static LABEL_SELECTOR: Message = Message(&[
        Field(1, "matchLabels", Map(Str)),
        Field(2, "matchExpressions", List(Msg(&LABEL_SELECTOR_REQUIREMENT))),
        ]);

    static LABEL_SELECTOR_REQUIREMENT: Message = Message(&[
        Field(1, "key", One(Str)),
        Field(2, "operator", One(Str)),
        Field(3, "values", List(Str)),
        ]);

    static DELETE_OPTIONS: Message = Message(&[
        Field(1, "gracePeriodSeconds", One(I64)),
        Field(2, "preconditions", One(Msg(&PRECONDITIONS))),
        Field(3, "orphanDependents", One(Bool)),
        Field(4, "propagationPolicy", One(Str)),
        Field(5, "dryRun", List(Str)),
        Field(6, "ignoreStoreReadErrorWithClusterBreakingPotential", One(Bool)),
        ]);

    static PRECONDITIONS: Message = Message(&[
        Field(1, "uid", One(Str)),
        Field(2, "resourceVersion", One(Str)),
        ]);

    static NAMESPACE: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&NAMESPACE_SPEC))),
        Field(3, "status", One(Msg(&NAMESPACE_STATUS))),
        ]);

    static NAMESPACE_SPEC: Message = Message(&[
        Field(1, "finalizers", List(Str)),
        ]);

    static NAMESPACE_STATUS: Message = Message(&[
        Field(1, "phase", OmitEmpty(Str)),
        Field(2, "conditions", List(Msg(&NAMESPACE_CONDITION))),
        ]);

    static NAMESPACE_CONDITION: Message = Message(&[
        Field(1, "type", One(Str)),
        Field(2, "status", One(Str)),
        Field(4, "lastTransitionTime", One(Time)),
        Field(5, "reason", OmitEmpty(Str)),
        Field(6, "message", OmitEmpty(Str)),
        ]);

    static CONFIG_MAP: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "data", Map(Str)),
        Field(3, "binaryData", Map(Bytes)),
        Field(4, "immutable", One(Bool)),
        ]);

    static SECRET: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "data", Map(Bytes)),
        Field(3, "type", OmitEmpty(Str)),
        Field(4, "stringData", Map(Str)),
        Field(5, "immutable", One(Bool)),
        ]);

    static SERVICE_ACCOUNT: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "secrets", List(Msg(&OBJECT_REFERENCE))),
        Field(3, "imagePullSecrets", List(Msg(&LOCAL_OBJECT_REFERENCE))),
        Field(4, "automountServiceAccountToken", One(Bool)),
        ]);

    static OBJECT_REFERENCE: Message = Message(&[
        Field(1, "kind", OmitEmpty(Str)),
        Field(2, "namespace", OmitEmpty(Str)),
        Field(3, "name", OmitEmpty(Str)),
        Field(4, "uid", OmitEmpty(Str)),
        Field(5, "apiVersion", OmitEmpty(Str)),
        Field(6, "resourceVersion", OmitEmpty(Str)),
        Field(7, "fieldPath", OmitEmpty(Str)),
        ]);

    static LOCAL_OBJECT_REFERENCE: Message = Message(&[
        Field(1, "name", OmitEmpty(Str)),
        ]);

    static SERVICE: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&SERVICE_SPEC))),
        Field(3, "status", One(Msg(&SERVICE_STATUS))),
        ]);

    static SERVICE_SPEC: Message = Message(&[
        Field(1, "ports", List(Msg(&SERVICE_PORT))),
        Field(2, "selector", Map(Str)),
        Field(3, "clusterIP", OmitEmpty(Str)),
        Field(4, "type", OmitEmpty(Str)),
        Field(5, "externalIPs", List(Str)),
        Field(7, "sessionAffinity", OmitEmpty(Str)),
        Field(8, "loadBalancerIP", OmitEmpty(Str)),
        Field(9, "loadBalancerSourceRanges", List(Str)),
        Field(10, "externalName", OmitEmpty(Str)),
        Field(11, "externalTrafficPolicy", OmitEmpty(Str)),
        Field(12, "healthCheckNodePort", OmitEmpty(I32)),
        Field(13, "publishNotReadyAddresses", OmitEmpty(Bool)),
        Field(14, "sessionAffinityConfig", One(Msg(&SESSION_AFFINITY_CONFIG))),
        Field(17, "ipFamilyPolicy", One(Str)),
        Field(18, "clusterIPs", List(Str)),
        Field(19, "ipFamilies", List(Str)),
        Field(20, "allocateLoadBalancerNodePorts", One(Bool)),
        Field(21, "loadBalancerClass", One(Str)),
        Field(22, "internalTrafficPolicy", One(Str)),
        Field(23, "trafficDistribution", One(Str)),
        ]);

    static SERVICE_PORT: Message = Message(&[
        Field(1, "name", OmitEmpty(Str)),
        Field(2, "protocol", OmitEmpty(Str)),
        Field(3, "port", One(I32)),
        Field(4, "targetPort", One(IntOrString)),
        Field(5, "nodePort", OmitEmpty(I32)),
        Field(6, "appProtocol", One(Str)),
        ]);

    static SESSION_AFFINITY_CONFIG: Message = Message(&[
        Field(1, "clientIP", One(Msg(&CLIENT_IP_CONFIG))),
        ]);

    static CLIENT_IP_CONFIG: Message = Message(&[
        Field(1, "timeoutSeconds", One(I32)),
        ]);

    static SERVICE_STATUS: Message = Message(&[
        Field(1, "loadBalancer", One(Msg(&LOAD_BALANCER_STATUS))),
        Field(2, "conditions", List(Msg(&CONDITION))),
        ]);

    static LOAD_BALANCER_STATUS: Message = Message(&[
        Field(1, "ingress", List(Msg(&LOAD_BALANCER_INGRESS))),
        ]);

    static LOAD_BALANCER_INGRESS: Message = Message(&[
        Field(1, "ip", OmitEmpty(Str)),
        Field(2, "hostname", OmitEmpty(Str)),
        Field(3, "ipMode", One(Str)),
        Field(4, "ports", List(Msg(&PORT_STATUS))),
        ]);

    static PORT_STATUS: Message = Message(&[
        Field(1, "port", One(I32)),
        Field(2, "protocol", One(Str)),
        Field(3, "error", One(Str)),
        ]);

    static CONDITION: Message = Message(&[
        Field(1, "type", One(Str)),
        Field(2, "status", One(Str)),
        Field(3, "observedGeneration", OmitEmpty(I64)),
        Field(4, "lastTransitionTime", One(Time)),
        Field(5, "reason", One(Str)),
        Field(6, "message", One(Str)),
        ]);

    static ENDPOINTS: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "subsets", List(Msg(&ENDPOINT_SUBSET))),
        ]);

    static ENDPOINT_SUBSET: Message = Message(&[
        Field(1, "addresses", List(Msg(&ENDPOINT_ADDRESS))),
        Field(2, "notReadyAddresses", List(Msg(&ENDPOINT_ADDRESS))),
        Field(3, "ports", List(Msg(&ENDPOINT_PORT))),
        ]);

    static ENDPOINT_ADDRESS: Message = Message(&[
        Field(1, "ip", One(Str)),
        Field(2, "targetRef", One(Msg(&OBJECT_REFERENCE))),
        Field(3, "hostname", OmitEmpty(Str)),
        Field(4, "nodeName", One(Str)),
        ]);

    static ENDPOINT_PORT: Message = Message(&[
        Field(1, "name", OmitEmpty(Str)),
        Field(2, "port", One(I32)),
        Field(3, "protocol", OmitEmpty(Str)),
        Field(4, "appProtocol", One(Str)),
        ]);

    static BINDING: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "target", One(Msg(&OBJECT_REFERENCE))),
        ]);

    static EVENT: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "involvedObject", One(Msg(&OBJECT_REFERENCE))),
        Field(3, "reason", OmitEmpty(Str)),
        Field(4, "message", OmitEmpty(Str)),
        Field(5, "source", One(Msg(&EVENT_SOURCE))),
        Field(6, "firstTimestamp", One(Time)),
        Field(7, "lastTimestamp", One(Time)),
        Field(8, "count", OmitEmpty(I32)),
        Field(9, "type", OmitEmpty(Str)),
        Field(10, "eventTime", One(MicroTime)),
        Field(11, "series", One(Msg(&EVENT_SERIES))),
        Field(12, "action", OmitEmpty(Str)),
        Field(13, "related", One(Msg(&OBJECT_REFERENCE))),
        Field(14, "reportingComponent", One(Str)),
        Field(15, "reportingInstance", One(Str)),
        ]);

    static EVENT_SOURCE: Message = Message(&[
        Field(1, "component", OmitEmpty(Str)),
        Field(2, "host", OmitEmpty(Str)),
        ]);

    static EVENT_SERIES: Message = Message(&[
        Field(1, "count", OmitEmpty(I32)),
        Field(2, "lastObservedTime", One(MicroTime)),
        ]);

    static LEASE: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&LEASE_SPEC))),
        ]);

    static LEASE_SPEC: Message = Message(&[
        Field(1, "holderIdentity", One(Str)),
        Field(2, "leaseDurationSeconds", One(I32)),
        Field(3, "acquireTime", One(MicroTime)),
        Field(4, "renewTime", One(MicroTime)),
        Field(5, "leaseTransitions", One(I32)),
        Field(6, "strategy", One(Str)),
        Field(7, "preferredHolder", One(Str)),
        ]);

    static PRIORITY_CLASS: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "value", One(I32)),
        Field(3, "globalDefault", One(Bool)),
        Field(4, "description", One(Str)),
        Field(5, "preemptionPolicy", One(Str)),
        ]);

    static INGRESS: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&INGRESS_SPEC))),
        Field(3, "status", One(Msg(&INGRESS_STATUS))),
        ]);

    static INGRESS_SPEC: Message = Message(&[
        Field(1, "defaultBackend", One(Msg(&INGRESS_BACKEND))),
        Field(2, "tls", List(Msg(&INGRESS_TLS))),
        Field(3, "rules", List(Msg(&INGRESS_RULE))),
        Field(4, "ingressClassName", One(Str)),
        ]);

    static INGRESS_BACKEND: Message = Message(&[
        Field(3, "resource", One(Msg(&TYPED_LOCAL_OBJECT_REFERENCE))),
        Field(4, "service", One(Msg(&INGRESS_SERVICE_BACKEND))),
        ]);

    static INGRESS_SERVICE_BACKEND: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "port", One(Msg(&SERVICE_BACKEND_PORT))),
        ]);

    static SERVICE_BACKEND_PORT: Message = Message(&[
        Field(1, "name", OmitEmpty(Str)),
        Field(2, "number", OmitEmpty(I32)),
        ]);

    static INGRESS_TLS: Message = Message(&[
        Field(1, "hosts", List(Str)),
        Field(2, "secretName", OmitEmpty(Str)),
        ]);

    /// The rule's value is embedded in Go (`json:",inline"`).
    static INGRESS_RULE: Message = Message(&[
        Field(1, "host", OmitEmpty(Str)),
        Field(2, "ingressRuleValue", Inline(&INGRESS_RULE_VALUE)),
        ]);

    static INGRESS_RULE_VALUE: Message = Message(&[
        Field(1, "http", One(Msg(&HTTP_INGRESS_RULE_VALUE))),
        ]);

    static HTTP_INGRESS_RULE_VALUE: Message = Message(&[
        Field(1, "paths", List(Msg(&HTTP_INGRESS_PATH))),
        ]);

    static HTTP_INGRESS_PATH: Message = Message(&[
        Field(1, "path", OmitEmpty(Str)),
        Field(2, "backend", One(Msg(&INGRESS_BACKEND))),
        Field(3, "pathType", One(Str)),
        ]);

    static INGRESS_STATUS: Message = Message(&[
        Field(1, "loadBalancer", One(Msg(&INGRESS_LOAD_BALANCER_STATUS))),
        ]);

    static INGRESS_LOAD_BALANCER_STATUS: Message = Message(&[
        Field(1, "ingress", List(Msg(&INGRESS_LOAD_BALANCER_INGRESS))),
        ]);

    static INGRESS_LOAD_BALANCER_INGRESS: Message = Message(&[
        Field(1, "ip", OmitEmpty(Str)),
        Field(2, "hostname", OmitEmpty(Str)),
        Field(4, "ports", List(Msg(&PORT_STATUS))),
        ]);

    static POD_DISRUPTION_BUDGET: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&POD_DISRUPTION_BUDGET_SPEC))),
        Field(3, "status", One(Msg(&POD_DISRUPTION_BUDGET_STATUS))),
        ]);

    static POD_DISRUPTION_BUDGET_SPEC: Message = Message(&[
        Field(1, "minAvailable", One(IntOrString)),
        Field(2, "selector", One(Msg(&LABEL_SELECTOR))),
        Field(3, "maxUnavailable", One(IntOrString)),
        Field(4, "unhealthyPodEvictionPolicy", One(Str)),
        ]);

    static POD_DISRUPTION_BUDGET_STATUS: Message = Message(&[
        Field(1, "observedGeneration", OmitEmpty(I64)),
        Field(2, "disruptedPods", Map(Time)),
        Field(3, "disruptionsAllowed", One(I32)),
        Field(4, "currentHealthy", One(I32)),
        Field(5, "desiredHealthy", One(I32)),
        Field(6, "expectedPods", One(I32)),
        Field(7, "conditions", List(Msg(&CONDITION))),
        ]);

    static ROLE: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "rules", List(Msg(&POLICY_RULE))),
        ]);

    static CLUSTER_ROLE: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "rules", List(Msg(&POLICY_RULE))),
        Field(3, "aggregationRule", One(Msg(&AGGREGATION_RULE))),
        ]);

    static POLICY_RULE: Message = Message(&[
        Field(1, "verbs", List(Str)),
        Field(2, "apiGroups", List(Str)),
        Field(3, "resources", List(Str)),
        Field(4, "resourceNames", List(Str)),
        Field(5, "nonResourceURLs", List(Str)),
        ]);

    static AGGREGATION_RULE: Message = Message(&[
        Field(1, "clusterRoleSelectors", List(Msg(&LABEL_SELECTOR))),
        ]);

    /// RoleBindings and ClusterRoleBindings have the same fields and numbers.
    static ROLE_BINDING: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "subjects", List(Msg(&SUBJECT))),
        Field(3, "roleRef", One(Msg(&ROLE_REF))),
        ]);

    static SUBJECT: Message = Message(&[
        Field(1, "kind", One(Str)),
        Field(2, "apiGroup", OmitEmpty(Str)),
        Field(3, "name", One(Str)),
        Field(4, "namespace", OmitEmpty(Str)),
        ]);

    static ROLE_REF: Message = Message(&[
        Field(1, "apiGroup", One(Str)),
        Field(2, "kind", One(Str)),
        Field(3, "name", One(Str)),
        ]);

    static SCALE: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&SCALE_SPEC))),
        Field(3, "status", One(Msg(&SCALE_STATUS))),
        ]);

    static SCALE_SPEC: Message = Message(&[
        Field(1, "replicas", OmitEmpty(I32)),
        ]);

    static SCALE_STATUS: Message = Message(&[
        Field(1, "replicas", One(I32)),
        Field(2, "selector", OmitEmpty(Str)),
        ]);

    static DEPLOYMENT: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&DEPLOYMENT_SPEC))),
        Field(3, "status", One(Msg(&DEPLOYMENT_STATUS))),
        ]);

    static DEPLOYMENT_SPEC: Message = Message(&[
        Field(1, "replicas", One(I32)),
        Field(2, "selector", One(Msg(&LABEL_SELECTOR))),
        Field(3, "template", One(Msg(&POD_TEMPLATE_SPEC))),
        Field(4, "strategy", One(Msg(&DEPLOYMENT_STRATEGY))),
        Field(5, "minReadySeconds", OmitEmpty(I32)),
        Field(6, "revisionHistoryLimit", One(I32)),
        Field(7, "paused", OmitEmpty(Bool)),
        Field(9, "progressDeadlineSeconds", One(I32)),
        ]);

    static POD_TEMPLATE_SPEC: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&POD_SPEC))),
        ]);

    static POD_SPEC: Message = Message(&[
        // workloadRef (42) was an alpha field of 1.35 that upstream has since withdrawn.
        Field(1, "volumes", List(Msg(&VOLUME))),
        Field(2, "containers", List(Msg(&CONTAINER))),
        Field(3, "restartPolicy", OmitEmpty(Str)),
        Field(4, "terminationGracePeriodSeconds", One(I64)),
        Field(5, "activeDeadlineSeconds", One(I64)),
        Field(6, "dnsPolicy", OmitEmpty(Str)),
        Field(7, "nodeSelector", Map(Str)),
        Field(8, "serviceAccountName", OmitEmpty(Str)),
        Field(9, "serviceAccount", OmitEmpty(Str)),
        Field(10, "nodeName", OmitEmpty(Str)),
        Field(11, "hostNetwork", OmitEmpty(Bool)),
        Field(12, "hostPID", OmitEmpty(Bool)),
        Field(13, "hostIPC", OmitEmpty(Bool)),
        Field(14, "securityContext", One(Msg(&POD_SECURITY_CONTEXT))),
        Field(15, "imagePullSecrets", List(Msg(&LOCAL_OBJECT_REFERENCE))),
        Field(16, "hostname", OmitEmpty(Str)),
        Field(17, "subdomain", OmitEmpty(Str)),
        Field(18, "affinity", One(Msg(&AFFINITY))),
        Field(19, "schedulerName", OmitEmpty(Str)),
        Field(20, "initContainers", List(Msg(&CONTAINER))),
        Field(21, "automountServiceAccountToken", One(Bool)),
        Field(22, "tolerations", List(Msg(&TOLERATION))),
        Field(23, "hostAliases", List(Msg(&HOST_ALIAS))),
        Field(24, "priorityClassName", OmitEmpty(Str)),
        Field(25, "priority", One(I32)),
        Field(26, "dnsConfig", One(Msg(&POD_DNS_CONFIG))),
        Field(27, "shareProcessNamespace", One(Bool)),
        Field(28, "readinessGates", List(Msg(&POD_READINESS_GATE))),
        Field(29, "runtimeClassName", One(Str)),
        Field(30, "enableServiceLinks", One(Bool)),
        Field(31, "preemptionPolicy", One(Str)),
        Field(32, "overhead", Map(Quantity)),
        Field(33, "topologySpreadConstraints", List(Msg(&TOPOLOGY_SPREAD_CONSTRAINT))),
        Field(34, "ephemeralContainers", List(Msg(&EPHEMERAL_CONTAINER))),
        Field(35, "setHostnameAsFQDN", One(Bool)),
        Field(36, "os", One(Msg(&POD_OS))),
        Field(37, "hostUsers", One(Bool)),
        Field(38, "schedulingGates", List(Msg(&POD_SCHEDULING_GATE))),
        Field(39, "resourceClaims", List(Msg(&POD_RESOURCE_CLAIM))),
        Field(40, "resources", One(Msg(&RESOURCE_REQUIREMENTS))),
        Field(41, "hostnameOverride", One(Str)),
        ]);

    static VOLUME: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "volumeSource", Inline(&VOLUME_SOURCE)),
        ]);

    static VOLUME_SOURCE: Message = Message(&[
        // Kubernetes' deprecated in-tree volume plugins (awsElasticBlockStore, azureDisk,
        // azureFile, cephfs, cinder, flexVolume, flocker, gcePersistentDisk, gitRepo,
        // glusterfs, photonPersistentDisk, portworxVolume, quobyte, rbd, scaleIO, storageos,
        // vsphereVolume) are left out: Wharf cannot mount them, and like any unknown field
        // they are skipped.
        Field(1, "hostPath", One(Msg(&HOST_PATH_VOLUME_SOURCE))),
        Field(2, "emptyDir", One(Msg(&EMPTY_DIR_VOLUME_SOURCE))),
        Field(6, "secret", One(Msg(&SECRET_VOLUME_SOURCE))),
        Field(7, "nfs", One(Msg(&NFS_VOLUME_SOURCE))),
        Field(8, "iscsi", One(Msg(&ISCSI_VOLUME_SOURCE))),
        Field(10, "persistentVolumeClaim", One(Msg(&PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE))),
        Field(16, "downwardAPI", One(Msg(&DOWNWARD_API_VOLUME_SOURCE))),
        Field(17, "fc", One(Msg(&FC_VOLUME_SOURCE))),
        Field(19, "configMap", One(Msg(&CONFIG_MAP_VOLUME_SOURCE))),
        Field(26, "projected", One(Msg(&PROJECTED_VOLUME_SOURCE))),
        Field(28, "csi", One(Msg(&CSI_VOLUME_SOURCE))),
        Field(29, "ephemeral", One(Msg(&EPHEMERAL_VOLUME_SOURCE))),
        Field(30, "image", One(Msg(&IMAGE_VOLUME_SOURCE))),
        ]);

    static HOST_PATH_VOLUME_SOURCE: Message = Message(&[
        Field(1, "path", One(Str)),
        Field(2, "type", One(Str)),
        ]);

    static EMPTY_DIR_VOLUME_SOURCE: Message = Message(&[
        Field(1, "medium", OmitEmpty(Str)),
        Field(2, "sizeLimit", One(Quantity)),
        ]);

    static SECRET_VOLUME_SOURCE: Message = Message(&[
        Field(1, "secretName", OmitEmpty(Str)),
        Field(2, "items", List(Msg(&KEY_TO_PATH))),
        Field(3, "defaultMode", One(I32)),
        Field(4, "optional", One(Bool)),
        ]);

    static KEY_TO_PATH: Message = Message(&[
        Field(1, "key", One(Str)),
        Field(2, "path", One(Str)),
        Field(3, "mode", One(I32)),
        ]);

    static NFS_VOLUME_SOURCE: Message = Message(&[
        Field(1, "server", One(Str)),
        Field(2, "path", One(Str)),
        Field(3, "readOnly", OmitEmpty(Bool)),
        ]);

    static ISCSI_VOLUME_SOURCE: Message = Message(&[
        Field(1, "targetPortal", One(Str)),
        Field(2, "iqn", One(Str)),
        Field(3, "lun", One(I32)),
        Field(4, "iscsiInterface", OmitEmpty(Str)),
        Field(5, "fsType", OmitEmpty(Str)),
        Field(6, "readOnly", OmitEmpty(Bool)),
        Field(7, "portals", List(Str)),
        Field(8, "chapAuthDiscovery", OmitEmpty(Bool)),
        Field(10, "secretRef", One(Msg(&LOCAL_OBJECT_REFERENCE))),
        Field(11, "chapAuthSession", OmitEmpty(Bool)),
        Field(12, "initiatorName", One(Str)),
        ]);

    static PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: Message = Message(&[
        Field(1, "claimName", One(Str)),
        Field(2, "readOnly", OmitEmpty(Bool)),
        ]);

    static DOWNWARD_API_VOLUME_SOURCE: Message = Message(&[
        Field(1, "items", List(Msg(&DOWNWARD_API_VOLUME_FILE))),
        Field(2, "defaultMode", One(I32)),
        ]);

    static DOWNWARD_API_VOLUME_FILE: Message = Message(&[
        Field(1, "path", One(Str)),
        Field(2, "fieldRef", One(Msg(&OBJECT_FIELD_SELECTOR))),
        Field(3, "resourceFieldRef", One(Msg(&RESOURCE_FIELD_SELECTOR))),
        Field(4, "mode", One(I32)),
        ]);

    static OBJECT_FIELD_SELECTOR: Message = Message(&[
        Field(1, "apiVersion", OmitEmpty(Str)),
        Field(2, "fieldPath", One(Str)),
        ]);

    static RESOURCE_FIELD_SELECTOR: Message = Message(&[
        Field(1, "containerName", OmitEmpty(Str)),
        Field(2, "resource", One(Str)),
        Field(3, "divisor", One(Quantity)),
        ]);

    static FC_VOLUME_SOURCE: Message = Message(&[
        Field(1, "targetWWNs", List(Str)),
        Field(2, "lun", One(I32)),
        Field(3, "fsType", OmitEmpty(Str)),
        Field(4, "readOnly", OmitEmpty(Bool)),
        Field(5, "wwids", List(Str)),
        ]);

    static CONFIG_MAP_VOLUME_SOURCE: Message = Message(&[
        Field(1, "localObjectReference", Inline(&LOCAL_OBJECT_REFERENCE)),
        Field(2, "items", List(Msg(&KEY_TO_PATH))),
        Field(3, "defaultMode", One(I32)),
        Field(4, "optional", One(Bool)),
        ]);

    static PROJECTED_VOLUME_SOURCE: Message = Message(&[
        Field(1, "sources", List(Msg(&VOLUME_PROJECTION))),
        Field(2, "defaultMode", One(I32)),
        ]);

    static VOLUME_PROJECTION: Message = Message(&[
        Field(1, "secret", One(Msg(&SECRET_PROJECTION))),
        Field(2, "downwardAPI", One(Msg(&DOWNWARD_API_PROJECTION))),
        Field(3, "configMap", One(Msg(&CONFIG_MAP_PROJECTION))),
        Field(4, "serviceAccountToken", One(Msg(&SERVICE_ACCOUNT_TOKEN_PROJECTION))),
        Field(5, "clusterTrustBundle", One(Msg(&CLUSTER_TRUST_BUNDLE_PROJECTION))),
        Field(6, "podCertificate", One(Msg(&POD_CERTIFICATE_PROJECTION))),
        ]);

    static SECRET_PROJECTION: Message = Message(&[
        Field(1, "localObjectReference", Inline(&LOCAL_OBJECT_REFERENCE)),
        Field(2, "items", List(Msg(&KEY_TO_PATH))),
        Field(4, "optional", One(Bool)),
        ]);

    static DOWNWARD_API_PROJECTION: Message = Message(&[
        Field(1, "items", List(Msg(&DOWNWARD_API_VOLUME_FILE))),
        ]);

    static CONFIG_MAP_PROJECTION: Message = Message(&[
        Field(1, "localObjectReference", Inline(&LOCAL_OBJECT_REFERENCE)),
        Field(2, "items", List(Msg(&KEY_TO_PATH))),
        Field(4, "optional", One(Bool)),
        ]);

    static SERVICE_ACCOUNT_TOKEN_PROJECTION: Message = Message(&[
        Field(1, "audience", OmitEmpty(Str)),
        Field(2, "expirationSeconds", One(I64)),
        Field(3, "path", One(Str)),
        ]);

    static CLUSTER_TRUST_BUNDLE_PROJECTION: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "signerName", One(Str)),
        Field(3, "labelSelector", One(Msg(&LABEL_SELECTOR))),
        Field(4, "path", One(Str)),
        Field(5, "optional", One(Bool)),
        ]);

    static POD_CERTIFICATE_PROJECTION: Message = Message(&[
        Field(1, "signerName", OmitEmpty(Str)),
        Field(2, "keyType", OmitEmpty(Str)),
        Field(3, "maxExpirationSeconds", One(I32)),
        Field(4, "credentialBundlePath", OmitEmpty(Str)),
        Field(5, "keyPath", OmitEmpty(Str)),
        Field(6, "certificateChainPath", OmitEmpty(Str)),
        Field(7, "userAnnotations", Map(Str)),
        ]);

    static CSI_VOLUME_SOURCE: Message = Message(&[
        Field(1, "driver", One(Str)),
        Field(2, "readOnly", One(Bool)),
        Field(3, "fsType", One(Str)),
        Field(4, "volumeAttributes", Map(Str)),
        Field(5, "nodePublishSecretRef", One(Msg(&LOCAL_OBJECT_REFERENCE))),
        ]);

    static EPHEMERAL_VOLUME_SOURCE: Message = Message(&[
        Field(1, "volumeClaimTemplate", One(Msg(&PERSISTENT_VOLUME_CLAIM_TEMPLATE))),
        ]);

    static PERSISTENT_VOLUME_CLAIM_TEMPLATE: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&PERSISTENT_VOLUME_CLAIM_SPEC))),
        ]);

    static PERSISTENT_VOLUME_CLAIM_SPEC: Message = Message(&[
        Field(1, "accessModes", List(Str)),
        Field(2, "resources", One(Msg(&VOLUME_RESOURCE_REQUIREMENTS))),
        Field(3, "volumeName", OmitEmpty(Str)),
        Field(4, "selector", One(Msg(&LABEL_SELECTOR))),
        Field(5, "storageClassName", One(Str)),
        Field(6, "volumeMode", One(Str)),
        Field(7, "dataSource", One(Msg(&TYPED_LOCAL_OBJECT_REFERENCE))),
        Field(8, "dataSourceRef", One(Msg(&TYPED_OBJECT_REFERENCE))),
        Field(9, "volumeAttributesClassName", One(Str)),
        ]);

    static VOLUME_RESOURCE_REQUIREMENTS: Message = Message(&[
        Field(1, "limits", Map(Quantity)),
        Field(2, "requests", Map(Quantity)),
        ]);

    static TYPED_LOCAL_OBJECT_REFERENCE: Message = Message(&[
        Field(1, "apiGroup", One(Str)),
        Field(2, "kind", One(Str)),
        Field(3, "name", One(Str)),
        ]);

    static TYPED_OBJECT_REFERENCE: Message = Message(&[
        Field(1, "apiGroup", One(Str)),
        Field(2, "kind", One(Str)),
        Field(3, "name", One(Str)),
        Field(4, "namespace", One(Str)),
        ]);

    static IMAGE_VOLUME_SOURCE: Message = Message(&[
        Field(1, "reference", OmitEmpty(Str)),
        Field(2, "pullPolicy", OmitEmpty(Str)),
        ]);

    static CONTAINER: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "image", OmitEmpty(Str)),
        Field(3, "command", List(Str)),
        Field(4, "args", List(Str)),
        Field(5, "workingDir", OmitEmpty(Str)),
        Field(6, "ports", List(Msg(&CONTAINER_PORT))),
        Field(7, "env", List(Msg(&ENV_VAR))),
        Field(8, "resources", One(Msg(&RESOURCE_REQUIREMENTS))),
        Field(9, "volumeMounts", List(Msg(&VOLUME_MOUNT))),
        Field(10, "livenessProbe", One(Msg(&PROBE))),
        Field(11, "readinessProbe", One(Msg(&PROBE))),
        Field(12, "lifecycle", One(Msg(&LIFECYCLE))),
        Field(13, "terminationMessagePath", OmitEmpty(Str)),
        Field(14, "imagePullPolicy", OmitEmpty(Str)),
        Field(15, "securityContext", One(Msg(&SECURITY_CONTEXT))),
        Field(16, "stdin", OmitEmpty(Bool)),
        Field(17, "stdinOnce", OmitEmpty(Bool)),
        Field(18, "tty", OmitEmpty(Bool)),
        Field(19, "envFrom", List(Msg(&ENV_FROM_SOURCE))),
        Field(20, "terminationMessagePolicy", OmitEmpty(Str)),
        Field(21, "volumeDevices", List(Msg(&VOLUME_DEVICE))),
        Field(22, "startupProbe", One(Msg(&PROBE))),
        Field(23, "resizePolicy", List(Msg(&CONTAINER_RESIZE_POLICY))),
        Field(24, "restartPolicy", One(Str)),
        Field(25, "restartPolicyRules", List(Msg(&CONTAINER_RESTART_RULE))),
        ]);

    static CONTAINER_PORT: Message = Message(&[
        Field(1, "name", OmitEmpty(Str)),
        Field(2, "hostPort", OmitEmpty(I32)),
        Field(3, "containerPort", One(I32)),
        Field(4, "protocol", OmitEmpty(Str)),
        Field(5, "hostIP", OmitEmpty(Str)),
        ]);

    static ENV_VAR: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "value", OmitEmpty(Str)),
        Field(3, "valueFrom", One(Msg(&ENV_VAR_SOURCE))),
        ]);

    static ENV_VAR_SOURCE: Message = Message(&[
        Field(1, "fieldRef", One(Msg(&OBJECT_FIELD_SELECTOR))),
        Field(2, "resourceFieldRef", One(Msg(&RESOURCE_FIELD_SELECTOR))),
        Field(3, "configMapKeyRef", One(Msg(&CONFIG_MAP_KEY_SELECTOR))),
        Field(4, "secretKeyRef", One(Msg(&SECRET_KEY_SELECTOR))),
        Field(5, "fileKeyRef", One(Msg(&FILE_KEY_SELECTOR))),
        ]);

    static CONFIG_MAP_KEY_SELECTOR: Message = Message(&[
        Field(1, "localObjectReference", Inline(&LOCAL_OBJECT_REFERENCE)),
        Field(2, "key", One(Str)),
        Field(3, "optional", One(Bool)),
        ]);

    static SECRET_KEY_SELECTOR: Message = Message(&[
        Field(1, "localObjectReference", Inline(&LOCAL_OBJECT_REFERENCE)),
        Field(2, "key", One(Str)),
        Field(3, "optional", One(Bool)),
        ]);

    static FILE_KEY_SELECTOR: Message = Message(&[
        Field(1, "volumeName", One(Str)),
        Field(2, "path", One(Str)),
        Field(3, "key", One(Str)),
        Field(4, "optional", One(Bool)),
        ]);

    static RESOURCE_REQUIREMENTS: Message = Message(&[
        Field(1, "limits", Map(Quantity)),
        Field(2, "requests", Map(Quantity)),
        Field(3, "claims", List(Msg(&RESOURCE_CLAIM))),
        ]);

    static RESOURCE_CLAIM: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "request", OmitEmpty(Str)),
        ]);

    static VOLUME_MOUNT: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "readOnly", OmitEmpty(Bool)),
        Field(3, "mountPath", One(Str)),
        Field(4, "subPath", OmitEmpty(Str)),
        Field(5, "mountPropagation", One(Str)),
        Field(6, "subPathExpr", OmitEmpty(Str)),
        Field(7, "recursiveReadOnly", One(Str)),
        ]);

    static PROBE: Message = Message(&[
        Field(1, "handler", Inline(&PROBE_HANDLER)),
        Field(2, "initialDelaySeconds", OmitEmpty(I32)),
        Field(3, "timeoutSeconds", OmitEmpty(I32)),
        Field(4, "periodSeconds", OmitEmpty(I32)),
        Field(5, "successThreshold", OmitEmpty(I32)),
        Field(6, "failureThreshold", OmitEmpty(I32)),
        Field(7, "terminationGracePeriodSeconds", One(I64)),
        ]);

    static PROBE_HANDLER: Message = Message(&[
        Field(1, "exec", One(Msg(&EXEC_ACTION))),
        Field(2, "httpGet", One(Msg(&HTTP_GET_ACTION))),
        Field(3, "tcpSocket", One(Msg(&TCP_SOCKET_ACTION))),
        Field(4, "grpc", One(Msg(&GRPC_ACTION))),
        ]);

    static EXEC_ACTION: Message = Message(&[
        Field(1, "command", List(Str)),
        ]);

    static HTTP_GET_ACTION: Message = Message(&[
        Field(1, "path", OmitEmpty(Str)),
        Field(2, "port", One(IntOrString)),
        Field(3, "host", OmitEmpty(Str)),
        Field(4, "scheme", OmitEmpty(Str)),
        Field(5, "httpHeaders", List(Msg(&HTTP_HEADER))),
        ]);

    static HTTP_HEADER: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "value", One(Str)),
        ]);

    static TCP_SOCKET_ACTION: Message = Message(&[
        Field(1, "port", One(IntOrString)),
        Field(2, "host", OmitEmpty(Str)),
        ]);

    static GRPC_ACTION: Message = Message(&[
        Field(1, "port", One(I32)),
        Field(2, "service", One(Str)),
        ]);

    static LIFECYCLE: Message = Message(&[
        Field(1, "postStart", One(Msg(&LIFECYCLE_HANDLER))),
        Field(2, "preStop", One(Msg(&LIFECYCLE_HANDLER))),
        Field(3, "stopSignal", One(Str)),
        ]);

    static LIFECYCLE_HANDLER: Message = Message(&[
        Field(1, "exec", One(Msg(&EXEC_ACTION))),
        Field(2, "httpGet", One(Msg(&HTTP_GET_ACTION))),
        Field(3, "tcpSocket", One(Msg(&TCP_SOCKET_ACTION))),
        Field(4, "sleep", One(Msg(&SLEEP_ACTION))),
        ]);

    static SLEEP_ACTION: Message = Message(&[
        Field(1, "seconds", One(I64)),
        ]);

    static SECURITY_CONTEXT: Message = Message(&[
        Field(1, "capabilities", One(Msg(&CAPABILITIES))),
        Field(2, "privileged", One(Bool)),
        Field(3, "seLinuxOptions", One(Msg(&SE_LINUX_OPTIONS))),
        Field(4, "runAsUser", One(I64)),
        Field(5, "runAsNonRoot", One(Bool)),
        Field(6, "readOnlyRootFilesystem", One(Bool)),
        Field(7, "allowPrivilegeEscalation", One(Bool)),
        Field(8, "runAsGroup", One(I64)),
        Field(9, "procMount", One(Str)),
        Field(10, "windowsOptions", One(Msg(&WINDOWS_SECURITY_CONTEXT_OPTIONS))),
        Field(11, "seccompProfile", One(Msg(&SECCOMP_PROFILE))),
        Field(12, "appArmorProfile", One(Msg(&APP_ARMOR_PROFILE))),
        ]);

    static CAPABILITIES: Message = Message(&[
        Field(1, "add", List(Str)),
        Field(2, "drop", List(Str)),
        ]);

    static SE_LINUX_OPTIONS: Message = Message(&[
        Field(1, "user", OmitEmpty(Str)),
        Field(2, "role", OmitEmpty(Str)),
        Field(3, "type", OmitEmpty(Str)),
        Field(4, "level", OmitEmpty(Str)),
        ]);

    static WINDOWS_SECURITY_CONTEXT_OPTIONS: Message = Message(&[
        Field(1, "gmsaCredentialSpecName", One(Str)),
        Field(2, "gmsaCredentialSpec", One(Str)),
        Field(3, "runAsUserName", One(Str)),
        Field(4, "hostProcess", One(Bool)),
        ]);

    static SECCOMP_PROFILE: Message = Message(&[
        Field(1, "type", One(Str)),
        Field(2, "localhostProfile", One(Str)),
        ]);

    static APP_ARMOR_PROFILE: Message = Message(&[
        Field(1, "type", One(Str)),
        Field(2, "localhostProfile", One(Str)),
        ]);

    static ENV_FROM_SOURCE: Message = Message(&[
        Field(1, "prefix", OmitEmpty(Str)),
        Field(2, "configMapRef", One(Msg(&CONFIG_MAP_ENV_SOURCE))),
        Field(3, "secretRef", One(Msg(&SECRET_ENV_SOURCE))),
        ]);

    static CONFIG_MAP_ENV_SOURCE: Message = Message(&[
        Field(1, "localObjectReference", Inline(&LOCAL_OBJECT_REFERENCE)),
        Field(2, "optional", One(Bool)),
        ]);

    static SECRET_ENV_SOURCE: Message = Message(&[
        Field(1, "localObjectReference", Inline(&LOCAL_OBJECT_REFERENCE)),
        Field(2, "optional", One(Bool)),
        ]);

    static VOLUME_DEVICE: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "devicePath", One(Str)),
        ]);

    static CONTAINER_RESIZE_POLICY: Message = Message(&[
        Field(1, "resourceName", One(Str)),
        Field(2, "restartPolicy", One(Str)),
        ]);

    static CONTAINER_RESTART_RULE: Message = Message(&[
        Field(1, "action", OmitEmpty(Str)),
        Field(2, "exitCodes", One(Msg(&CONTAINER_RESTART_RULE_ON_EXIT_CODES))),
        ]);

    static CONTAINER_RESTART_RULE_ON_EXIT_CODES: Message = Message(&[
        Field(1, "operator", OmitEmpty(Str)),
        Field(2, "values", List(I32)),
        ]);

    static POD_SECURITY_CONTEXT: Message = Message(&[
        Field(1, "seLinuxOptions", One(Msg(&SE_LINUX_OPTIONS))),
        Field(2, "runAsUser", One(I64)),
        Field(3, "runAsNonRoot", One(Bool)),
        Field(4, "supplementalGroups", List(I64)),
        Field(5, "fsGroup", One(I64)),
        Field(6, "runAsGroup", One(I64)),
        Field(7, "sysctls", List(Msg(&SYSCTL))),
        Field(8, "windowsOptions", One(Msg(&WINDOWS_SECURITY_CONTEXT_OPTIONS))),
        Field(9, "fsGroupChangePolicy", One(Str)),
        Field(10, "seccompProfile", One(Msg(&SECCOMP_PROFILE))),
        Field(11, "appArmorProfile", One(Msg(&APP_ARMOR_PROFILE))),
        Field(12, "supplementalGroupsPolicy", One(Str)),
        Field(13, "seLinuxChangePolicy", One(Str)),
        ]);

    static SYSCTL: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "value", One(Str)),
        ]);

    static AFFINITY: Message = Message(&[
        Field(1, "nodeAffinity", One(Msg(&NODE_AFFINITY))),
        Field(2, "podAffinity", One(Msg(&POD_AFFINITY))),
        Field(3, "podAntiAffinity", One(Msg(&POD_ANTI_AFFINITY))),
        ]);

    static NODE_AFFINITY: Message = Message(&[
        Field(1, "requiredDuringSchedulingIgnoredDuringExecution", One(Msg(&NODE_SELECTOR))),
        Field(2, "preferredDuringSchedulingIgnoredDuringExecution", List(Msg(&PREFERRED_SCHEDULING_TERM))),
        ]);

    static NODE_SELECTOR: Message = Message(&[
        Field(1, "nodeSelectorTerms", List(Msg(&NODE_SELECTOR_TERM))),
        ]);

    static NODE_SELECTOR_TERM: Message = Message(&[
        Field(1, "matchExpressions", List(Msg(&NODE_SELECTOR_REQUIREMENT))),
        Field(2, "matchFields", List(Msg(&NODE_SELECTOR_REQUIREMENT))),
        ]);

    static NODE_SELECTOR_REQUIREMENT: Message = Message(&[
        Field(1, "key", One(Str)),
        Field(2, "operator", One(Str)),
        Field(3, "values", List(Str)),
        ]);

    static PREFERRED_SCHEDULING_TERM: Message = Message(&[
        Field(1, "weight", One(I32)),
        Field(2, "preference", One(Msg(&NODE_SELECTOR_TERM))),
        ]);

    static POD_AFFINITY: Message = Message(&[
        Field(1, "requiredDuringSchedulingIgnoredDuringExecution", List(Msg(&POD_AFFINITY_TERM))),
        Field(2, "preferredDuringSchedulingIgnoredDuringExecution", List(Msg(&WEIGHTED_POD_AFFINITY_TERM))),
        ]);

    static POD_AFFINITY_TERM: Message = Message(&[
        Field(1, "labelSelector", One(Msg(&LABEL_SELECTOR))),
        Field(2, "namespaces", List(Str)),
        Field(3, "topologyKey", One(Str)),
        Field(4, "namespaceSelector", One(Msg(&LABEL_SELECTOR))),
        Field(5, "matchLabelKeys", List(Str)),
        Field(6, "mismatchLabelKeys", List(Str)),
        ]);

    static WEIGHTED_POD_AFFINITY_TERM: Message = Message(&[
        Field(1, "weight", One(I32)),
        Field(2, "podAffinityTerm", One(Msg(&POD_AFFINITY_TERM))),
        ]);

    static POD_ANTI_AFFINITY: Message = Message(&[
        Field(1, "requiredDuringSchedulingIgnoredDuringExecution", List(Msg(&POD_AFFINITY_TERM))),
        Field(2, "preferredDuringSchedulingIgnoredDuringExecution", List(Msg(&WEIGHTED_POD_AFFINITY_TERM))),
        ]);

    static TOLERATION: Message = Message(&[
        Field(1, "key", OmitEmpty(Str)),
        Field(2, "operator", OmitEmpty(Str)),
        Field(3, "value", OmitEmpty(Str)),
        Field(4, "effect", OmitEmpty(Str)),
        Field(5, "tolerationSeconds", One(I64)),
        ]);

    static HOST_ALIAS: Message = Message(&[
        Field(1, "ip", One(Str)),
        Field(2, "hostnames", List(Str)),
        ]);

    static POD_DNS_CONFIG: Message = Message(&[
        Field(1, "nameservers", List(Str)),
        Field(2, "searches", List(Str)),
        Field(3, "options", List(Msg(&POD_DNS_CONFIG_OPTION))),
        ]);

    static POD_DNS_CONFIG_OPTION: Message = Message(&[
        Field(1, "name", OmitEmpty(Str)),
        Field(2, "value", One(Str)),
        ]);

    static POD_READINESS_GATE: Message = Message(&[
        Field(1, "conditionType", One(Str)),
        ]);

    static TOPOLOGY_SPREAD_CONSTRAINT: Message = Message(&[
        Field(1, "maxSkew", One(I32)),
        Field(2, "topologyKey", One(Str)),
        Field(3, "whenUnsatisfiable", One(Str)),
        Field(4, "labelSelector", One(Msg(&LABEL_SELECTOR))),
        Field(5, "minDomains", One(I32)),
        Field(6, "nodeAffinityPolicy", One(Str)),
        Field(7, "nodeTaintsPolicy", One(Str)),
        Field(8, "matchLabelKeys", List(Str)),
        ]);

    static EPHEMERAL_CONTAINER: Message = Message(&[
        Field(1, "ephemeralContainerCommon", Inline(&EPHEMERAL_CONTAINER_COMMON)),
        Field(2, "targetContainerName", OmitEmpty(Str)),
        ]);

    static EPHEMERAL_CONTAINER_COMMON: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "image", OmitEmpty(Str)),
        Field(3, "command", List(Str)),
        Field(4, "args", List(Str)),
        Field(5, "workingDir", OmitEmpty(Str)),
        Field(6, "ports", List(Msg(&CONTAINER_PORT))),
        Field(7, "env", List(Msg(&ENV_VAR))),
        Field(8, "resources", One(Msg(&RESOURCE_REQUIREMENTS))),
        Field(9, "volumeMounts", List(Msg(&VOLUME_MOUNT))),
        Field(10, "livenessProbe", One(Msg(&PROBE))),
        Field(11, "readinessProbe", One(Msg(&PROBE))),
        Field(12, "lifecycle", One(Msg(&LIFECYCLE))),
        Field(13, "terminationMessagePath", OmitEmpty(Str)),
        Field(14, "imagePullPolicy", OmitEmpty(Str)),
        Field(15, "securityContext", One(Msg(&SECURITY_CONTEXT))),
        Field(16, "stdin", OmitEmpty(Bool)),
        Field(17, "stdinOnce", OmitEmpty(Bool)),
        Field(18, "tty", OmitEmpty(Bool)),
        Field(19, "envFrom", List(Msg(&ENV_FROM_SOURCE))),
        Field(20, "terminationMessagePolicy", OmitEmpty(Str)),
        Field(21, "volumeDevices", List(Msg(&VOLUME_DEVICE))),
        Field(22, "startupProbe", One(Msg(&PROBE))),
        Field(23, "resizePolicy", List(Msg(&CONTAINER_RESIZE_POLICY))),
        Field(24, "restartPolicy", One(Str)),
        Field(25, "restartPolicyRules", List(Msg(&CONTAINER_RESTART_RULE))),
        ]);

    static POD_OS: Message = Message(&[
        Field(1, "name", One(Str)),
        ]);

    static POD_SCHEDULING_GATE: Message = Message(&[
        Field(1, "name", One(Str)),
        ]);

    static POD_RESOURCE_CLAIM: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(3, "resourceClaimName", One(Str)),
        Field(4, "resourceClaimTemplateName", One(Str)),
        ]);

    static DEPLOYMENT_STRATEGY: Message = Message(&[
        Field(1, "type", OmitEmpty(Str)),
        Field(2, "rollingUpdate", One(Msg(&ROLLING_UPDATE_DEPLOYMENT))),
        ]);

    static ROLLING_UPDATE_DEPLOYMENT: Message = Message(&[
        Field(1, "maxUnavailable", One(IntOrString)),
        Field(2, "maxSurge", One(IntOrString)),
        ]);

    static DEPLOYMENT_STATUS: Message = Message(&[
        Field(1, "observedGeneration", OmitEmpty(I64)),
        Field(2, "replicas", OmitEmpty(I32)),
        Field(3, "updatedReplicas", OmitEmpty(I32)),
        Field(4, "availableReplicas", OmitEmpty(I32)),
        Field(5, "unavailableReplicas", OmitEmpty(I32)),
        Field(6, "conditions", List(Msg(&DEPLOYMENT_CONDITION))),
        Field(7, "readyReplicas", OmitEmpty(I32)),
        Field(8, "collisionCount", One(I32)),
        Field(9, "terminatingReplicas", One(I32)),
        ]);

    static DEPLOYMENT_CONDITION: Message = Message(&[
        Field(1, "type", One(Str)),
        Field(2, "status", One(Str)),
        Field(4, "reason", OmitEmpty(Str)),
        Field(5, "message", OmitEmpty(Str)),
        Field(6, "lastUpdateTime", One(Time)),
        Field(7, "lastTransitionTime", One(Time)),
        ]);

    static REPLICA_SET: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&REPLICA_SET_SPEC))),
        Field(3, "status", One(Msg(&REPLICA_SET_STATUS))),
        ]);

    static REPLICA_SET_SPEC: Message = Message(&[
        Field(1, "replicas", One(I32)),
        Field(2, "selector", One(Msg(&LABEL_SELECTOR))),
        Field(3, "template", One(Msg(&POD_TEMPLATE_SPEC))),
        Field(4, "minReadySeconds", OmitEmpty(I32)),
        ]);

    static REPLICA_SET_STATUS: Message = Message(&[
        Field(1, "replicas", One(I32)),
        Field(2, "fullyLabeledReplicas", OmitEmpty(I32)),
        Field(3, "observedGeneration", OmitEmpty(I64)),
        Field(4, "readyReplicas", OmitEmpty(I32)),
        Field(5, "availableReplicas", OmitEmpty(I32)),
        Field(6, "conditions", List(Msg(&REPLICA_SET_CONDITION))),
        Field(7, "terminatingReplicas", One(I32)),
        ]);

    static REPLICA_SET_CONDITION: Message = Message(&[
        Field(1, "type", One(Str)),
        Field(2, "status", One(Str)),
        Field(3, "lastTransitionTime", One(Time)),
        Field(4, "reason", OmitEmpty(Str)),
        Field(5, "message", OmitEmpty(Str)),
        ]);

    static POD: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&POD_SPEC))),
        Field(3, "status", One(Msg(&POD_STATUS))),
        ]);

    static POD_STATUS: Message = Message(&[
        Field(1, "phase", OmitEmpty(Str)),
        Field(2, "conditions", List(Msg(&POD_CONDITION))),
        Field(3, "message", OmitEmpty(Str)),
        Field(4, "reason", OmitEmpty(Str)),
        Field(5, "hostIP", OmitEmpty(Str)),
        Field(6, "podIP", OmitEmpty(Str)),
        Field(7, "startTime", One(Time)),
        Field(8, "containerStatuses", List(Msg(&CONTAINER_STATUS))),
        Field(9, "qosClass", OmitEmpty(Str)),
        Field(10, "initContainerStatuses", List(Msg(&CONTAINER_STATUS))),
        Field(11, "nominatedNodeName", OmitEmpty(Str)),
        Field(12, "podIPs", List(Msg(&POD_IP))),
        Field(13, "ephemeralContainerStatuses", List(Msg(&CONTAINER_STATUS))),
        Field(14, "resize", OmitEmpty(Str)),
        Field(15, "resourceClaimStatuses", List(Msg(&POD_RESOURCE_CLAIM_STATUS))),
        Field(16, "hostIPs", List(Msg(&HOST_IP))),
        Field(17, "observedGeneration", OmitEmpty(I64)),
        Field(18, "extendedResourceClaimStatus", One(Msg(&POD_EXTENDED_RESOURCE_CLAIM_STATUS))),
        Field(19, "allocatedResources", Map(Quantity)),
        Field(20, "resources", One(Msg(&RESOURCE_REQUIREMENTS))),
        ]);

    static POD_CONDITION: Message = Message(&[
        Field(1, "type", One(Str)),
        Field(2, "status", One(Str)),
        Field(3, "lastProbeTime", One(Time)),
        Field(4, "lastTransitionTime", One(Time)),
        Field(5, "reason", OmitEmpty(Str)),
        Field(6, "message", OmitEmpty(Str)),
        Field(7, "observedGeneration", OmitEmpty(I64)),
        ]);

    static CONTAINER_STATUS: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "state", One(Msg(&CONTAINER_STATE))),
        Field(3, "lastState", One(Msg(&CONTAINER_STATE))),
        Field(4, "ready", One(Bool)),
        Field(5, "restartCount", One(I32)),
        Field(6, "image", One(Str)),
        Field(7, "imageID", One(Str)),
        Field(8, "containerID", OmitEmpty(Str)),
        Field(9, "started", One(Bool)),
        Field(10, "allocatedResources", Map(Quantity)),
        Field(11, "resources", One(Msg(&RESOURCE_REQUIREMENTS))),
        Field(12, "volumeMounts", List(Msg(&VOLUME_MOUNT_STATUS))),
        Field(13, "user", One(Msg(&CONTAINER_USER))),
        Field(14, "allocatedResourcesStatus", List(Msg(&RESOURCE_STATUS))),
        Field(15, "stopSignal", One(Str)),
        ]);

    static CONTAINER_STATE: Message = Message(&[
        Field(1, "waiting", One(Msg(&CONTAINER_STATE_WAITING))),
        Field(2, "running", One(Msg(&CONTAINER_STATE_RUNNING))),
        Field(3, "terminated", One(Msg(&CONTAINER_STATE_TERMINATED))),
        ]);

    static CONTAINER_STATE_WAITING: Message = Message(&[
        Field(1, "reason", OmitEmpty(Str)),
        Field(2, "message", OmitEmpty(Str)),
        ]);

    static CONTAINER_STATE_RUNNING: Message = Message(&[
        Field(1, "startedAt", One(Time)),
        ]);

    static CONTAINER_STATE_TERMINATED: Message = Message(&[
        Field(1, "exitCode", One(I32)),
        Field(2, "signal", OmitEmpty(I32)),
        Field(3, "reason", OmitEmpty(Str)),
        Field(4, "message", OmitEmpty(Str)),
        Field(5, "startedAt", One(Time)),
        Field(6, "finishedAt", One(Time)),
        Field(7, "containerID", OmitEmpty(Str)),
        ]);

    static VOLUME_MOUNT_STATUS: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "mountPath", One(Str)),
        Field(3, "readOnly", OmitEmpty(Bool)),
        Field(4, "recursiveReadOnly", One(Str)),
        ]);

    static CONTAINER_USER: Message = Message(&[
        Field(1, "linux", One(Msg(&LINUX_CONTAINER_USER))),
        ]);

    static LINUX_CONTAINER_USER: Message = Message(&[
        Field(1, "uid", One(I64)),
        Field(2, "gid", One(I64)),
        Field(3, "supplementalGroups", List(I64)),
        ]);

    static RESOURCE_STATUS: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "resources", List(Msg(&RESOURCE_HEALTH))),
        ]);

    static RESOURCE_HEALTH: Message = Message(&[
        Field(1, "resourceID", One(Str)),
        Field(2, "health", OmitEmpty(Str)),
        ]);

    static POD_IP: Message = Message(&[
        Field(1, "ip", One(Str)),
        ]);

    static POD_RESOURCE_CLAIM_STATUS: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "resourceClaimName", One(Str)),
        ]);

    static HOST_IP: Message = Message(&[
        Field(1, "ip", One(Str)),
        ]);

    static POD_EXTENDED_RESOURCE_CLAIM_STATUS: Message = Message(&[
        Field(1, "requestMappings", List(Msg(&CONTAINER_EXTENDED_RESOURCE_REQUEST))),
        Field(2, "resourceClaimName", One(Str)),
        ]);

    static CONTAINER_EXTENDED_RESOURCE_REQUEST: Message = Message(&[
        Field(1, "containerName", One(Str)),
        Field(2, "resourceName", One(Str)),
        Field(3, "requestName", One(Str)),
        ]);

    static NODE: Message = Message(&[
        Field(1, "metadata", One(Msg(&OBJECT_META))),
        Field(2, "spec", One(Msg(&NODE_SPEC))),
        Field(3, "status", One(Msg(&NODE_STATUS))),
        ]);

    static NODE_SPEC: Message = Message(&[
        Field(1, "podCIDR", OmitEmpty(Str)),
        Field(2, "externalID", OmitEmpty(Str)),
        Field(3, "providerID", OmitEmpty(Str)),
        Field(4, "unschedulable", OmitEmpty(Bool)),
        Field(5, "taints", List(Msg(&TAINT))),
        Field(6, "configSource", One(Msg(&NODE_CONFIG_SOURCE))),
        Field(7, "podCIDRs", List(Str)),
        ]);

    static TAINT: Message = Message(&[
        Field(1, "key", One(Str)),
        Field(2, "value", OmitEmpty(Str)),
        Field(3, "effect", One(Str)),
        Field(4, "timeAdded", One(Time)),
        ]);

    static NODE_CONFIG_SOURCE: Message = Message(&[
        Field(2, "configMap", One(Msg(&CONFIG_MAP_NODE_CONFIG_SOURCE))),
        ]);

    static CONFIG_MAP_NODE_CONFIG_SOURCE: Message = Message(&[
        Field(1, "namespace", One(Str)),
        Field(2, "name", One(Str)),
        Field(3, "uid", OmitEmpty(Str)),
        Field(4, "resourceVersion", OmitEmpty(Str)),
        Field(5, "kubeletConfigKey", One(Str)),
        ]);

    static NODE_STATUS: Message = Message(&[
        Field(1, "capacity", Map(Quantity)),
        Field(2, "allocatable", Map(Quantity)),
        Field(3, "phase", OmitEmpty(Str)),
        Field(4, "conditions", List(Msg(&NODE_CONDITION))),
        Field(5, "addresses", List(Msg(&NODE_ADDRESS))),
        Field(6, "daemonEndpoints", One(Msg(&NODE_DAEMON_ENDPOINTS))),
        Field(7, "nodeInfo", One(Msg(&NODE_SYSTEM_INFO))),
        Field(8, "images", List(Msg(&CONTAINER_IMAGE))),
        Field(9, "volumesInUse", List(Str)),
        Field(10, "volumesAttached", List(Msg(&ATTACHED_VOLUME))),
        Field(11, "config", One(Msg(&NODE_CONFIG_STATUS))),
        Field(12, "runtimeHandlers", List(Msg(&NODE_RUNTIME_HANDLER))),
        Field(13, "features", One(Msg(&NODE_FEATURES))),
        Field(14, "declaredFeatures", List(Str)),
        ]);

    static NODE_CONDITION: Message = Message(&[
        Field(1, "type", One(Str)),
        Field(2, "status", One(Str)),
        Field(3, "lastHeartbeatTime", One(Time)),
        Field(4, "lastTransitionTime", One(Time)),
        Field(5, "reason", OmitEmpty(Str)),
        Field(6, "message", OmitEmpty(Str)),
        ]);

    static NODE_ADDRESS: Message = Message(&[
        Field(1, "type", One(Str)),
        Field(2, "address", One(Str)),
        ]);

    static NODE_DAEMON_ENDPOINTS: Message = Message(&[
        Field(1, "kubeletEndpoint", One(Msg(&DAEMON_ENDPOINT))),
        ]);

    static DAEMON_ENDPOINT: Message = Message(&[
        Field(1, "Port", One(I32)),
        ]);

    static NODE_SYSTEM_INFO: Message = Message(&[
        Field(1, "machineID", One(Str)),
        Field(2, "systemUUID", One(Str)),
        Field(3, "bootID", One(Str)),
        Field(4, "kernelVersion", One(Str)),
        Field(5, "osImage", One(Str)),
        Field(6, "containerRuntimeVersion", One(Str)),
        Field(7, "kubeletVersion", One(Str)),
        Field(8, "kubeProxyVersion", One(Str)),
        Field(9, "operatingSystem", One(Str)),
        Field(10, "architecture", One(Str)),
        Field(11, "swap", One(Msg(&NODE_SWAP_STATUS))),
        ]);

    static NODE_SWAP_STATUS: Message = Message(&[
        Field(1, "capacity", One(I64)),
        ]);

    static CONTAINER_IMAGE: Message = Message(&[
        Field(1, "names", List(Str)),
        Field(2, "sizeBytes", OmitEmpty(I64)),
        ]);

    static ATTACHED_VOLUME: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "devicePath", One(Str)),
        ]);

    static NODE_CONFIG_STATUS: Message = Message(&[
        Field(1, "assigned", One(Msg(&NODE_CONFIG_SOURCE))),
        Field(2, "active", One(Msg(&NODE_CONFIG_SOURCE))),
        Field(3, "lastKnownGood", One(Msg(&NODE_CONFIG_SOURCE))),
        Field(4, "error", OmitEmpty(Str)),
        ]);

    static NODE_RUNTIME_HANDLER: Message = Message(&[
        Field(1, "name", One(Str)),
        Field(2, "features", One(Msg(&NODE_RUNTIME_HANDLER_FEATURES))),
        ]);

    static NODE_RUNTIME_HANDLER_FEATURES: Message = Message(&[
        Field(1, "recursiveReadOnlyMounts", One(Bool)),
        Field(2, "userNamespaces", One(Bool)),
        ]);

    static NODE_FEATURES: Message = Message(&[
        Field(1, "supplementalGroupsPolicy", One(Bool)),
        ]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Request bodies captured from kubectl 1.32.4 (`kubectl create ...` against a recording
    // server); each test expects what the same command prints with
    // `--dry-run=client -o json`, minus its `"creationTimestamp": null`.
    const NAMESPACE: &[u8] =
        b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x1c\x0a\x14\x0a\x04demo\x12\x00\x1a\
        \x00\"\x00*\x002\x008\x00B\x00\x12\x00\x1a\x02\x0a\x00\x1a\x00\"\x00";
    const DEPLOYMENT: &[u8] =
        b"k8s\x00\x0a\x15\x0a\x07apps/v1\x12\x0aDeployment\x12\xbd\x01\x0a\x1f\x0a\x03web\x12\
        \x00\x1a\x00\"\x00*\x002\x008\x00B\x00Z\x0a\x0a\x03app\x12\x03web\x12\x8b\x01\x08\
        \x03\x12\x0c\x0a\x0a\x0a\x03app\x12\x03web\x1aq\x0a\x1c\x0a\x00\x12\x00\x1a\x00\"\
        \x00*\x002\x008\x00B\x00Z\x0a\x0a\x03app\x12\x03web\x12Q\x123\x0a\x05nginx\x12\x0ang\
        inx:1.25*\x002\x0a\x0a\x00\x10\x00\x18P\"\x00*\x00B\x00j\x00r\x00\x80\x01\x00\x88\
        \x01\x00\x90\x01\x00\xa2\x01\x00\x1a\x002\x00B\x00J\x00R\x00X\x00`\x00h\x00\x82\x01\
        \x00\x8a\x01\x00\x9a\x01\x00\xc2\x01\x00\"\x02\x0a\x00(\x008\x00\x1a\x0c\x08\x00\x10\
        \x00\x18\x00\x20\x00(\x008\x00\x1a\x00\"\x00";
    const CONFIG_MAP: &[u8] =
        b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09ConfigMap\x12H\x0a\x13\x0a\x03cfg\x12\x00\x1a\x00\"\
        \x00*\x002\x008\x00B\x00\x12\x09\x0a\x05empty\x12\x00\x12\x11\x0a\x08greeting\x12\
        \x05hello\x1a\x13\x0a\x04blob\x12\x0b\x00\x01\x02\xff\xfebinary\x1a\x00\"\x00";
    const SECRET: &[u8] =
        b"k8s\x00\x0a\x0c\x0a\x02v1\x12\x06Secret\x12A\x0a\x15\x0a\x05creds\x12\x00\x1a\x00\"\
        \x00*\x002\x008\x00B\x00\x12\x13\x0a\x08password\x12\x07s3cr3t!\x12\x11\x0a\x08usern\
        ame\x12\x05admin\x1a\x00\x1a\x00\"\x00";
    const SERVICE_NODE_PORT: &[u8] =
        b"k8s\x00\x0a\x0d\x0a\x02v1\x12\x07Service\x12j\x0a\x1f\x0a\x03web\x12\x00\x1a\x00\"\
        \x00*\x002\x008\x00B\x00Z\x0a\x0a\x03app\x12\x03web\x12C\x0a\x1d\x0a\x0780-8080\x12\
        \x03TCP\x18P\"\x07\x08\x00\x10\x90?\x1a\x00(\x80\xeb\x01\x12\x0a\x0a\x03app\x12\x03w\
        eb\x1a\x00\"\x08NodePort:\x00B\x00R\x00Z\x00`\x00h\x00\x1a\x02\x0a\x00\x1a\x00\"\x00";
    const SERVICE_CLUSTER_IP: &[u8] =
        b"k8s\x00\x0a\x0d\x0a\x02v1\x12\x07Service\x12p\x0a\x1f\x0a\x03api\x12\x00\x1a\x00\"\
        \x00*\x002\x008\x00B\x00Z\x0a\x0a\x03app\x12\x03api\x12I\x0a\"\x0a\x09443-https\x12\
        \x03TCP\x18\xbb\x03\"\x0b\x08\x01\x10\x00\x1a\x05https(\x00\x12\x0a\x0a\x03app\x12\
        \x03api\x1a\x00\"\x09ClusterIP:\x00B\x00R\x00Z\x00`\x00h\x00\x1a\x02\x0a\x00\x1a\x00\
        \"\x00";
    const SERVICE_ACCOUNT: &[u8] =
        b"k8s\x00\x0a\x14\x0a\x02v1\x12\x0eServiceAccount\x12\x19\x0a\x17\x0a\x07builder\x12\
        \x00\x1a\x00\"\x00*\x002\x008\x00B\x00\x1a\x00\"\x00";

    // Bodies built with the k8s-pb crate's prost types (a scratch generator outside this
    // repository), for what kubectl's create commands never fill in.
    const POD: &[u8] =
        b"k8s\x00\x0a\x09\x0a\x02v1\x12\x03Pod\x12\x94\x0d\x0a\xc8\x01\x0a\x08app-7d9c\x12\x04\
        app-\x1a\x04prod*$0b6a7b3e-1f8e-4bd4-9a6e-3c1f2e7d8a902\x044711B\x08\x08\xa5\xfa\xcd\
        \xac\x06\x10\x00Z\x0a\x0a\x03app\x12\x03webZ\x0f\x0a\x04tier\x12\x07backendb\x1e\x0a\
        \x10example.com/note\x12\x0ah\xc3\xa9llo\x20\xe2\x9c\x93j(\x0a\x0aReplicaSet\x1a\x07\
        app-7d9\"\x04d3c1*\x07apps/v10\x018\x01r\x13example.com/cleanup\x12\xb0\x09\x0a\x19\
        \x0a\x04data\x12\x11\x12\x0f\x0a\x06Memory\x12\x05\x0a\x031Gi\x0a7\x0a\x06config\x12\
        -\x9a\x01*\x0a\x0c\x0a\x0aapp-config\x12\x17\x0a\x08app.yaml\x12\x08app.yaml\x18\xa0\
        \x02\x18\xa4\x03\x0a\x0e\x0a\x03tls\x12\x072\x05\x0a\x03tls\x0a\x1f\x0a\x04host\x12\
        \x17\x0a\x15\x0a\x08/var/log\x12\x09Directory\x0a\x15\x0a\x05claim\x12\x0cR\x0a\x0a\
        \x06data-0\x10\x00\x0a$\x0a\x05token\x12\x1b\xd2\x01\x18\x0a\x13\"\x11\x0a\x05vault\
        \x10\x90\x1c\x1a\x05token\x10\xa4\x03\x12\x97\x04\x0a\x03app\x12\x18registry.example\
        /app:2.1\x1a\x04/app\"\x0e--listen=:8080\"\x09--verbose*\x04/srv2\x0e\x0a\x04http\
        \x18\x90?\"\x03TCP2\x15\x0a\x07metrics\x10\x92\x95\x01\x18\x82G\"\x03TCP:\x12\x0a\
        \x04MODE\x12\x0aproduction:\"\x0a\x05LEVEL\x1a\x19\x1a\x17\x0a\x0c\x0a\x0aapp-config\
        \x12\x05level\x18\x00:\x1e\x0a\x08PASSWORD\x1a\x12\"\x10\x0a\x04\x0a\x02db\x12\x08pa\
        ssword:\x1e\x0a\x06POD_IP\x1a\x14\x0a\x12\x0a\x02v1\x12\x0cstatus.podIPB5\x0a\x11\
        \x0a\x06memory\x12\x07\x0a\x05256Mi\x12\x0d\x0a\x03cpu\x12\x06\x0a\x04250m\x12\x11\
        \x0a\x06memory\x12\x07\x0a\x05128MiJ\x0d\x0a\x04data\x1a\x05/dataJ\x1e\x0a\x06config\
        \x10\x01\x1a\x08/etc/app\"\x08app.yamlR2\x0a*\x12(\x0a\x08/healthz\x12\x08\x08\x01\
        \x1a\x04http\"\x04HTTP*\x0c\x0a\x07X-Probe\x12\x011\x10\x05\x20\x0a0\x03Z\x0f\x0a\
        \x09\x1a\x07\x0a\x05\x08\x00\x10\x90?\x18\x02(\x01j\x14/dev/termination-logr\x0cIfNo\
        tPresentz!\x0a\x17\x0a\x10NET_BIND_SERVICE\x12\x03ALL\x20\x00(\x000\x018\x00\x80\x01\
        \x00\x90\x01\x00\x9a\x01\x18\x0a\x04CFG_\x12\x10\x0a\x0c\x0a\x0aapp-config\x10\x01\
        \xa2\x01\x04File\xb2\x01\x15\x0a\x13\x0a\x11\x0a\x03cat\x0a\x0a/tmp/ready\x1a\x06Alw\
        ays\x20\x1e(\xd8\x042\x0cClusterFirst:\x19\x0a\x10kubernetes.io/os\x12\x05linuxB\x03\
        appR\x06node-1X\x00r!\x10\xe8\x07\x20\xa0\x1f\x20\x88'(\xd0\x0f0\xb8\x17R\x10\x0a\
        \x0eRuntimeDefaultz\x09\x0a\x07regcred\x82\x01\x05app-0\x8a\x01\x03app\x92\x01M\x0aK\
        \x0a3\x0a1\x0a/\x0a\x1btopology.kubernetes.io/zone\x12\x02In\x1a\x05eu-1a\x1a\x05eu-\
        1b\x12\x14\x08\x0a\x12\x10\x0a\x0e\x0a\x04disk\x12\x06Exists\x9a\x01\x11default-sche\
        duler\xa2\x014\x0a\x04init\x12\x0cbusybox:1.36\x1a\x02sh\x1a\x02-c\x1a\x16echo\x20\"\
        ready\"\x20>\x20/data/x\xb2\x014\x0a\x1cnode.kubernetes.io/not-ready\x12\x06Exists\"\
        \x09NoExecute(\xac\x02\xb2\x01#\x0a\x09dedicated\x12\x05Equal\x1a\x03web\"\x0aNoSche\
        dule\xc2\x01\x04high\xc8\x01\xe8\x07\xf0\x01\x00\x8a\x02J\x08\x01\x12\x16kubernetes.\
        io/hostname\x1a\x0dDoNotSchedule\"\x1f\x0a\x0a\x0a\x03app\x12\x03web\x12\x11\x0a\x04\
        tier\x12\x05NotIn\x1a\x02db\x1a\x93\x02\x0a\x07Running\x12\x17\x0a\x05Ready\x12\x04T\
        rue\"\x08\x08\xdc\xfa\xcd\xac\x06\x10\x00*\x0810.0.0.52\x0a10.244.1.7:\x08\x08\xaa\
        \xfa\xcd\xac\x06\x10\x00B\x9d\x01\x0a\x03app\x12\x0c\x12\x0a\x0a\x08\x08\xb4\xfa\xcd\
        \xac\x06\x10\x00\x1a6\x1a4\x08\x89\x01\x1a\x09OOMKilled*\x08\x08\xab\xfa\xcd\xac\x06\
        \x10\x002\x08\x08\xb3\xfa\xcd\xac\x06\x10\x00:\x10containerd://abc\x20\x01(\x012\x18\
        registry.example/app:2.1:\x1eregistry.example/app@sha256:00B\x10containerd://defH\
        \x01J\x09Burstableb\x0c\x0a\x0a10.244.1.7b\x09\x0a\x07fd00::7\x82\x01\x0a\x0a\x0810.\
        0.0.5\x1a\x00\"\x00";
    const LEASE: &[u8] =
        b"k8s\x00\x0a\x1f\x0a\x16coordination.k8s.io/v1\x12\x05Lease\x12A\x0a\x19\x0a\x06node-\
        1\x1a\x0fkube-node-lease\x12$\x0a\x06node-1\x10(\x1a\x09\x08\xa5\xfa\xcd\xac\x06\x10\
        \x88'\"\x0b\x08\xcd\xfa\xcd\xac\x06\x10\x95\x9a\xef:(\x00\x1a\x00\"\x00";
    const DELETE_OPTIONS: &[u8] =
        b"k8s\x00\x0a\x18\x0a\x07apps/v1\x12\x0dDeleteOptions\x12\x1f\x08\x00\x12\x0a\x0a\x040\
        b6a\x12\x0242\"\x0aForeground*\x03All\x1a\x00\"\x00";

    fn varint(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out
    }

    fn key(number: u32, wire_type: u8) -> Vec<u8> {
        varint(u64::from(number) << 3 | u64::from(wire_type))
    }

    /// A length-delimited field.
    fn ld(number: u32, bytes: &[u8]) -> Vec<u8> {
        [key(number, 2), varint(bytes.len() as u64), bytes.to_vec()].concat()
    }

    /// A varint field.
    fn vi(number: u32, n: u64) -> Vec<u8> {
        [key(number, 0), varint(n)].concat()
    }

    fn body(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let type_meta = [ld(1, api_version.as_bytes()), ld(2, kind.as_bytes())].concat();
        [MAGIC.to_vec(), ld(1, &type_meta), ld(2, raw)].concat()
    }

    fn namespace(raw: &[u8]) -> Value {
        decode(&body("v1", "Namespace", raw)).unwrap()
    }

    fn error(body: &[u8]) -> String {
        decode(body).unwrap_err().0
    }

    #[test]
    fn kubectl_create_namespace() {
        assert_eq!(
            decode(NAMESPACE).unwrap(),
            json!({
                "kind": "Namespace",
                "apiVersion": "v1",
                "metadata": {"name": "demo"},
                "spec": {},
                "status": {}
            })
        );
    }

    #[test]
    fn kubectl_create_deployment() {
        // `--image=nginx:1.25 --replicas=3 --port=80`. Go's protobuf encoder writes every
        // non-pointer field, zero or not; the zeros are gone here as in kubectl's JSON,
        // while the empty structs Go's JSON keeps ("resources", "strategy") stay.
        assert_eq!(
            decode(DEPLOYMENT).unwrap(),
            json!({
                "kind": "Deployment",
                "apiVersion": "apps/v1",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {
                            "containers": [
                                {
                                    "name": "nginx",
                                    "image": "nginx:1.25",
                                    "ports": [{"containerPort": 80}],
                                    "resources": {}
                                }
                            ]
                        }
                    },
                    "strategy": {}
                },
                "status": {}
            })
        );
    }

    #[test]
    fn kubectl_create_configmap() {
        // `--from-literal=greeting=hello --from-literal=empty= --from-file=blob=<binary>`:
        // an empty value stays, and binary data is base64.
        assert_eq!(
            decode(CONFIG_MAP).unwrap(),
            json!({
                "kind": "ConfigMap",
                "apiVersion": "v1",
                "metadata": {"name": "cfg"},
                "data": {"empty": "", "greeting": "hello"},
                "binaryData": {"blob": "AAEC//5iaW5hcnk="}
            })
        );
    }

    #[test]
    fn kubectl_create_secret_generic() {
        assert_eq!(
            decode(SECRET).unwrap(),
            json!({
                "kind": "Secret",
                "apiVersion": "v1",
                "metadata": {"name": "creds"},
                "data": {"password": "czNjcjN0IQ==", "username": "YWRtaW4="}
            })
        );
    }

    #[test]
    fn kubectl_create_service_nodeport() {
        // `web --tcp=80:8080 --node-port=30080`: an integer targetPort.
        assert_eq!(
            decode(SERVICE_NODE_PORT).unwrap(),
            json!({
                "kind": "Service",
                "apiVersion": "v1",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {
                    "ports": [
                        {
                            "name": "80-8080",
                            "protocol": "TCP",
                            "port": 80,
                            "targetPort": 8080,
                            "nodePort": 30080
                        }
                    ],
                    "selector": {"app": "web"},
                    "type": "NodePort"
                },
                "status": {"loadBalancer": {}}
            })
        );
    }

    #[test]
    fn kubectl_create_service_clusterip() {
        // `api --tcp=443:https`: a named (string) targetPort.
        assert_eq!(
            decode(SERVICE_CLUSTER_IP).unwrap(),
            json!({
                "kind": "Service",
                "apiVersion": "v1",
                "metadata": {"name": "api", "labels": {"app": "api"}},
                "spec": {
                    "ports": [
                        {
                            "name": "443-https",
                            "protocol": "TCP",
                            "port": 443,
                            "targetPort": "https"
                        }
                    ],
                    "selector": {"app": "api"},
                    "type": "ClusterIP"
                },
                "status": {"loadBalancer": {}}
            })
        );
    }

    #[test]
    fn kubectl_create_serviceaccount() {
        assert_eq!(
            decode(SERVICE_ACCOUNT).unwrap(),
            json!({
                "kind": "ServiceAccount",
                "apiVersion": "v1",
                "metadata": {"name": "builder"}
            })
        );
    }

    #[test]
    fn pod_with_env_probes_resources_volumes_tolerations_and_status() {
        // Pointer fields keep their zeros (`runAsUser: 0`, `optional: false`), non-pointer
        // `omitempty` ones lose them (`hostNetwork`, `stdin`, `tty`, `readOnly` were false).
        assert_eq!(
            decode(POD).unwrap(),
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "annotations": {"example.com/note": "héllo ✓"},
                    "creationTimestamp": "2024-01-02T03:04:05Z",
                    "finalizers": ["example.com/cleanup"],
                    "generateName": "app-",
                    "labels": {"app": "web", "tier": "backend"},
                    "name": "app-7d9c",
                    "namespace": "prod",
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "blockOwnerDeletion": true,
                            "controller": true,
                            "kind": "ReplicaSet",
                            "name": "app-7d9",
                            "uid": "d3c1"
                        }
                    ],
                    "resourceVersion": "4711",
                    "uid": "0b6a7b3e-1f8e-4bd4-9a6e-3c1f2e7d8a90"
                },
                "spec": {
                    "activeDeadlineSeconds": 600,
                    "affinity": {
                        "nodeAffinity": {
                            "preferredDuringSchedulingIgnoredDuringExecution": [
                                {
                                    "preference": {
                                        "matchExpressions": [{"key": "disk", "operator": "Exists"}]
                                    },
                                    "weight": 10
                                }
                            ],
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [
                                    {
                                        "matchExpressions": [
                                            {
                                                "key": "topology.kubernetes.io/zone",
                                                "operator": "In",
                                                "values": ["eu-1a", "eu-1b"]
                                            }
                                        ]
                                    }
                                ]
                            }
                        }
                    },
                    "containers": [
                        {
                            "args": ["--listen=:8080", "--verbose"],
                            "command": ["/app"],
                            "env": [
                                {"name": "MODE", "value": "production"},
                                {
                                    "name": "LEVEL",
                                    "valueFrom": {
                                        "configMapKeyRef": {
                                            "key": "level",
                                            "name": "app-config",
                                            "optional": false
                                        }
                                    }
                                },
                                {
                                    "name": "PASSWORD",
                                    "valueFrom": {
                                        "secretKeyRef": {"key": "password", "name": "db"}
                                    }
                                },
                                {
                                    "name": "POD_IP",
                                    "valueFrom": {
                                        "fieldRef": {
                                            "apiVersion": "v1",
                                            "fieldPath": "status.podIP"
                                        }
                                    }
                                }
                            ],
                            "envFrom": [
                                {
                                    "configMapRef": {"name": "app-config", "optional": true},
                                    "prefix": "CFG_"
                                }
                            ],
                            "image": "registry.example/app:2.1",
                            "imagePullPolicy": "IfNotPresent",
                            "livenessProbe": {
                                "failureThreshold": 3,
                                "httpGet": {
                                    "httpHeaders": [{"name": "X-Probe", "value": "1"}],
                                    "path": "/healthz",
                                    "port": "http",
                                    "scheme": "HTTP"
                                },
                                "initialDelaySeconds": 5,
                                "periodSeconds": 10
                            },
                            "name": "app",
                            "ports": [
                                {"containerPort": 8080, "name": "http", "protocol": "TCP"},
                                {
                                    "containerPort": 9090,
                                    "hostPort": 19090,
                                    "name": "metrics",
                                    "protocol": "TCP"
                                }
                            ],
                            "readinessProbe": {
                                "successThreshold": 1,
                                "tcpSocket": {"port": 8080},
                                "timeoutSeconds": 2
                            },
                            "resources": {
                                "limits": {"memory": "256Mi"},
                                "requests": {"cpu": "250m", "memory": "128Mi"}
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": false,
                                "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                                "readOnlyRootFilesystem": true,
                                "runAsNonRoot": false,
                                "runAsUser": 0
                            },
                            "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}},
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File",
                            "volumeMounts": [
                                {"mountPath": "/data", "name": "data"},
                                {
                                    "mountPath": "/etc/app",
                                    "name": "config",
                                    "readOnly": true,
                                    "subPath": "app.yaml"
                                }
                            ],
                            "workingDir": "/srv"
                        }
                    ],
                    "dnsPolicy": "ClusterFirst",
                    "enableServiceLinks": false,
                    "hostname": "app-0",
                    "imagePullSecrets": [{"name": "regcred"}],
                    "initContainers": [
                        {
                            "command": ["sh", "-c", "echo \"ready\" > /data/x"],
                            "image": "busybox:1.36",
                            "name": "init"
                        }
                    ],
                    "nodeName": "node-1",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "priority": 1000,
                    "priorityClassName": "high",
                    "restartPolicy": "Always",
                    "schedulerName": "default-scheduler",
                    "securityContext": {
                        "fsGroup": 2000,
                        "runAsGroup": 3000,
                        "runAsUser": 1000,
                        "seccompProfile": {"type": "RuntimeDefault"},
                        "supplementalGroups": [4000, 5000]
                    },
                    "serviceAccountName": "app",
                    "subdomain": "app",
                    "terminationGracePeriodSeconds": 30,
                    "tolerations": [
                        {
                            "effect": "NoExecute",
                            "key": "node.kubernetes.io/not-ready",
                            "operator": "Exists",
                            "tolerationSeconds": 300
                        },
                        {
                            "effect": "NoSchedule",
                            "key": "dedicated",
                            "operator": "Equal",
                            "value": "web"
                        }
                    ],
                    "topologySpreadConstraints": [
                        {
                            "labelSelector": {
                                "matchExpressions": [
                                    {"key": "tier", "operator": "NotIn", "values": ["db"]}
                                ],
                                "matchLabels": {"app": "web"}
                            },
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "DoNotSchedule"
                        }
                    ],
                    "volumes": [
                        {"emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}, "name": "data"},
                        {
                            "configMap": {
                                "defaultMode": 420,
                                "items": [{"key": "app.yaml", "mode": 288, "path": "app.yaml"}],
                                "name": "app-config"
                            },
                            "name": "config"
                        },
                        {"name": "tls", "secret": {"secretName": "tls"}},
                        {"hostPath": {"path": "/var/log", "type": "Directory"}, "name": "host"},
                        {"name": "claim", "persistentVolumeClaim": {"claimName": "data-0"}},
                        {
                            "name": "token",
                            "projected": {
                                "defaultMode": 420,
                                "sources": [
                                    {
                                        "serviceAccountToken": {
                                            "audience": "vault",
                                            "expirationSeconds": 3600,
                                            "path": "token"
                                        }
                                    }
                                ]
                            }
                        }
                    ]
                },
                "status": {
                    "conditions": [
                        {
                            "lastTransitionTime": "2024-01-02T03:05:00Z",
                            "status": "True",
                            "type": "Ready"
                        }
                    ],
                    "containerStatuses": [
                        {
                            "containerID": "containerd://def",
                            "image": "registry.example/app:2.1",
                            "imageID": "registry.example/app@sha256:00",
                            "lastState": {
                                "terminated": {
                                    "containerID": "containerd://abc",
                                    "exitCode": 137,
                                    "finishedAt": "2024-01-02T03:04:19Z",
                                    "reason": "OOMKilled",
                                    "startedAt": "2024-01-02T03:04:11Z"
                                }
                            },
                            "name": "app",
                            "ready": true,
                            "restartCount": 1,
                            "started": true,
                            "state": {"running": {"startedAt": "2024-01-02T03:04:20Z"}}
                        }
                    ],
                    "hostIP": "10.0.0.5",
                    "hostIPs": [{"ip": "10.0.0.5"}],
                    "phase": "Running",
                    "podIP": "10.244.1.7",
                    "podIPs": [{"ip": "10.244.1.7"}, {"ip": "fd00::7"}],
                    "qosClass": "Burstable",
                    "startTime": "2024-01-02T03:04:10Z"
                }
            })
        );
    }

    #[test]
    fn lease_micro_times_keep_microseconds() {
        assert_eq!(
            decode(LEASE).unwrap(),
            json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
                "spec": {
                    "acquireTime": "2024-01-02T03:04:05.000005Z",
                    "holderIdentity": "node-1",
                    "leaseDurationSeconds": 40,
                    "leaseTransitions": 0,
                    "renewTime": "2024-01-02T03:04:45.123456Z"
                }
            })
        );
    }

    #[test]
    fn delete_options_are_read_under_any_api_version() {
        // client-go labels DeleteOptions with the deleted resource's group version.
        assert_eq!(
            decode(DELETE_OPTIONS).unwrap(),
            json!({
                "apiVersion": "apps/v1",
                "dryRun": ["All"],
                "gracePeriodSeconds": 0,
                "kind": "DeleteOptions",
                "preconditions": {"resourceVersion": "42", "uid": "0b6a"},
                "propagationPolicy": "Foreground"
            })
        );
        let raw = ld(4, b"Orphan");
        for api_version in ["v1", "meta.k8s.io/v1", "coordination.k8s.io/v1"] {
            let want = json!({
                "apiVersion": api_version,
                "kind": "DeleteOptions",
                "propagationPolicy": "Orphan"
            });
            assert_eq!(
                decode(&body(api_version, "DeleteOptions", &raw)).unwrap(),
                want
            );
        }
    }

    #[test]
    fn remaining_top_level_kinds_decode() {
        let meta = ld(1, &ld(1, b"x"));
        for (api_version, kind) in [
            ("v1", "Endpoints"),
            ("v1", "Binding"),
            ("v1", "Event"),
            ("v1", "Node"),
            ("apps/v1", "ReplicaSet"),
            ("autoscaling/v1", "Scale"),
        ] {
            assert_eq!(
                decode(&body(api_version, kind, &meta)).unwrap(),
                json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}})
            );
        }
        // Binding.target, as the scheduler sends it, and Scale's spec and status; a zero
        // spec.replicas is a non-pointer omitempty int32, so Go's JSON leaves it out too.
        let binding = [
            meta.clone(),
            ld(2, &[ld(1, b"Node"), ld(3, b"node-1")].concat()),
        ]
        .concat();
        assert_eq!(
            decode(&body("v1", "Binding", &binding)).unwrap()["target"],
            json!({"kind": "Node", "name": "node-1"})
        );
        let scale = [
            meta,
            ld(2, &vi(1, 0)),
            ld(3, &[vi(1, 2), ld(2, b"app=web")].concat()),
        ];
        assert_eq!(
            decode(&body("autoscaling/v1", "Scale", &scale.concat())).unwrap(),
            json!({
                "apiVersion": "autoscaling/v1",
                "kind": "Scale",
                "metadata": {"name": "x"},
                "spec": {},
                "status": {"replicas": 2, "selector": "app=web"}
            })
        );
    }

    #[test]
    fn envelope_without_raw_is_an_empty_object() {
        let type_meta = [ld(1, b"v1"), ld(2, b"Namespace")].concat();
        let body = [
            MAGIC.to_vec(),
            ld(1, &type_meta),
            ld(4, MEDIA_TYPE.as_bytes()),
        ]
        .concat();
        assert_eq!(
            decode(&body).unwrap(),
            json!({"apiVersion": "v1", "kind": "Namespace"})
        );
    }

    #[test]
    fn unknown_fields_of_every_wire_type_are_skipped() {
        let unknown = [
            vi(90, 300),
            key(91, 1),
            vec![1; 8],
            key(92, 5),
            vec![2; 4],
            ld(93, b"\xff\xfe not a message"),
            // A group holding a varint, a nested group and a length-delimited field.
            key(94, 3),
            vi(1, 5),
            key(2, 3),
            key(2, 4),
            ld(3, b"x"),
            key(94, 4),
        ]
        .concat();
        let name = ld(1, b"demo");
        let with_unknown = [
            unknown.clone(),
            ld(1, &[unknown.clone(), name.clone()].concat()),
        ];
        let plain = namespace(&ld(1, &name));
        assert_eq!(
            plain,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
        );
        assert_eq!(namespace(&with_unknown.concat()), plain);
        // Unknown fields in the envelope and in map entries are skipped too.
        let labels = ld(
            1,
            &ld(11, &[ld(1, b"a"), unknown.clone(), ld(2, b"b")].concat()),
        );
        assert_eq!(namespace(&labels)["metadata"]["labels"], json!({"a": "b"}));
        let mut wrapped = body("v1", "Namespace", &ld(1, &name));
        wrapped.extend(unknown);
        assert_eq!(decode(&wrapped).unwrap(), plain);
    }

    #[test]
    fn zeros_follow_go_json_omitempty() {
        // ObjectMeta.namespace is a non-pointer `omitempty` string: an empty one is dropped.
        // DeploymentSpec.replicas is a pointer: zero replicas is meaningful and kept.
        let raw = [
            ld(1, &[ld(1, b"web"), ld(3, b""), vi(7, 0)].concat()),
            ld(2, &vi(1, 0)),
        ];
        assert_eq!(
            decode(&body("apps/v1", "Deployment", &raw.concat())).unwrap(),
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"replicas": 0}
            })
        );
        // A later zero occurrence of an omitempty field replaces (removes) an earlier value.
        let raw = ld(1, &[ld(3, b"ns"), ld(3, b"")].concat());
        assert_eq!(namespace(&raw)["metadata"], json!({}));
    }

    #[test]
    fn repeated_scalars_may_be_packed_or_not() {
        let groups = |fields: Vec<u8>| {
            let pod = ld(2, &ld(14, &fields));
            decode(&body("v1", "Pod", &pod)).unwrap()["spec"]["securityContext"].clone()
        };
        let unpacked = [vi(4, 1), vi(4, 2), vi(4, 3)].concat();
        let packed = ld(4, &[varint(1), varint(2), varint(3)].concat());
        let mixed = [vi(4, 1), ld(4, &[varint(2), varint(3)].concat())].concat();
        let want = json!({"supplementalGroups": [1, 2, 3]});
        assert_eq!(groups(unpacked), want);
        assert_eq!(groups(packed), want);
        assert_eq!(groups(mixed), want);
        // A negative int64 arrives sign-extended to ten bytes.
        assert_eq!(
            groups(vi(4, -5i64 as u64)),
            json!({"supplementalGroups": [-5]})
        );
        assert!(error(&body("v1", "Pod", &ld(2, &ld(14, &ld(4, &[0x80]))))).contains("truncated"));
    }

    #[test]
    fn negative_int32_values_are_sign_extended() {
        // PodSpec.priority is int32; Go writes -1 as a 10-byte varint.
        let pod = ld(2, &vi(25, -1i64 as u64));
        assert_eq!(
            decode(&body("v1", "Pod", &pod)).unwrap()["spec"],
            json!({"priority": -1})
        );
    }

    #[test]
    fn repeated_message_fields_merge_and_scalars_take_the_last_value() {
        let raw = [
            ld(
                1,
                &[
                    ld(1, b"first"),
                    ld(11, &[ld(1, b"a"), ld(2, b"1")].concat()),
                ]
                .concat(),
            ),
            ld(
                1,
                &[
                    ld(1, b"second"),
                    ld(11, &[ld(1, b"b"), ld(2, b"2")].concat()),
                ]
                .concat(),
            ),
            ld(1, &ld(14, b"f1")),
            ld(1, &ld(14, b"f2")),
        ];
        assert_eq!(
            namespace(&raw.concat())["metadata"],
            json!({"name": "second", "labels": {"a": "1", "b": "2"}, "finalizers": ["f1", "f2"]})
        );
    }

    #[test]
    fn map_entries_default_a_missing_key_or_value() {
        let labels = [ld(11, &ld(2, b"no-key")), ld(11, &ld(1, b"no-value"))].concat();
        assert_eq!(
            namespace(&ld(1, &labels))["metadata"]["labels"],
            json!({"": "no-key", "no-value": ""})
        );
        let secret = ld(2, &ld(1, b"empty"));
        assert_eq!(
            decode(&body("v1", "Secret", &secret)).unwrap()["data"],
            json!({"empty": ""})
        );
        // Resource quantities are messages; a missing one is Go's zero Quantity, "0".
        let container = ld(8, &ld(1, &ld(1, b"cpu")));
        let pod = ld(2, &ld(2, &[ld(1, b"c"), container].concat()));
        assert_eq!(
            decode(&body("v1", "Pod", &pod)).unwrap()["spec"]["containers"][0]["resources"],
            json!({"limits": {"cpu": "0"}})
        );
    }

    #[test]
    fn int_or_string_forms() {
        let port = |target: Vec<u8>| {
            let service = ld(2, &ld(1, &[vi(3, 80), ld(4, &target)].concat()));
            decode(&body("v1", "Service", &service)).map(|v| v["spec"]["ports"][0].clone())
        };
        assert_eq!(
            port(vi(2, 8080)).unwrap(),
            json!({"port": 80, "targetPort": 8080})
        );
        assert_eq!(
            port([vi(1, 1), ld(3, b"http")].concat()).unwrap(),
            json!({"port": 80, "targetPort": "http"})
        );
        // Go writes all three fields; the type decides which one counts.
        assert_eq!(
            port([vi(1, 0), vi(2, 9), ld(3, b"")].concat()).unwrap()["targetPort"],
            json!(9)
        );
        assert_eq!(port(Vec::new()).unwrap()["targetPort"], json!(0));
        let err = port(vi(1, 2)).unwrap_err().0;
        assert!(
            err.contains("spec.ports.targetPort") && err.contains("invalid type 2"),
            "{err}"
        );
    }

    #[test]
    fn timestamps_format_like_go() {
        let time = |seconds: i64, nanos: i32, ty: Ty| {
            let raw = [vi(1, seconds as u64), vi(2, i64::from(nanos) as u64)].concat();
            timestamp(ty, &raw).map(|v| v.and_then(|v| v.as_str().map(str::to_string)))
        };
        let ok = |seconds, nanos, ty| time(seconds, nanos, ty).unwrap().unwrap();
        assert_eq!(ok(0, 0, Ty::Time), "1970-01-01T00:00:00Z");
        assert_eq!(
            ok(1_704_164_645, 999_999_999, Ty::Time),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(ok(951_782_400, 0, Ty::Time), "2000-02-29T00:00:00Z");
        assert_eq!(ok(-1, 0, Ty::Time), "1969-12-31T23:59:59Z");
        assert_eq!(ok(-62_167_219_200, 0, Ty::Time), "0000-01-01T00:00:00Z");
        assert_eq!(ok(253_402_300_799, 0, Ty::Time), "9999-12-31T23:59:59Z");
        assert_eq!(
            ok(1_704_164_645, 1_500, Ty::MicroTime),
            "2024-01-02T03:04:05.000001Z"
        );
        // Nanoseconds outside 0..1e9 are normalized, as time.Unix does.
        assert_eq!(ok(0, -1_000, Ty::MicroTime), "1969-12-31T23:59:59.999999Z");
        // Sub-microsecond parts are truncated toward zero first, as Go's Duration.Truncate.
        assert_eq!(ok(0, -1_500, Ty::MicroTime), "1969-12-31T23:59:59.999999Z");
        assert_eq!(ok(0, 1_999, Ty::MicroTime), "1970-01-01T00:00:00.000001Z");
        assert_eq!(
            ok(0, 2_000_000_000, Ty::MicroTime),
            "1970-01-01T00:00:02.000000Z"
        );
        assert!(time(253_402_300_800, 0, Ty::Time).is_err());
        assert!(time(-62_167_219_201, 0, Ty::Time).is_err());
        assert!(time(i64::MIN, i32::MIN, Ty::MicroTime).is_err());
        assert!(time(i64::MAX, i32::MAX, Ty::MicroTime).is_err());
        // The zero time is an empty message, which JSON writes as null: left out.
        assert_eq!(timestamp(Ty::Time, &[]).unwrap(), None);
        assert_eq!(namespace(&ld(1, &ld(8, b"")))["metadata"], json!({}));
        // seconds = 0 written explicitly is the epoch, not the zero time.
        assert_eq!(
            namespace(&ld(1, &ld(8, &vi(1, 0))))["metadata"]["creationTimestamp"],
            json!("1970-01-01T00:00:00Z")
        );
    }

    #[test]
    fn embedded_json_fields() {
        let entry = |fields_v1: &[u8]| {
            let managed = ld(
                17,
                &[ld(1, b"kubectl"), ld(6, b"FieldsV1"), ld(7, fields_v1)].concat(),
            );
            decode(&body("v1", "Namespace", &ld(1, &managed)))
        };
        assert_eq!(
            entry(&ld(1, br#"{"f:metadata":{"f:labels":{}}}"#)).unwrap()["metadata"],
            json!({"managedFields": [{
                "manager": "kubectl",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {}}}
            }]})
        );
        assert_eq!(
            entry(b"").unwrap()["metadata"]["managedFields"],
            json!([{"manager": "kubectl", "fieldsType": "FieldsV1"}])
        );
        let err = entry(&ld(1, b"{not json")).unwrap_err().0;
        assert!(
            err.contains("metadata.managedFields.fieldsV1") && err.contains("not JSON"),
            "{err}"
        );
    }

    #[test]
    fn base64_is_standard_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
        assert_eq!(base64(&[0, 1, 2, 0xff, 0xfe]), "AAEC//4=");
    }

    #[test]
    fn rejects_bad_magic() {
        assert!(error(b"").contains("magic"));
        assert!(error(b"k8s").contains("magic"));
        assert!(error(b"{\"kind\":\"Namespace\"}").contains("magic"));
        assert!(error(&NAMESPACE[1..]).contains("magic"));
    }

    #[test]
    fn rejects_truncated_and_overlong_varints() {
        let err = error(&[MAGIC, &[0x0a, 0x80][..]].concat());
        assert!(err.contains("truncated varint"), "{err}");
        let err = namespace_error(&[
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ]);
        assert!(err.contains("longer than 10 bytes"), "{err}");
        // The longest valid varint (u64::MAX in ten bytes) is fine as an unknown field.
        let max = [key(90, 0), vec![0xff; 9], vec![0x01]].concat();
        assert_eq!(
            namespace(&max),
            json!({"apiVersion": "v1", "kind": "Namespace"})
        );
    }

    fn namespace_error(raw: &[u8]) -> String {
        error(&body("v1", "Namespace", raw))
    }

    #[test]
    fn rejects_lengths_past_the_end() {
        assert!(namespace_error(&[0x0a, 0x05, b'a']).contains("runs past the end"));
        // Inside a nested message, too, and with a length that does not fit in usize.
        assert!(namespace_error(&ld(1, &[0x0a, 0x02, b'a'])).contains("runs past the end"));
        let huge = [&[0x0a][..], &[0xff; 9], &[0x01]].concat();
        assert!(namespace_error(&huge).contains("runs past the end"));
        // Truncated fixed-width unknown fields.
        assert!(namespace_error(&[0x09, 1, 2, 3]).contains("runs past the end"));
        assert!(namespace_error(&[0x0d, 1, 2]).contains("runs past the end"));
        // The envelope's own raw field.
        let mut cut = NAMESPACE.to_vec();
        cut.truncate(cut.len() - 10);
        assert!(error(&cut).contains("runs past the end"));
    }

    #[test]
    fn rejects_wrong_wire_types_naming_the_field() {
        let err = namespace_error(&vi(1, 5));
        assert!(
            err.contains("metadata") && err.contains("wrong wire type"),
            "{err}"
        );
        let err = namespace_error(&ld(1, &vi(1, 5)));
        assert!(err.contains("metadata.name: wrong wire type"), "{err}");
        let err = namespace_error(&ld(1, &ld(7, b"")));
        assert!(
            err.contains("metadata.generation: wrong wire type"),
            "{err}"
        );
        let err = namespace_error(&ld(1, &[key(1, 5), vec![0; 4]].concat()));
        assert!(
            err.contains("metadata.name: wrong wire type: got fixed32"),
            "{err}"
        );
        let err = namespace_error(&ld(1, &[key(1, 1), vec![0; 8]].concat()));
        assert!(
            err.contains("metadata.name: wrong wire type: got fixed64"),
            "{err}"
        );
        let err = namespace_error(&ld(1, &ld(11, &vi(1, 3))));
        assert!(
            err.contains("metadata.labels.key: wrong wire type"),
            "{err}"
        );
        // A known field may not be a group either.
        let err = namespace_error(&[key(1, 3), key(1, 4)].concat());
        assert!(err.contains("group"), "{err}");
        // The envelope's fields are checked as well.
        let err = error(&[MAGIC.to_vec(), vi(1, 1)].concat());
        assert!(err.contains("typeMeta: wrong wire type"), "{err}");
    }

    #[test]
    fn rejects_invalid_utf8() {
        let err = namespace_error(&ld(1, &ld(1, b"\xc3\x28")));
        assert!(
            err.contains("metadata.name: string is not valid UTF-8"),
            "{err}"
        );
        let type_meta = [ld(1, b"v1"), ld(2, b"Name\xffspace")].concat();
        let err = error(&[MAGIC.to_vec(), ld(1, &type_meta)].concat());
        assert!(
            err.contains("typeMeta.kind: string is not valid UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn rejects_invalid_keys_and_groups() {
        assert!(namespace_error(&[0x00, 0x00]).contains("invalid field number 0"));
        assert!(
            namespace_error(&varint(u64::from(u32::MAX) << 3)).contains("invalid field number")
        );
        assert!(namespace_error(&[0x0e]).contains("invalid wire type 6"));
        assert!(namespace_error(&[0x0f]).contains("invalid wire type 7"));
        assert!(namespace_error(&key(5, 4)).contains("unexpected end of group 5"));
        assert!(namespace_error(&key(90, 3)).contains("unterminated group 90"));
        assert!(namespace_error(&[key(90, 3), key(91, 4)].concat()).contains("ended as 91"));
        assert!(
            namespace_error(&[key(90, 3), vec![0x0f]].concat()).contains("invalid wire type 7")
        );
        let deep = [
            key(90, 3).repeat(MAX_DEPTH + 1),
            key(90, 4).repeat(MAX_DEPTH + 1),
        ]
        .concat();
        assert!(namespace_error(&deep).contains("nested too deeply"));
        let ok = [key(90, 3).repeat(MAX_DEPTH), key(90, 4).repeat(MAX_DEPTH)].concat();
        assert_eq!(
            namespace(&ok),
            json!({"apiVersion": "v1", "kind": "Namespace"})
        );
    }

    #[test]
    fn rejects_unknown_kinds_by_name() {
        let err = error(&body("apps/v1", "DaemonSet", b""));
        assert!(
            err.contains("DaemonSet") && err.contains("apps/v1"),
            "{err}"
        );
        // A known kind under another group version is a different type.
        let err = error(&body("events.k8s.io/v1", "Event", b""));
        assert!(
            err.contains("Event") && err.contains("events.k8s.io/v1"),
            "{err}"
        );
        assert!(error(&body("v1", "", b"")).contains("no kind"));
        assert!(error(MAGIC).contains("no kind"));
    }

    #[test]
    fn rejects_content_encodings() {
        let body = [body("v1", "Namespace", b""), ld(3, b"gzip")].concat();
        assert!(error(&body).contains("\"gzip\""));
    }

    #[test]
    fn message_nesting_is_bounded() {
        // No covered message is recursive, so a test-only one exercises the bound.
        static CHAIN: Message = Message(&[Field(1, "next", Kind::One(Ty::Msg(&CHAIN)))]);
        let nest = |levels: usize| (0..levels).fold(Vec::new(), |inner, _| ld(1, &inner));
        let mut out = Map::new();
        assert!(decode_into(&nest(MAX_DEPTH - 1), &CHAIN, &mut out, 1).is_ok());
        let err = decode_into(&nest(MAX_DEPTH), &CHAIN, &mut Map::new(), 1).unwrap_err();
        assert!(err.msg.contains("nested deeper"), "{err}");
        // Deep unknown nesting is skipped as opaque bytes and costs no recursion.
        assert_eq!(
            namespace(&ld(99, &nest(2_000))),
            json!({"apiVersion": "v1", "kind": "Namespace"})
        );
    }

    #[test]
    fn media_type_and_error_display() {
        assert_eq!(MEDIA_TYPE, "application/vnd.kubernetes.protobuf");
        let err = ProtobufError("boom".into());
        assert_eq!(err.to_string(), "boom");
        let _: &dyn std::error::Error = &err;
    }

    /// Random bodies and random mutations of the fixtures must come back as `Ok` or `Err`:
    /// no panic, no hang. Deterministic (xorshift64) so a failure reproduces.
    #[test]
    fn fuzz_never_panics() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let fixtures = [
            NAMESPACE,
            DEPLOYMENT,
            CONFIG_MAP,
            SECRET,
            SERVICE_NODE_PORT,
            SERVICE_CLUSTER_IP,
            SERVICE_ACCOUNT,
            POD,
            LEASE,
            DELETE_OPTIONS,
        ];
        let (mut ok, mut err) = (0, 0);
        for round in 0..30_000 {
            let mut bytes = if round % 3 == 0 {
                let len = (next() % 200) as usize;
                let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if round % 2 == 0 {
                    b.splice(0..0, MAGIC.iter().copied());
                }
                b
            } else {
                fixtures[(next() % fixtures.len() as u64) as usize].to_vec()
            };
            for _ in 0..1 + next() % 4 {
                if bytes.is_empty() {
                    break;
                }
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 5 {
                    0 => bytes[at] ^= 1 << (next() % 8),
                    1 => bytes[at] = next() as u8,
                    2 => bytes.truncate(at),
                    3 => bytes.insert(at, next() as u8),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            match decode(&bytes) {
                Ok(_) => ok += 1,
                Err(_) => err += 1,
            }
        }
        // Both outcomes occur, so the mutations reach past the first checks.
        assert!(ok > 300 && err > 300, "ok {ok}, err {err}");
    }
}
