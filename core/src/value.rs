//! Record values: which values a synced record may hold, and how the ones JSON lacks
//! travel on the wire (docs/PROTOCOL.md §1, "Values").
//!
//! A record crosses three worlds: the app's JavaScript object (stored as is in
//! IndexedDB), JSON on the wire, and the other device's JavaScript object. A value is
//! accepted only if it comes back the same on the other device; everything else is
//! refused when the app writes it ([`ValueError`], code `invalid_value`), naming the
//! field path. The rules:
//!
//! - `null`, booleans, finite numbers (`-0` included), strings, arrays and plain
//!   objects are JSON and travel as themselves.
//! - A `Date` travels as the tagged object `{"$date": "<ISO 8601, UTC, ms>"}`
//!   ([`format_date`]); an object with exactly one key that starts with `$` is escaped
//!   as `{"$escape": {…}}`, so an app object that looks like a tag comes back as
//!   itself. Decoding ([`classify`]) reverses both; a single-key `$` object that is not
//!   a valid tag (written by another program) is read as a plain object.
//! - An own property whose value is `undefined` is dropped (JSON has no `undefined`);
//!   the adapter drops it from the locally stored record too, so both devices agree.
//! - Refused: `NaN`, `±Infinity`, invalid Dates, BigInt, Symbols, functions, `Map`,
//!   `Set`, typed arrays, `ArrayBuffer`, `Blob`/`File`, `RegExp` and every other
//!   non-plain object, sparse arrays, `undefined` inside an array, arrays with extra
//!   properties, strings with a lone surrogate (not UTF-8) or U+0000 (PostgreSQL cannot
//!   store it), circular references, nesting deeper than [`MAX_DEPTH`] and values with
//!   more than [`MAX_NODES`] parts.
//!
//! The walk is written once, here, over the [`ValueSource`] trait: the browser
//! implements it for `JsValue` (one walk per record at the write boundary), and the
//! native tests for an in-memory fake with cycles.

use std::fmt;

use serde_json::{Map, Number, Value};

use crate::record::Record;

/// How deep a record's values may nest: a value's path (`meta.tags[2]` is 3 steps) may
/// have at most this many steps. Deeper values are refused. The limit keeps every
/// record well inside the JSON parsers' nesting limits (serde_json refuses 128 levels,
/// and a record sits 4 levels deep in a push request).
pub const MAX_DEPTH: usize = 64;

/// The most parts (every value, field and item counted) one record or patch may have.
/// It bounds the walk of shared sub-objects (`{a: x, b: x}` repeated) that would
/// otherwise grow exponentially when written out as JSON.
pub const MAX_NODES: usize = 1_000_000;

/// The wire tag of a Date: `{"$date": "2024-05-31T12:00:00.000Z"}`.
pub const DATE_TAG: &str = "$date";

/// The wire tag of an escaped object: `{"$escape": {"$date": "not a tag"}}`.
pub const ESCAPE_TAG: &str = "$escape";

/// The largest distance from the epoch a JavaScript Date can hold, in ms.
pub const MAX_DATE_MS: f64 = 8.64e15;

/// A string read from the app, with whether it was well-formed UTF-16 (`text` is a
/// lossy conversion when it was not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    /// The string (lone surrogates replaced by U+FFFD when not well-formed).
    pub text: String,
    /// False when the original had a lone surrogate (cannot be UTF-8 on the wire).
    pub well_formed: bool,
}

impl Text {
    /// A well-formed string.
    pub fn new(text: impl Into<String>) -> Text {
        Text {
            text: text.into(),
            well_formed: true,
        }
    }
}

/// What an app value is, as the adapter sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// `undefined`.
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (any f64, NaN and infinities included).
    Number(f64),
    /// A string.
    String(Text),
    /// A BigInt.
    BigInt,
    /// A Symbol.
    Symbol,
    /// A function.
    Function,
    /// A Date, with its `getTime()` (NaN for an invalid Date).
    Date(f64),
    /// An array.
    Array,
    /// A plain object (or a class instance: its own enumerable properties, as
    /// IndexedDB stores it).
    Object,
    /// Any other object, by its type name (`Map`, `Uint8Array`, `Blob`, ...).
    Other(String),
}

/// The items of an array, as the adapter read them.
#[derive(Clone, Debug)]
pub struct ArrayItems<S> {
    /// Each index below the length: its value, or `None` for a hole.
    pub items: Vec<Option<S>>,
    /// The first own property that is not an index, if any (`arr.extra = 1`).
    pub extra_property: Option<String>,
}

/// An app value the walk can read: implemented for `JsValue` by the browser half.
pub trait ValueSource: Sized {
    /// What the value is.
    fn shape(&self) -> Shape;
    /// The items of an array (called only when [`ValueSource::shape`] is `Array`).
    /// `Err`: reading failed (a getter or proxy threw), with why.
    fn items(&self) -> Result<ArrayItems<Self>, String>;
    /// The own enumerable string-keyed properties of an object, in order (called only
    /// when the shape is `Object`). `Err`: reading failed, with why.
    fn entries(&self) -> Result<Vec<(Text, Self)>, String>;
    /// Whether `self` and `other` are the same object (identity, for cycles).
    fn same(&self, other: &Self) -> bool;
}

/// One step of a value's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// An object's field.
    Field(String),
    /// An array's index.
    Index(usize),
}

/// Where a value sits in a record: `meta.size`, `tags[2]`, `["a b"].c`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValuePath(pub Vec<Step>);

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

impl fmt::Display for ValuePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Field(name) if is_identifier(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Step::Field(name) => write!(f, "[{}]", Value::String(name.clone()))?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Why a value cannot be synced.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// `NaN`, `Infinity` or `-Infinity` (named).
    NotFinite(&'static str),
    /// A Date whose time is NaN.
    InvalidDate,
    /// A BigInt.
    BigInt,
    /// A Symbol.
    Symbol,
    /// A function.
    Function,
    /// A non-plain object, by its type name.
    Unsupported(String),
    /// The value is one of its own ancestors, at this path.
    Circular(ValuePath),
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More than [`MAX_NODES`] parts.
    TooLarge,
    /// A hole in a sparse array.
    Hole,
    /// `undefined` as an array item.
    UndefinedItem,
    /// An array with a non-index property (named).
    ArrayProperty(String),
    /// A string (or field name, when `field_name`) with a lone surrogate.
    LoneSurrogate {
        /// The problem is in the field's name, not its value.
        field_name: bool,
    },
    /// A string (or field name) containing U+0000.
    Nul {
        /// The problem is in the field's name, not its value.
        field_name: bool,
    },
    /// Reading the value failed (a getter or a proxy threw).
    Unreadable(String),
}

fn hint(type_name: &str) -> &'static str {
    match type_name {
        "Map" => "use a plain object",
        "Set" => "use an array",
        "Blob" | "File" => "store the file elsewhere, or its content as a base64 string",
        "RegExp" => "store its source as a string",
        n if n.ends_with("Array") || n.ends_with("Buffer") || n == "DataView" => {
            "store the bytes as a base64 string or an array of numbers"
        }
        _ => "store a plain object, array, string, number, boolean, null or Date",
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = |field_name: bool| {
            if field_name {
                "the field name"
            } else {
                "the string"
            }
        };
        match self {
            Problem::NotFinite(n) => write!(
                f,
                "{n} cannot be synced (JSON has no {n}); store null or a string"
            ),
            Problem::InvalidDate => {
                f.write_str("an invalid Date cannot be synced; store null instead")
            }
            Problem::BigInt => {
                f.write_str("a BigInt cannot be synced (JSON has no BigInt); store it as a string")
            }
            Problem::Symbol => f.write_str("a Symbol cannot be synced"),
            Problem::Function => f.write_str("a function cannot be synced"),
            Problem::Unsupported(name) => write!(f, "a {name} cannot be synced; {}", hint(name)),
            Problem::Circular(to) if to.0.is_empty() => {
                f.write_str("circular reference back to the record")
            }
            Problem::Circular(to) => write!(f, "circular reference back to `{to}`"),
            Problem::TooDeep => write!(f, "nested more than {MAX_DEPTH} levels deep"),
            Problem::TooLarge => write!(f, "more than {MAX_NODES} values in one record"),
            Problem::Hole => f.write_str(
                "a sparse array (this index is empty) cannot be synced; fill it with null",
            ),
            Problem::UndefinedItem => f.write_str(
                "undefined in an array cannot be synced (JSON would make it null); use null",
            ),
            Problem::ArrayProperty(name) => write!(
                f,
                "an array with the extra property `{name}` cannot be synced; use an object"
            ),
            Problem::LoneSurrogate { field_name } => {
                write!(
                    f,
                    "{} contains a lone UTF-16 surrogate and cannot be synced as UTF-8",
                    what(*field_name)
                )
            }
            Problem::Nul { field_name } => write!(
                f,
                "{} contains U+0000, which servers cannot store",
                what(*field_name)
            ),
            Problem::Unreadable(why) => write!(f, "cannot be read: {why}"),
        }
    }
}

/// A value the app wrote that cannot be synced: where it is and why. In JavaScript a
/// `SyncError` with code `invalid_value` and `path`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{path}`: {problem}")]
pub struct ValueError {
    /// The field path of the value.
    pub path: ValuePath,
    /// What is wrong with it.
    pub problem: Problem,
}

/// An app object encoded for the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedFields {
    /// The fields, wire-encoded.
    pub fields: Record,
    /// Some own property (at any depth) was `undefined` and was dropped: the adapter
    /// must store the record without it too.
    pub dropped_undefined: bool,
}

/// Checks and encodes the fields of an app object — a record or an update's changes —
/// in one walk. The object itself must have the shape `Object` (the caller checks
/// that it is a record at all).
pub fn encode_fields<S: ValueSource + Clone>(object: &S) -> Result<EncodedFields, ValueError> {
    let mut walk = Walk {
        path: Vec::new(),
        ancestors: vec![object.clone()],
        nodes: 0,
        dropped_undefined: false,
    };
    let fields = walk.object_fields(object)?;
    Ok(EncodedFields {
        fields,
        dropped_undefined: walk.dropped_undefined,
    })
}

struct Walk<S> {
    path: Vec<Step>,
    /// The objects and arrays containing the current value, outermost first.
    ancestors: Vec<S>,
    nodes: usize,
    dropped_undefined: bool,
}

impl<S: ValueSource + Clone> Walk<S> {
    fn fail(&self, problem: Problem) -> ValueError {
        ValueError {
            path: ValuePath(self.path.clone()),
            problem,
        }
    }

    /// Past the depth limit: a cycle if some ancestor repeats (reported at the first
    /// back reference), else too deep (reported at the top-level field).
    fn too_deep(&self) -> ValueError {
        for i in 1..self.ancestors.len() {
            for j in 0..i {
                if self.ancestors[i].same(&self.ancestors[j]) {
                    return ValueError {
                        path: ValuePath(self.path[..i].to_vec()),
                        problem: Problem::Circular(ValuePath(self.path[..j].to_vec())),
                    };
                }
            }
        }
        ValueError {
            path: ValuePath(self.path[..1.min(self.path.len())].to_vec()),
            problem: Problem::TooDeep,
        }
    }

    fn text(&self, t: &Text, field_name: bool) -> Result<(), ValueError> {
        if !t.well_formed {
            return Err(self.fail(Problem::LoneSurrogate { field_name }));
        }
        if t.text.contains('\0') {
            return Err(self.fail(Problem::Nul { field_name }));
        }
        Ok(())
    }

    fn object_fields(&mut self, object: &S) -> Result<Map<String, Value>, ValueError> {
        let entries = object
            .entries()
            .map_err(|why| self.fail(Problem::Unreadable(why)))?;
        let mut out = Map::new();
        for (name, value) in entries {
            self.path.push(Step::Field(name.text.clone()));
            self.text(&name, true)?;
            match self.value(&value)? {
                Some(v) => {
                    out.insert(name.text, v);
                }
                None => self.dropped_undefined = true,
            }
            self.path.pop();
        }
        Ok(out)
    }

    /// The wire form of `v`; `None` for `undefined`.
    fn value(&mut self, v: &S) -> Result<Option<Value>, ValueError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.fail(Problem::TooLarge));
        }
        Ok(Some(match v.shape() {
            Shape::Undefined => return Ok(None),
            Shape::Null => Value::Null,
            Shape::Bool(b) => Value::Bool(b),
            Shape::Number(x) => Value::Number(number(x).map_err(|p| self.fail(p))?),
            Shape::String(t) => {
                self.text(&t, false)?;
                Value::String(t.text)
            }
            Shape::BigInt => return Err(self.fail(Problem::BigInt)),
            Shape::Symbol => return Err(self.fail(Problem::Symbol)),
            Shape::Function => return Err(self.fail(Problem::Function)),
            Shape::Date(ms) => {
                let iso = format_date(ms).ok_or_else(|| self.fail(Problem::InvalidDate))?;
                let mut tag = Map::new();
                tag.insert(DATE_TAG.to_owned(), Value::String(iso));
                Value::Object(tag)
            }
            Shape::Other(name) => return Err(self.fail(Problem::Unsupported(name))),
            Shape::Array => {
                self.enter(v)?;
                let read = v
                    .items()
                    .map_err(|why| self.fail(Problem::Unreadable(why)))?;
                if let Some(name) = read.extra_property {
                    return Err(self.fail(Problem::ArrayProperty(name)));
                }
                let mut out = Vec::with_capacity(read.items.len());
                for (i, item) in read.items.iter().enumerate() {
                    self.path.push(Step::Index(i));
                    let Some(item) = item else {
                        return Err(self.fail(Problem::Hole));
                    };
                    let Some(value) = self.value(item)? else {
                        return Err(self.fail(Problem::UndefinedItem));
                    };
                    out.push(value);
                    self.path.pop();
                }
                self.ancestors.pop();
                Value::Array(out)
            }
            Shape::Object => {
                self.enter(v)?;
                let fields = self.object_fields(v)?;
                self.ancestors.pop();
                escape(fields)
            }
        }))
    }

    fn enter(&mut self, v: &S) -> Result<(), ValueError> {
        self.ancestors.push(v.clone());
        if self.path.len() >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        Ok(())
    }
}

/// A finite number as JSON: integers up to 2^53 as integers, the rest (and `-0`) as
/// floats, which serde_json writes in their shortest exact form.
pub fn number(x: f64) -> Result<Number, Problem> {
    if x.is_nan() {
        return Err(Problem::NotFinite("NaN"));
    }
    if x.is_infinite() {
        return Err(Problem::NotFinite(if x > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }));
    }
    const SAFE: f64 = 9_007_199_254_740_992.0;
    if x.fract() == 0.0 && x.abs() <= SAFE && !(x == 0.0 && x.is_sign_negative()) {
        return Ok(Number::from(x as i64));
    }
    Ok(Number::from_f64(x).expect("a finite number"))
}

/// An encoded object's wire form: escaped when it has one key starting with `$`.
fn escape(fields: Map<String, Value>) -> Value {
    if needs_escape(&fields) {
        let mut wrapper = Map::new();
        wrapper.insert(ESCAPE_TAG.to_owned(), Value::Object(fields));
        Value::Object(wrapper)
    } else {
        Value::Object(fields)
    }
}

/// Whether an app object must be escaped on the wire: it has exactly one key and that
/// key starts with `$` (the form of every tag, present and future).
pub fn needs_escape(fields: &Map<String, Value>) -> bool {
    fields.len() == 1 && fields.keys().all(|k| k.starts_with('$'))
}

/// What a wire object stands for.
#[derive(Clone, Debug, PartialEq)]
pub enum WireObject<'a> {
    /// A Date, by its time in ms since the epoch.
    Date(f64),
    /// An object with these fields, taken literally (their values are decoded in turn).
    Literal(&'a Map<String, Value>),
}

/// Decodes a wire object: a valid `$date` tag is a Date, an `$escape` tag its literal
/// content, anything else itself.
pub fn classify(object: &Map<String, Value>) -> WireObject<'_> {
    if object.len() == 1 {
        match (object.get(DATE_TAG), object.get(ESCAPE_TAG)) {
            (Some(Value::String(iso)), _) => {
                if let Some(ms) = parse_date(iso) {
                    return WireObject::Date(ms);
                }
            }
            (_, Some(Value::Object(inner))) => return WireObject::Literal(inner),
            _ => {}
        }
    }
    WireObject::Literal(object)
}

/// Days from 1970-01-01 to a civil date (H. Hinnant's algorithm); [`civil_from_days`]
/// goes back. Shared with the adapters' date parsing (`crate::adapters`).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day number since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const MS_PER_DAY: i64 = 86_400_000;

/// The wire form of a Date's time: ISO 8601 in UTC with milliseconds, as JavaScript's
/// `toISOString()` writes it (`2024-05-31T12:00:00.000Z`; years outside 0–9999 as
/// `+275760` / `-000001`). `None` for NaN, a fraction of a millisecond, or beyond
/// ±8.64e15 ms (what no Date holds).
pub fn format_date(ms: f64) -> Option<String> {
    if !ms.is_finite() || ms.fract() != 0.0 || ms.abs() > MAX_DATE_MS {
        return None;
    }
    let ms = ms as i64;
    let (days, in_day) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
    let (y, m, d) = civil_from_days(days);
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else {
        format!("{}{:06}", if y < 0 { '-' } else { '+' }, y.abs())
    };
    let (h, min, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    Some(format!(
        "{year}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z"
    ))
}

/// Parses what [`format_date`] writes (strictly); `None` for anything else.
pub fn parse_date(iso: &str) -> Option<f64> {
    let b = iso.as_bytes();
    let (year, rest) = match b.first()? {
        b'+' | b'-' => {
            let digits = std::str::from_utf8(b.get(1..7)?).ok()?;
            if !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let y: i64 = digits.parse().ok()?;
            if b[0] == b'-' && y == 0 {
                return None;
            }
            (if b[0] == b'-' { -y } else { y }, &b[7..])
        }
        _ => {
            let digits = std::str::from_utf8(b.get(..4)?).ok()?;
            if !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            (digits.parse().ok()?, &b[4..])
        }
    };
    // -MM-DDTHH:MM:SS.sssZ
    if rest.len() != 20 {
        return None;
    }
    let shape = b"-00-00T00:00:00.000Z";
    for (c, s) in rest.iter().zip(shape) {
        if (*s == b'0' && !c.is_ascii_digit()) || (*s != b'0' && c != s) {
            return None;
        }
    }
    let n = |range: std::ops::Range<usize>| -> i64 {
        rest[range]
            .iter()
            .fold(0, |acc, c| acc * 10 + i64::from(c - b'0'))
    };
    let (m, d, h, min, s, milli) = (n(1..3), n(4..6), n(7..9), n(10..12), n(13..15), n(16..19));
    if !(1..=12).contains(&m) || d < 1 || h > 23 || min > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(year, m, d);
    if civil_from_days(days) != (year, m, d) {
        return None; // 30 February and the like
    }
    let ms = days * MS_PER_DAY + ((h * 60 + min) * 60 + s) * 1000 + milli;
    let ms = ms as f64;
    (ms.abs() <= MAX_DATE_MS).then_some(ms)
}
