//! Value identity and list ordering the way strategicpatch gets them from Go.
//!
//! strategicpatch compares merge-key values with Go's `==` on `interface{}` and orders merged
//! lists with `sort.SliceStable` and a comparator that is not a strict weak order ("true" when
//! either item is missing from the reference list). To produce the same lists in every case we
//! hash values the way Go compares them, and sort with the same algorithm Go's standard library
//! uses (insertion sort on blocks of 20, then SymMerge), so even the odd comparator gives the
//! same answer.

use serde_json::Value;

/// A scalar as Go's `==` sees it after `json.Unmarshal` with `UseNumber`-style int
/// preservation: integers that fit an int64 are int64, every other number is a float64.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Null,
    Bool(bool),
    Int(i64),
    /// The bits of the float64, with -0 folded into 0 so that they compare equal, as in Go.
    Float(u64),
    Str(String),
}

impl Key {
    /// The key of a scalar; `None` for arrays and objects, which Go cannot compare (`==` on two
    /// maps panics) nor hash.
    pub(crate) fn of(value: &Value) -> Option<Key> {
        Some(match value {
            Value::Null => Key::Null,
            Value::Bool(b) => Key::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Key::Int(i),
                None => {
                    let f = n.as_f64().unwrap_or(f64::NAN);
                    Key::Float(if f == 0.0 { 0 } else { f.to_bits() })
                }
            },
            Value::String(s) => Key::Str(s.clone()),
            Value::Array(_) | Value::Object(_) => return None,
        })
    }
}

/// Go's dynamic type of a decoded JSON value, which strategicpatch compares with
/// `reflect.TypeOf` to decide whether two values can be merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoKind {
    Nil,
    Bool,
    Int64,
    Float64,
    String,
    Slice,
    Map,
}

impl GoKind {
    pub(crate) fn of(value: &Value) -> GoKind {
        match value {
            Value::Null => GoKind::Nil,
            Value::Bool(_) => GoKind::Bool,
            Value::Number(n) if n.as_i64().is_some() => GoKind::Int64,
            Value::Number(_) => GoKind::Float64,
            Value::String(_) => GoKind::String,
            Value::Array(_) => GoKind::Slice,
            Value::Object(_) => GoKind::Map,
        }
    }

    /// How Go prints the type, for error messages that read like kube's.
    pub(crate) fn go_name(self) -> &'static str {
        match self {
            GoKind::Nil => "<nil>",
            GoKind::Bool => "bool",
            GoKind::Int64 => "int64",
            GoKind::Float64 => "float64",
            GoKind::String => "string",
            GoKind::Slice => "[]interface {}",
            GoKind::Map => "map[string]interface {}",
        }
    }
}

/// `sort.SliceStable` from Go's standard library: the same sequence of comparisons and swaps, so
/// the same result even when `less` is inconsistent.
pub(crate) fn go_stable_sort<T>(data: &mut [T], less: &mut impl FnMut(&T, &T) -> bool) {
    const BLOCK: usize = 20;
    let n = data.len();
    let mut block = BLOCK;
    let (mut a, mut b) = (0, BLOCK);
    while b <= n {
        insertion_sort(data, a, b, less);
        a = b;
        b += block;
    }
    insertion_sort(data, a, n, less);
    while block < n {
        a = 0;
        b = 2 * block;
        while b <= n {
            sym_merge(data, a, a + block, b, less);
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(data, a, m, n, less);
        }
        block *= 2;
    }
}

fn insertion_sort<T>(data: &mut [T], a: usize, b: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&data[j], &data[j - 1]) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// SymMerge (Kim & Kutzner) of the sorted runs `data[a..m]` and `data[m..b]`, as Go has it,
/// including its shortcuts for one-element runs, which change which comparisons are made.
fn sym_merge<T>(
    data: &mut [T],
    a: usize,
    m: usize,
    b: usize,
    less: &mut impl FnMut(&T, &T) -> bool,
) {
    if m - a == 1 {
        // Binary search for the first i in m..b with !(data[i] < data[a]).
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(&data[h], &data[a]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i - 1 {
            data.swap(k, k + 1);
        }
        return;
    }
    if b - m == 1 {
        // Binary search for the first i in a..m with data[m] < data[i].
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(&data[m], &data[h]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(&data[p - c], &data[c]) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        // A rotation is the same permutation however it is done, so Go's swap loop need not be
        // copied.
        data[start..end].rotate_left(m - start);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}
