//! Strategic merge patch, as `k8s.io/apimachinery/pkg/util/strategicpatch` applies it on the
//! server (`StrategicMergeMapPatch`: parallel lists merged, unmatched nulls ignored).
//!
//! The semantics, including the odd corners, are kube's; the code is not. Where kube's Go would
//! panic (comparing two maps with `==`, a `null` list element) we return
//! [`PatchError::MergeFailed`], which is the 500 kube's panic handler would have produced.
//!
//! After merging, kube decodes the result into the Go type, which silently drops the directive
//! keys it left behind (a `$patch: replace` map keeps its nested directives; lists without a
//! merge strategy are taken as sent). We have no Go type, so we drop those keys ourselves, as
//! the last step.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::merge_keys::{self, ListStrategy};
use crate::order::{GoKind, Key, go_stable_sort};
use crate::{PatchError, PatchType};

type Result<T> = std::result::Result<T, PatchError>;

/// Where a list's merge strategy comes from: (parent field, list field) → strategy.
pub(crate) type Lookup = fn(&str, &str) -> ListStrategy;

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

// kube's wording, from k8s.io/apimachinery/pkg/util/mergepatch/errors.go.
const BAD_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const BAD_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const BAD_SET_ELEMENT_ORDER: &str = "invalid patch format of setElementOrder list";
const NO_LIST_OF_LISTS: &str = "lists of lists are not supported";

/// Longest piece of a document quoted in an error message; kube quotes whole maps, which turns
/// a big patch into a big error.
const MAX_QUOTE: usize = 512;

pub(crate) fn apply(original: &Value, body: &[u8]) -> Result<Value> {
    let malformed = |message: String| PatchError::MalformedPatch {
        patch_type: PatchType::StrategicMerge,
        message,
    };
    let patch = match serde_json::from_slice(body) {
        Ok(Value::Object(patch)) => patch,
        // Go decodes `null` into a nil map, and merging a nil map changes nothing.
        Ok(Value::Null) => Map::new(),
        Ok(_) => {
            return Err(malformed(
                "a strategic merge patch must be a JSON object".to_owned(),
            ));
        }
        Err(e) => return Err(malformed(e.to_string())),
    };
    let Value::Object(original) = original else {
        return Err(PatchError::InvalidOriginal {
            reason: "it is not a JSON object",
        });
    };
    let mut merged = Value::Object(merge_with(original.clone(), patch, merge_keys::lookup)?);
    strip_directive_keys(&mut merged);
    Ok(merged)
}

/// The merge itself, with the merge-key table as a parameter so tests can run kube's own
/// vectors, which use a made-up schema.
pub(crate) fn merge_with(
    original: Map<String, Value>,
    patch: Map<String, Value>,
    lookup: Lookup,
) -> Result<Map<String, Value>> {
    Merger { lookup }.map(original, patch, "")
}

struct Merger {
    lookup: Lookup,
}

impl Merger {
    /// kube's `mergeMap`. `parent` is the name of the field holding both maps.
    fn map(
        &self,
        mut original: Map<String, Value>,
        mut patch: Map<String, Value>,
        parent: &str,
    ) -> Result<Map<String, Value>> {
        if let Some(directive) = patch.get(PATCH) {
            return match directive.as_str() {
                Some("replace") => {
                    patch.remove(PATCH);
                    Ok(patch)
                }
                // kube leaves an empty map, not a missing key.
                Some("delete") => Ok(Map::new()),
                _ => Err(failed(format!(
                    "unknown patch type: {} in map: {}",
                    quote(directive),
                    quote_map(&patch)
                ))),
            };
        }
        retain_keys(&mut original, &mut patch)?;
        self.ordered_lists(&mut original, &mut patch, parent)?;

        // Go walks the patch in random map order, so kube has no fixed order between adding
        // to a primitive list and deleting from it. We add first and delete second, always.
        let (deletions, fields): (Vec<_>, Vec<_>) = patch
            .into_iter()
            .partition(|(key, _)| key.starts_with(DELETE_FROM_PRIMITIVE_LIST));
        for (key, value) in fields {
            self.field(&mut original, key, value, false, parent)?;
        }
        for (key, value) in deletions {
            let key = field_of(&key, DELETE_FROM_PRIMITIVE_LIST, BAD_PRIMITIVE_LIST)?.to_owned();
            self.field(&mut original, key, value, true, parent)?;
        }
        Ok(original)
    }

    /// One key of the patch, merged into `original`.
    fn field(
        &self,
        original: &mut Map<String, Value>,
        key: String,
        value: Value,
        is_delete_list: bool,
        parent: &str,
    ) -> Result<()> {
        if value.is_null() {
            original.remove(&key);
            return Ok(());
        }
        let same_kind = original
            .get(&key)
            .map(|stored| GoKind::of(stored) == GoKind::of(&value));
        if same_kind != Some(true) {
            // Nothing to merge with: take the patch's value. A deletion list with nothing to
            // delete from does nothing.
            if !is_delete_list {
                set_from_patch(original, key, value);
            }
            return Ok(());
        }
        let Some(stored) = original.get_mut(&key) else {
            return Ok(());
        };
        match (stored, value) {
            (Value::Object(stored), Value::Object(patch)) => {
                *stored = self.map(std::mem::take(stored), patch, &key)?;
            }
            (Value::Array(stored), Value::Array(patch)) => {
                let strategy = (self.lookup)(parent, &key);
                *stored = self.list(
                    std::mem::take(stored),
                    patch,
                    strategy,
                    is_delete_list,
                    &key,
                )?;
            }
            (stored, value) => *stored = value,
        }
        Ok(())
    }

    /// kube's `mergeSliceHandler`.
    fn list(
        &self,
        stored: Vec<Value>,
        patch: Vec<Value>,
        strategy: ListStrategy,
        is_delete_list: bool,
        field: &str,
    ) -> Result<Vec<Value>> {
        if strategy == ListStrategy::Replace && !is_delete_list {
            return Ok(patch);
        }
        self.merge_list(stored, patch, strategy.merge_key(), is_delete_list, field)
    }

    /// kube's `mergeSlice`: union of scalars, or element-wise merge of maps by `key`, then the
    /// patch's order imposed on the result.
    fn merge_list(
        &self,
        stored: Vec<Value>,
        patch: Vec<Value>,
        key: &str,
        is_delete_list: bool,
        field: &str,
    ) -> Result<Vec<Value>> {
        if stored.is_empty() && patch.is_empty() {
            return Ok(stored);
        }
        let kind = element_kind(&stored, &patch)?;
        if kind != GoKind::Map {
            if is_delete_list {
                return delete_scalars(stored, &patch);
            }
            let patch_order = Positions::new(&patch, key, kind)?;
            let stored_order = Positions::new(&stored, key, kind)?;
            let merged = dedupe_scalars(stored.into_iter().chain(patch))?;
            let (in_patch, stored_only) = partition(merged, key, &patch_order)?;
            return normalize_order(in_patch, stored_only, &patch_order, &stored_order, kind);
        }
        if key.is_empty() {
            // Go names the element type; for the built-in kinds it is always a struct.
            return Err(failed(
                "cannot merge lists without merge key for struct".to_owned(),
            ));
        }
        let (stored, patch) = apply_list_directives(stored, patch, key)?;
        require_merge_key(&stored, key)?;
        require_merge_key(&patch, key)?;
        let patch_order = Positions::new(&patch, key, kind)?;
        let stored_order = Positions::new(&stored, key, kind)?;
        let merged = self.merge_elements(stored, patch, key, field)?;
        let (in_patch, stored_only) = partition(merged, key, &patch_order)?;
        normalize_order(in_patch, stored_only, &patch_order, &stored_order, kind)
    }

    /// kube's `mergeSliceWithoutSpecialElements`: each patch element merges into the first
    /// stored element with the same key, or is appended.
    fn merge_elements(
        &self,
        mut stored: Vec<Value>,
        patch: Vec<Value>,
        key: &str,
        field: &str,
    ) -> Result<Vec<Value>> {
        let mut first_with_key: HashMap<Key, usize> = HashMap::new();
        for (i, element) in stored.iter().enumerate() {
            if let Some(value) = element.get(key) {
                first_with_key.entry(comparable(value)?).or_insert(i);
            }
        }
        for element in patch {
            let Value::Object(element) = element else {
                return Err(bad_arg_type(GoKind::Map, &element));
            };
            let Some(value) = element.get(key) else {
                return Err(no_merge_key(&element, key));
            };
            let k = comparable(value)?;
            match first_with_key.get(&k) {
                Some(&i) => {
                    if let Some(Value::Object(target)) = stored.get_mut(i) {
                        *target = self.map(std::mem::take(target), element, field)?;
                    }
                }
                None => {
                    first_with_key.insert(k, stored.len());
                    stored.push(Value::Object(element));
                }
            }
        }
        Ok(stored)
    }

    /// kube's `mergePatchIntoOriginal`: every `$setElementOrder/<field>` merges `<field>` (if
    /// the patch has it) and then orders the result: the directive's order first, the patch's
    /// order second, the stored order last.
    fn ordered_lists(
        &self,
        original: &mut Map<String, Value>,
        patch: &mut Map<String, Value>,
        parent: &str,
    ) -> Result<()> {
        let directives: Vec<String> = patch
            .keys()
            .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
            .cloned()
            .collect();
        for directive in directives {
            let Some(order) = patch.remove(&directive) else {
                continue;
            };
            let Value::Array(order) = order else {
                return Err(bad_arg_type(GoKind::Slice, &order));
            };
            let field = field_of(&directive, SET_ELEMENT_ORDER, BAD_SET_ELEMENT_ORDER)?.to_owned();
            let stored = take_list(original, &field)?;
            let patched = take_list(patch, &field)?;
            let strategy = (self.lookup)(parent, &field);
            let key = strategy.merge_key();
            validate_order(patched.as_deref().unwrap_or_default(), &order, key)?;
            if stored.is_none() && patched.is_none() {
                continue;
            }
            let kind = element_kind(
                stored.as_deref().unwrap_or_default(),
                patched.as_deref().unwrap_or_default(),
            )?;
            if kind == GoKind::Map {
                require_merge_key(stored.as_deref().unwrap_or_default(), key)?;
                require_merge_key(&order, key)?;
            }
            let stored_view = match (&stored, &patched) {
                (Some(stored), Some(patched))
                    if kind == GoKind::Map && matches!(strategy, ListStrategy::MergeByKey(_)) =>
                {
                    stored_view_after_merge(stored, patched, key)?
                }
                _ => stored
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .map(|e| project(e, key, kind))
                    .collect::<Result<_>>()?,
            };
            let stored_order = Positions::from_keys(stored_view, key, kind);
            let wanted_order = Positions::new(&order, key, kind)?;
            let merged = match (stored, patched) {
                (Some(stored), Some(patched)) => {
                    self.list(stored, patched, strategy, false, &field)?
                }
                (Some(stored), None) => stored,
                (None, Some(patched)) => {
                    patched.into_iter().filter_map(remove_directives).collect()
                }
                (None, None) => continue,
            };
            let (in_order, stored_only) = partition(merged, key, &wanted_order)?;
            let ordered =
                normalize_order(in_order, stored_only, &wanted_order, &stored_order, kind)?;
            original.insert(field, Value::Array(ordered));
        }
        Ok(())
    }
}

/// kube's `applyRetainKeysDirective`: `$retainKeys` lists every key the map may keep, and must
/// name every key the patch sets.
fn retain_keys(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> Result<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(PatchError::InvalidDirective {
            message: BAD_RETAIN_KEYS,
        });
    };
    let mut keep: HashSet<&str> = HashSet::new();
    for name in &retain {
        match name {
            Value::String(name) => {
                keep.insert(name);
            }
            // Go puts the entries in a map; a map or list entry panics there.
            Value::Array(_) | Value::Object(_) => return Err(uncomparable(name)),
            // Other scalars can never equal a key.
            _ => {}
        }
    }
    let names_everything = patch.iter().all(|(k, v)| {
        v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
            || keep.contains(k.as_str())
    });
    if !names_everything {
        return Err(PatchError::InvalidDirective {
            message: BAD_RETAIN_KEYS,
        });
    }
    original.retain(|k, _| keep.contains(k.as_str()));
    Ok(())
}

/// kube's `mergeSliceWithSpecialElements`: `{"$patch":"delete", key: v}` removes every stored
/// element with that key; `{"$patch":"replace"}` makes the rest of the patch list the result.
fn apply_list_directives(
    stored: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut rest = Vec::with_capacity(patch.len());
    let mut replace = false;
    let mut deleted: HashSet<Key> = HashSet::new();
    for element in patch {
        let Some(directive) = element.get(PATCH) else {
            rest.push(element);
            continue;
        };
        match directive.as_str() {
            Some("delete") => match element.get(key) {
                Some(value) => {
                    deleted.insert(comparable(value)?);
                }
                None => return Err(no_merge_key_in(&element, key)),
            },
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(failed(
                    "merging lists cannot yet be specified in the patch".to_owned(),
                ));
            }
            _ => {
                return Err(failed(format!(
                    "unknown patch type: {} in map: {}",
                    quote(directive),
                    quote(&element)
                )));
            }
        }
    }
    if replace {
        return Ok((rest, Vec::new()));
    }
    if deleted.is_empty() {
        return Ok((stored, rest));
    }
    let mut kept = Vec::with_capacity(stored.len());
    for element in stored {
        let hit = match element.get(key) {
            Some(value) => deleted.contains(&comparable(value)?),
            None => false,
        };
        if !hit {
            kept.push(element);
        }
    }
    Ok((kept, rest))
}

/// The stored list as kube's `mergePatchIntoOriginal` still sees it once `mergeSlice` has
/// merged into it, as projections on the merge key.
///
/// Go's `mergeSlice` deletes elements by shifting the rest of the backing array down, and
/// appends new elements into the room that frees; `mergePatchIntoOriginal` keeps a slice header
/// over the old length of that same array and orders the result by it. So it sees the survivors,
/// then the first new elements, then whatever the shifts left behind. kube's own tests depend on
/// this (e.g. "add map and delete map from merging list"), so we reproduce it.
fn stored_view_after_merge(stored: &[Value], patch: &[Value], key: &str) -> Result<Vec<Key>> {
    let n = stored.len();
    // Only elements that carry the key can be deleted or matched; the others project to nil.
    let keys: Vec<Option<Key>> = stored
        .iter()
        .map(|e| e.get(key).map(comparable).transpose())
        .collect::<Result<_>>()?;
    let mut by_key: HashMap<&Key, Vec<usize>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        if let Some(k) = k {
            by_key.entry(k).or_default().push(i);
        }
    }
    let mut removed = vec![false; n];
    // Each removal leaves the backing array's last live slot holding whatever was last in the
    // list at that moment: the first removal freezes slot n-1, the next n-2, and so on.
    let mut frozen: Vec<Key> = Vec::new();
    let mut last = n.checked_sub(1);
    let mut replace = false;
    for element in patch {
        match element.get(PATCH).and_then(Value::as_str) {
            Some("delete") => {
                let Some(value) = element.get(key) else {
                    continue;
                };
                let Some(hits) = by_key.get_mut(&comparable(value)?) else {
                    continue;
                };
                for i in std::mem::take(hits) {
                    if let Some(l) = last {
                        frozen.push(keys[l].clone().unwrap_or(Key::Null));
                    }
                    removed[i] = true;
                    while let Some(l) = last.filter(|&l| removed[l]) {
                        last = l.checked_sub(1);
                    }
                }
            }
            Some("replace") => replace = true,
            _ => {}
        }
    }
    let mut view: Vec<Key> = keys
        .iter()
        .zip(&removed)
        .filter(|(_, gone)| !**gone)
        .map(|(k, _)| k.clone().unwrap_or(Key::Null))
        .collect();
    // With `$patch: replace` the merge works on a fresh list and writes nothing back.
    if !replace {
        let mut present: HashSet<Key> = keys
            .iter()
            .zip(&removed)
            .filter_map(|(k, gone)| k.clone().filter(|_| !*gone))
            .collect();
        for element in patch.iter().filter(|e| e.get(PATCH).is_none()) {
            // Appends past the old length land outside the slice kube looks through.
            if view.len() >= n {
                break;
            }
            if let Some(value) = element.get(key) {
                let k = comparable(value)?;
                if present.insert(k.clone()) {
                    view.push(k);
                }
            }
        }
    }
    // Slots past the appends still hold what the deletions froze there.
    while view.len() < n {
        let slot = view.len();
        view.push(frozen.get(n - 1 - slot).cloned().unwrap_or(Key::Null));
    }
    Ok(view)
}

/// kube's `validatePatchWithSetOrderList`: the patch list must list its elements in the same
/// relative order as `$setElementOrder`, and only elements it names.
fn validate_order(patch: &[Value], order: &[Value], key: &str) -> Result<()> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let mut listed = Vec::with_capacity(patch.len());
    for element in patch {
        if key.is_empty() {
            listed.push(element);
        } else if !element.is_object() {
            return Err(bad_arg_type(GoKind::Map, element));
        } else if element.get(PATCH).and_then(Value::as_str) != Some("delete") {
            listed.push(element);
        }
    }
    let (mut p, mut o) = (0, 0);
    while p < listed.len() && o < order.len() {
        if listed[p].as_object().is_some_and(|m| m.contains_key(PATCH)) {
            p += 1;
            continue;
        }
        if merge_keys_equal(listed[p], &order[o], key)? {
            p += 1;
        }
        o += 1;
    }
    if p < listed.len() && o >= order.len() {
        return Err(failed(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            quote_list(patch),
            quote_list(order)
        )));
    }
    Ok(())
}

/// kube's `mergeKeyValueEqual`.
fn merge_keys_equal(left: &Value, right: &Value, key: &str) -> Result<bool> {
    if key.is_empty() {
        return go_equal(left, right);
    }
    let (Some(l), Some(r)) = (left.as_object(), right.as_object()) else {
        let culprit = if left.is_object() { right } else { left };
        return Err(bad_arg_type(GoKind::Map, culprit));
    };
    let Some(lv) = l.get(key) else {
        return Err(no_merge_key(l, key));
    };
    let Some(rv) = r.get(key) else {
        return Err(no_merge_key(r, key));
    };
    go_equal(lv, rv)
}

/// Go's `==` on two decoded JSON values: false across types, a panic between two maps or two
/// slices.
fn go_equal(a: &Value, b: &Value) -> Result<bool> {
    match (Key::of(a), Key::of(b)) {
        (Some(a), Some(b)) => Ok(a == b),
        (None, None) if GoKind::of(a) == GoKind::of(b) => Err(uncomparable(a)),
        _ => Ok(false),
    }
}

/// kube's `sliceElementType`: the one Go type shared by every element of both lists.
fn element_kind(a: &[Value], b: &[Value]) -> Result<GoKind> {
    let mut first: Option<GoKind> = None;
    for element in a.iter().chain(b) {
        let kind = GoKind::of(element);
        match first {
            None if kind == GoKind::Slice => {
                return Err(PatchError::Unprocessable {
                    message: NO_LIST_OF_LISTS,
                });
            }
            // Go calls a method on the nil type here and panics.
            None if kind == GoKind::Nil => {
                return Err(failed("list elements must not be null".to_owned()));
            }
            None => first = Some(kind),
            Some(first) if first != kind => {
                return Err(failed(format!(
                    "list element types are not identical: {} {}",
                    quote_list(a),
                    quote_list(b)
                )));
            }
            Some(_) => {}
        }
    }
    first.ok_or_else(|| failed("no elements in any of the given slices".to_owned()))
}

/// What `$deleteFromPrimitiveList/<field>` does to a list of scalars.
fn delete_scalars(stored: Vec<Value>, delete: &[Value]) -> Result<Vec<Value>> {
    let delete: HashSet<Key> = delete.iter().map(comparable).collect::<Result<_>>()?;
    let mut kept = Vec::with_capacity(stored.len());
    for element in stored {
        if !delete.contains(&comparable(&element)?) {
            kept.push(element);
        }
    }
    Ok(kept)
}

/// The union of two scalar lists, first occurrence kept. Which duplicate survives, and where,
/// does not matter: the order is imposed afterwards.
fn dedupe_scalars(all: impl Iterator<Item = Value>) -> Result<Vec<Value>> {
    let mut seen = HashSet::new();
    let mut unique = Vec::new();
    for element in all {
        if seen.insert(comparable(&element)?) {
            unique.push(element);
        }
    }
    Ok(unique)
}

/// Where each element stands in a reference list: by merge key for maps, by value for scalars,
/// first occurrence winning, as Go's `index` finds it.
struct Positions {
    by_key: HashMap<Key, usize>,
    key: String,
    kind: GoKind,
}

impl Positions {
    fn new(list: &[Value], key: &str, kind: GoKind) -> Result<Positions> {
        let keys = list
            .iter()
            .map(|e| project(e, key, kind))
            .collect::<Result<Vec<_>>>()?;
        Ok(Positions::from_keys(keys, key, kind))
    }

    /// From the projections of a list's elements, in list order.
    fn from_keys(keys: Vec<Key>, key: &str, kind: GoKind) -> Positions {
        let mut by_key = HashMap::with_capacity(keys.len());
        for (i, k) in keys.into_iter().enumerate() {
            by_key.entry(k).or_insert(i);
        }
        Positions {
            by_key,
            key: key.to_owned(),
            kind,
        }
    }

    fn of(&self, element: &Value) -> Result<Option<usize>> {
        Ok(self
            .by_key
            .get(&project(element, &self.key, self.kind)?)
            .copied())
    }

    fn contains(&self, element: &Value) -> Result<bool> {
        Ok(self.of(element)?.is_some())
    }
}

/// What Go's `index` compares: a map's merge-key value (nil when absent), or a scalar itself.
fn project(element: &Value, key: &str, kind: GoKind) -> Result<Key> {
    let value = if kind == GoKind::Map {
        element.get(key).unwrap_or(&Value::Null)
    } else {
        element
    };
    comparable(value)
}

/// kube's `partitionMapsByPresentInList` / `partitionPrimitivesByPresentInList`: the merged
/// elements the reference list names, and the others, each in merged order.
fn partition(
    merged: Vec<Value>,
    key: &str,
    reference: &Positions,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut named = Vec::new();
    let mut others = Vec::new();
    for element in merged {
        if !key.is_empty() {
            match element.as_object() {
                None => return Err(bad_arg_type(GoKind::Map, &element)),
                Some(m) if !m.contains_key(key) => return Err(no_merge_key(m, key)),
                Some(_) => {}
            }
        }
        // Without a merge key Go hashes the elements themselves; with one it compares keys.
        let found = if key.is_empty() {
            reference.by_key.contains_key(&comparable(&element)?)
        } else {
            reference.contains(&element)?
        };
        if found {
            named.push(element);
        } else {
            others.push(element);
        }
    }
    Ok((named, others))
}

/// kube's `normalizeElementOrder`: the patch's elements sorted into the patch's order, the
/// stored-only ones into the stored order, then interleaved so that each stored-only element
/// goes back before the first patch element that came after it.
fn normalize_order(
    in_patch: Vec<Value>,
    stored_only: Vec<Value>,
    patch_order: &Positions,
    stored_order: &Positions,
    kind: GoKind,
) -> Result<Vec<Value>> {
    let in_patch = sort_by(in_patch, patch_order, kind)?;
    let stored_only = sort_by(stored_only, stored_order, kind)?;
    let left = with_positions(stored_only, stored_order)?;
    let right = with_positions(in_patch, stored_order)?;
    // kube's `mergeSortedSlice`.
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((l, _)), Some((r, _))) => matches!((l, r), (Some(l), Some(r)) if l < r),
        };
        let next = if take_left { left.next() } else { right.next() };
        if let Some((_, element)) = next {
            merged.push(element);
        }
    }
    Ok(merged)
}

/// kube's `normalizeSliceOrder`: a stable sort by position in `order`, with Go's comparator
/// ("less" whenever either side is missing from `order`), and `$patch: delete` elements last.
fn sort_by(elements: Vec<Value>, order: &Positions, kind: GoKind) -> Result<Vec<Value>> {
    let (elements, deletions): (Vec<Value>, Vec<Value>) = if kind == GoKind::Map {
        elements
            .into_iter()
            .partition(|e| e.get(PATCH).and_then(Value::as_str) != Some("delete"))
    } else {
        (elements, Vec::new())
    };
    let mut keyed = with_positions(elements, order)?;
    go_stable_sort(&mut keyed, &mut |a, b| match (a.0, b.0) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    });
    Ok(keyed.into_iter().map(|(_, e)| e).chain(deletions).collect())
}

fn with_positions(elements: Vec<Value>, order: &Positions) -> Result<Vec<(Option<usize>, Value)>> {
    elements
        .into_iter()
        .map(|e| Ok((order.of(&e)?, e)))
        .collect()
}

/// Every element of a merge list must be a map carrying the merge key; kube checks this before
/// ordering (`validateMergeKeyInLists`).
fn require_merge_key(list: &[Value], key: &str) -> Result<()> {
    for element in list {
        match element.as_object() {
            None => return Err(bad_arg_type(GoKind::Map, element)),
            Some(m) if !m.contains_key(key) => return Err(no_merge_key(m, key)),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Take `field` out of `map` as a list; kube's type assertion refuses anything else.
fn take_list(map: &mut Map<String, Value>, field: &str) -> Result<Option<Vec<Value>>> {
    match map.remove(field) {
        None => Ok(None),
        Some(Value::Array(list)) => Ok(Some(list)),
        Some(other) => Err(bad_arg_type(GoKind::Slice, &other)),
    }
}

/// The `<field>` of `<prefix>/<field>` (kube's `extractKey`).
fn field_of<'a>(key: &'a str, prefix: &str, error: &'static str) -> Result<&'a str> {
    match key.split_once('/') {
        Some((head, field)) if head == prefix => Ok(field),
        _ => Err(PatchError::InvalidDirective { message: error }),
    }
}

/// Patch content taken as it is, because there is nothing to merge it with: kube drops the
/// nulls in it (there is nothing for them to delete) and every map that carries `$patch`.
fn set_from_patch(original: &mut Map<String, Value>, key: String, mut value: Value) {
    discard_nulls(&mut value);
    match remove_directives(value) {
        Some(value) => {
            original.insert(key, value);
        }
        None => {
            original.remove(&key);
        }
    }
}

/// kube's `discardNullValuesFromPatch`: null members of maps go, null list elements stay.
fn discard_nulls(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|_, v| !v.is_null());
            fields.values_mut().for_each(discard_nulls);
        }
        Value::Array(elements) => elements.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

/// kube's `removeDirectives`: a map carrying `$patch` is dropped whole, wherever it is.
fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(fields) => {
            if fields.contains_key(PATCH) {
                return None;
            }
            Some(Value::Object(
                fields
                    .into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(elements) => Some(Value::Array(
            elements.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// What kube's decode into the Go type does to directive keys the merge left behind: drops them.
/// No built-in kind has a field, label, annotation or data key starting with `$`.
pub(crate) fn strip_directive_keys(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|k, _| !is_directive(k));
            fields.values_mut().for_each(strip_directive_keys);
        }
        Value::Array(elements) => elements.iter_mut().for_each(strip_directive_keys),
        _ => {}
    }
}

fn is_directive(key: &str) -> bool {
    key == PATCH
        || key == RETAIN_KEYS
        || key.starts_with(SET_ELEMENT_ORDER)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

fn comparable(value: &Value) -> Result<Key> {
    Key::of(value).ok_or_else(|| uncomparable(value))
}

fn failed(message: String) -> PatchError {
    PatchError::MergeFailed { message }
}

fn uncomparable(value: &Value) -> PatchError {
    failed(format!(
        "runtime error: comparing uncomparable type {}",
        GoKind::of(value).go_name()
    ))
}

fn bad_arg_type(expected: GoKind, actual: &Value) -> PatchError {
    failed(format!(
        "expected a {}, but received a {}",
        expected.go_name(),
        GoKind::of(actual).go_name()
    ))
}

fn no_merge_key(map: &Map<String, Value>, key: &str) -> PatchError {
    failed(format!(
        "map: {} does not contain declared merge key: {key}",
        quote_map(map)
    ))
}

fn no_merge_key_in(element: &Value, key: &str) -> PatchError {
    failed(format!(
        "map: {} does not contain declared merge key: {key}",
        quote(element)
    ))
}

fn quote(value: &Value) -> String {
    let mut text = serde_json::to_string(value).unwrap_or_default();
    if let Some((cut, _)) = text.char_indices().nth(MAX_QUOTE) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

fn quote_map(map: &Map<String, Value>) -> String {
    quote(&Value::Object(map.clone()))
}

fn quote_list(list: &[Value]) -> String {
    quote(&Value::Array(list.to_vec()))
}
