//! Record values (docs/PROTOCOL.md "Values"; I8, I9): what a record may hold and how Dates
//! travel. The walk runs over an in-memory fake of JavaScript values (with identity,
//! so cycles are real cycles); decoding is checked by a fake decoder over
//! `value::classify`, so "round-trips exactly" is checked end to end in core. The
//! last tests: a row written outside idb-sync that does not encode is set aside as
//! one dead letter (I9, `outbox::set_aside_unencodable`).

use idb_sync_core::hlc::Hlc;
use idb_sync_core::outbox::{
    encodable_part, set_aside_unencodable, ClientMeta, KeyState, OpKind, PendingOp, INVALID_VALUE,
};
use idb_sync_core::protocol::Cursor;
use idb_sync_core::value::{
    classify, encode_fields, format_date, number, parse_date, ArrayItems, Problem, Shape, Step,
    Text, ValueError, ValuePath, ValueSource, WireObject, MAX_DEPTH, MAX_NODES,
};
use idb_sync_core::{Op, Record, RecordId, RecordKey};
use serde_json::{json, Value};
use std::cell::RefCell;

/// A JavaScript-like value graph: nodes by id, so that objects can be shared and
/// circular.
#[derive(Default)]
struct Arena {
    nodes: RefCell<Vec<Node>>,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Prim(Shape),
    Array(Vec<Option<usize>>, Option<String>),
    Object(Vec<(Text, usize)>),
}

#[derive(Clone)]
struct V<'a> {
    arena: &'a Arena,
    id: usize,
}

impl Arena {
    fn add(&self, node: Node) -> usize {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(node);
        nodes.len() - 1
    }
    fn prim(&self, shape: Shape) -> usize {
        self.add(Node::Prim(shape))
    }
    fn string(&self, s: &str) -> usize {
        self.prim(Shape::String(Text::new(s)))
    }
    fn num(&self, x: f64) -> usize {
        self.prim(Shape::Number(x))
    }
    fn obj(&self, fields: &[(&str, usize)]) -> usize {
        self.add(Node::Object(
            fields.iter().map(|(k, v)| (Text::new(*k), *v)).collect(),
        ))
    }
    fn arr(&self, items: &[usize]) -> usize {
        self.add(Node::Array(items.iter().map(|&i| Some(i)).collect(), None))
    }
    fn set(&self, id: usize, node: Node) {
        self.nodes.borrow_mut()[id] = node;
    }
    fn v(&self, id: usize) -> V<'_> {
        V { arena: self, id }
    }
    /// Encodes the record `id`.
    fn encode(&self, id: usize) -> Result<(Value, bool), ValueError> {
        encode_fields(&self.v(id)).map(|e| (Value::Object(e.fields), e.dropped_undefined))
    }
}

impl ValueSource for V<'_> {
    fn shape(&self) -> Shape {
        match &self.arena.nodes.borrow()[self.id] {
            Node::Prim(s) => s.clone(),
            Node::Array(..) => Shape::Array,
            Node::Object(_) => Shape::Object,
        }
    }
    fn items(&self) -> Result<ArrayItems<Self>, String> {
        match &self.arena.nodes.borrow()[self.id] {
            Node::Array(items, extra) => Ok(ArrayItems {
                items: items.iter().map(|i| i.map(|id| self.arena.v(id))).collect(),
                extra_property: extra.clone(),
            }),
            _ => Err("not an array".into()),
        }
    }
    fn entries(&self) -> Result<Vec<(Text, Self)>, String> {
        match &self.arena.nodes.borrow()[self.id] {
            Node::Object(fields) => Ok(fields
                .iter()
                .map(|(k, id)| (k.clone(), self.arena.v(*id)))
                .collect()),
            _ => Err("not an object".into()),
        }
    }
    fn same(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

/// What the other device builds from the wire: Dates as `Decoded::Date`, objects
/// literally, through `classify` — the same rules the browser's decoder uses.
#[derive(Debug, PartialEq)]
enum Decoded {
    Json(Value),
    Date(f64),
    Array(Vec<Decoded>),
    Object(Vec<(String, Decoded)>),
}

/// An object, fields in name order (JSON objects carry no order).
fn object(mut fields: Vec<(String, Decoded)>) -> Decoded {
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Decoded::Object(fields)
}

fn decode(v: &Value) -> Decoded {
    match v {
        Value::Array(items) => Decoded::Array(items.iter().map(decode).collect()),
        Value::Object(map) => match classify(map) {
            WireObject::Date(ms) => Decoded::Date(ms),
            WireObject::Literal(fields) => {
                object(fields.iter().map(|(k, v)| (k.clone(), decode(v))).collect())
            }
        },
        other => Decoded::Json(other.clone()),
    }
}

/// What the app wrote, in the same terms (undefined fields left out).
fn expected(arena: &Arena, id: usize) -> Decoded {
    let node = arena.nodes.borrow()[id].clone();
    match node {
        Node::Prim(Shape::Date(ms)) => Decoded::Date(ms),
        Node::Prim(Shape::Null) => Decoded::Json(Value::Null),
        Node::Prim(Shape::Bool(b)) => Decoded::Json(json!(b)),
        Node::Prim(Shape::Number(x)) => Decoded::Json(Value::Number(number(x).unwrap())),
        Node::Prim(Shape::String(t)) => Decoded::Json(json!(t.text)),
        Node::Prim(other) => panic!("not a syncable value: {other:?}"),
        Node::Array(items, _) => {
            Decoded::Array(items.iter().map(|i| expected(arena, i.unwrap())).collect())
        }
        Node::Object(fields) => object(
            fields
                .iter()
                .filter(|(_, id)| arena.nodes.borrow()[*id] != Node::Prim(Shape::Undefined))
                .map(|(k, id)| (k.text.clone(), expected(arena, *id)))
                .collect(),
        ),
    }
}

/// Encodes record `id`, sends it through JSON text (as the wire does) and decodes it.
fn round_trip(arena: &Arena, id: usize) -> Decoded {
    let (wire, _) = arena.encode(id).expect("accepted");
    let text = serde_json::to_string(&wire).unwrap();
    decode(&serde_json::from_str(&text).unwrap())
}

fn refusal(arena: &Arena, id: usize) -> (String, Problem) {
    let e = arena.encode(id).expect_err("refused");
    (e.path.to_string(), e.problem)
}

#[test]
fn dates_are_written_as_javascript_to_iso_string_writes_them() {
    let cases = [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (-1.0, "1969-12-31T23:59:59.999Z"),
        (1_700_000_000_123.0, "2023-11-14T22:13:20.123Z"),
        (951_782_400_000.0, "2000-02-29T00:00:00.000Z"),
        (253_402_300_799_999.0, "9999-12-31T23:59:59.999Z"),
        (253_402_300_800_000.0, "+010000-01-01T00:00:00.000Z"),
        (-62_167_219_200_000.0, "0000-01-01T00:00:00.000Z"),
        (-62_167_219_200_001.0, "-000001-12-31T23:59:59.999Z"),
        (8.64e15, "+275760-09-13T00:00:00.000Z"),
        (-8.64e15, "-271821-04-20T00:00:00.000Z"),
    ];
    for (ms, iso) in cases {
        assert_eq!(format_date(ms).as_deref(), Some(iso), "{ms}");
        assert_eq!(parse_date(iso), Some(ms), "{iso}");
    }
}

#[test]
fn every_date_time_round_trips_through_its_iso_form() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let ms = (x % 17_280_000_000_000_001) as f64 - 8.64e15;
        let iso = format_date(ms).unwrap();
        assert_eq!(parse_date(&iso), Some(ms), "{iso}");
    }
}

#[test]
fn times_no_date_holds_are_not_dates() {
    for ms in [f64::NAN, f64::INFINITY, 0.5, 8.64e15 + 1.0, -8.64e15 - 1.0] {
        assert_eq!(format_date(ms), None, "{ms}");
    }
    for iso in [
        "2024-02-30T00:00:00.000Z",
        "2023-02-29T00:00:00.000Z",
        "2024-13-01T00:00:00.000Z",
        "2024-01-01T24:00:00.000Z",
        "2024-01-01T00:60:00.000Z",
        "2024-01-01T00:00:00.000",
        "2024-01-01T00:00:00Z",
        "2024-01-01 00:00:00.000Z",
        "-000000-01-01T00:00:00.000Z",
        "+275760-09-13T00:00:00.001Z",
        "2024-01-01T00:00:00.000Z ",
        "２024-01-01T00:00:00.000Z",
        "",
    ] {
        assert_eq!(parse_date(iso), None, "{iso}");
    }
}

#[test]
fn a_date_travels_as_a_date_tag_and_comes_back_a_date() {
    let a = Arena::default();
    let due = a.prim(Shape::Date(1_700_000_000_123.0));
    let first = a.prim(Shape::Date(0.0));
    let history = a.arr(&[first]);
    let r = a.obj(&[("due", due), ("history", history)]);
    let (wire, _) = a.encode(r).unwrap();
    assert_eq!(
        wire,
        json!({ "due": { "$date": "2023-11-14T22:13:20.123Z" }, "history": [{ "$date": "1970-01-01T00:00:00.000Z" }] })
    );
    assert_eq!(round_trip(&a, r), expected(&a, r));
}

#[test]
fn objects_that_look_like_tags_are_escaped_and_come_back_as_themselves() {
    let a = Arena::default();
    let iso = a.string("2023-11-14T22:13:20.123Z");
    let fake_date = a.obj(&[("$date", iso)]);
    let one = a.num(1.0);
    let inner = a.obj(&[("a", one)]);
    let fake_escape = a.obj(&[("$escape", inner)]);
    let other_tag = a.obj(&[("$ref", one)]);
    let two_keys = a.obj(&[("$date", iso), ("y", one)]);
    let nested = a.obj(&[("$escape", fake_date)]);
    let r = a.obj(&[
        ("fake", fake_date),
        ("esc", fake_escape),
        ("other", other_tag),
        ("two", two_keys),
        ("nested", nested),
    ]);
    let (wire, _) = a.encode(r).unwrap();
    assert_eq!(
        wire,
        json!({
            "fake": { "$escape": { "$date": "2023-11-14T22:13:20.123Z" } },
            "esc": { "$escape": { "$escape": { "a": 1 } } },
            "other": { "$escape": { "$ref": 1 } },
            "two": { "$date": "2023-11-14T22:13:20.123Z", "y": 1 },
            "nested": { "$escape": { "$escape": { "$escape": { "$date": "2023-11-14T22:13:20.123Z" } } } },
        })
    );
    assert_eq!(round_trip(&a, r), expected(&a, r));
}

#[test]
fn a_tag_written_by_another_program_that_is_not_valid_reads_as_a_plain_object() {
    let map = json!({ "$date": "yesterday" });
    assert_eq!(
        classify(map.as_object().unwrap()),
        WireObject::Literal(map.as_object().unwrap())
    );
    let map = json!({ "$escape": 5 });
    assert_eq!(
        classify(map.as_object().unwrap()),
        WireObject::Literal(map.as_object().unwrap())
    );
}

#[test]
fn json_values_round_trip_exactly_including_negative_zero_and_big_numbers() {
    let a = Arena::default();
    let values = [
        0.0,
        -0.0,
        1.5,
        -3.0,
        9_007_199_254_740_992.0,
        9_007_199_254_740_994.0,
        1e300,
        5e-324,
        0.1 + 0.2,
    ];
    let fields: Vec<(String, usize)> = values
        .iter()
        .enumerate()
        .map(|(i, x)| (format!("n{i}"), a.num(*x)))
        .collect();
    let t = a.prim(Shape::Bool(true));
    let null = a.prim(Shape::Null);
    let s = a.string("émoji 😀 \u{7f} \\ \"");
    let list = a.arr(&[t, null, s]);
    let mut all: Vec<(&str, usize)> = fields.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    all.push(("list", list));
    let r = a.obj(&all);
    assert_eq!(round_trip(&a, r), expected(&a, r));
    let Decoded::Object(got) = round_trip(&a, r) else {
        panic!()
    };
    let Some((_, Decoded::Json(Value::Number(neg_zero)))) = got.iter().find(|(k, _)| k == "n1")
    else {
        panic!()
    };
    assert!(
        neg_zero.as_f64().unwrap().is_sign_negative(),
        "-0 keeps its sign"
    );
}

#[test]
fn every_finite_double_survives_json_text_exactly() {
    // The wire is JSON text parsed by serde_json on the server and the client: a
    // number must come back bit for bit (serde_json's `float_roundtrip`).
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = f64::from_bits(x);
        if !f.is_finite() {
            continue;
        }
        let text = serde_json::to_string(&Value::Number(number(f).unwrap())).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back.as_f64().unwrap().to_bits(), f.to_bits(), "{text}");
    }
}

#[test]
fn each_value_json_cannot_carry_is_refused_at_its_field_path() {
    let a = Arena::default();
    let mut cases: Vec<(usize, &str, Problem)> = Vec::new();
    let mut case =
        |value: usize, path: &'static str, problem: Problem| cases.push((value, path, problem));
    let wrap = |field: &str, v: usize| a.obj(&[(field, v)]);

    let nan = a.num(f64::NAN);
    case(
        a.obj(&[("meta", wrap("size", nan))]),
        "meta.size",
        Problem::NotFinite("NaN"),
    );
    case(
        wrap("score", a.num(f64::INFINITY)),
        "score",
        Problem::NotFinite("Infinity"),
    );
    let one = a.num(1.0);
    let neg_inf = a.num(f64::NEG_INFINITY);
    case(
        wrap("scores", a.arr(&[one, neg_inf])),
        "scores[1]",
        Problem::NotFinite("-Infinity"),
    );
    case(
        wrap("due", a.prim(Shape::Date(f64::NAN))),
        "due",
        Problem::InvalidDate,
    );
    case(
        a.obj(&[("meta", wrap("size", a.prim(Shape::BigInt)))]),
        "meta.size",
        Problem::BigInt,
    );
    case(wrap("kind", a.prim(Shape::Symbol)), "kind", Problem::Symbol);
    case(
        a.obj(&[("meta", wrap("fn", a.prim(Shape::Function)))]),
        "meta.fn",
        Problem::Function,
    );
    for name in [
        "Map",
        "Set",
        "Uint8Array",
        "ArrayBuffer",
        "Blob",
        "File",
        "RegExp",
        "DataView",
    ] {
        let s1 = a.string("a");
        let s2 = a.string("b");
        let other = a.prim(Shape::Other(name.into()));
        case(
            wrap("tags", a.arr(&[s1, s2, other])),
            "tags[2]",
            Problem::Unsupported(name.into()),
        );
    }
    let s3 = a.string("c");
    case(
        wrap(
            "tags",
            a.add(Node::Array(vec![Some(one), None, Some(s3)], None)),
        ),
        "tags[1]",
        Problem::Hole,
    );
    let undef = a.prim(Shape::Undefined);
    case(
        wrap("tags", a.arr(&[one, undef])),
        "tags[1]",
        Problem::UndefinedItem,
    );
    case(
        wrap(
            "tags",
            a.add(Node::Array(vec![Some(one)], Some("extra".into()))),
        ),
        "tags",
        Problem::ArrayProperty("extra".into()),
    );
    let broken = a.prim(Shape::String(Text {
        text: "a\u{fffd}".into(),
        well_formed: false,
    }));
    case(
        wrap("title", broken),
        "title",
        Problem::LoneSurrogate { field_name: false },
    );
    case(
        wrap("title", a.string("a\0b")),
        "title",
        Problem::Nul { field_name: false },
    );
    case(
        a.add(Node::Object(vec![(
            Text {
                text: "a\u{fffd}".into(),
                well_formed: false,
            },
            one,
        )])),
        "[\"a\u{fffd}\"]",
        Problem::LoneSurrogate { field_name: true },
    );
    case(
        wrap("a\0", one),
        "[\"a\\u0000\"]",
        Problem::Nul { field_name: true },
    );

    for (record, path, problem) in cases {
        let (got_path, got_problem) = refusal(&a, record);
        assert_eq!((got_path.as_str(), &got_problem), (path, &problem));
        // The message names the path.
        let message = a.encode(record).unwrap_err().to_string();
        assert!(message.starts_with(&format!("`{path}`: ")), "{message}");
    }
}

fn nested(a: &Arena, depth: usize) -> usize {
    let t = a.prim(Shape::Bool(true));
    let mut v = a.obj(&[("leaf", t)]);
    for _ in 0..depth {
        v = a.obj(&[("next", v)]);
    }
    v
}

#[test]
fn nesting_is_allowed_up_to_the_depth_limit_and_refused_beyond_it() {
    let a = Arena::default();
    // `deep` is at depth 1 and the leaf object at depth 1 + n; objects may sit at
    // most MAX_DEPTH - 1 steps deep, so their fields are at most MAX_DEPTH steps deep.
    let ok = a.obj(&[("deep", nested(&a, MAX_DEPTH - 2))]);
    assert!(a.encode(ok).is_ok());
    let too_deep = a.obj(&[("deep", nested(&a, MAX_DEPTH - 1))]);
    assert_eq!(refusal(&a, too_deep), ("deep".into(), Problem::TooDeep));
    let arrays = {
        let mut v = a.num(1.0);
        for _ in 0..10_000 {
            v = a.arr(&[v]);
        }
        a.obj(&[("list", v)])
    };
    assert_eq!(refusal(&a, arrays), ("list".into(), Problem::TooDeep));
}

#[test]
fn a_circular_reference_is_refused_where_it_points_back() {
    let a = Arena::default();
    let size = a.num(1.0);
    let meta = a.obj(&[("size", size)]);
    a.set(
        meta,
        Node::Object(vec![(Text::new("size"), size), (Text::new("self"), meta)]),
    );
    let r = a.obj(&[("title", size), ("meta", meta)]);
    assert_eq!(
        refusal(&a, r),
        (
            "meta.self".into(),
            Problem::Circular(ValuePath(vec![Step::Field("meta".into())]))
        )
    );
    assert_eq!(
        a.encode(r).unwrap_err().to_string(),
        "`meta.self`: circular reference back to `meta`"
    );

    // A record that contains itself, through an array.
    let r2 = a.obj(&[]);
    let list = a.arr(&[size, r2]);
    a.set(r2, Node::Object(vec![(Text::new("list"), list)]));
    assert_eq!(
        refusal(&a, r2),
        ("list[1]".into(), Problem::Circular(ValuePath::default()))
    );
}

#[test]
fn shared_objects_that_are_not_circular_are_accepted() {
    let a = Arena::default();
    let one = a.num(1.0);
    let shared = a.obj(&[("x", one)]);
    let r = a.obj(&[("a", shared), ("b", shared)]);
    assert_eq!(
        a.encode(r).unwrap().0,
        json!({ "a": { "x": 1 }, "b": { "x": 1 } })
    );
}

#[test]
fn a_value_with_too_many_parts_is_refused() {
    // 2^25 paths through 25 levels of shared pairs: small in memory, huge as JSON.
    let a = Arena::default();
    let mut v = a.num(1.0);
    for _ in 0..25 {
        v = a.arr(&[v, v]);
    }
    let r = a.obj(&[("blob", v)]);
    let (path, problem) = refusal(&a, r);
    assert_eq!(problem, Problem::TooLarge);
    assert!(path.starts_with("blob[0]"), "{path}");
    // A flat array below the budget is fine.
    let items: Vec<usize> = (0..MAX_NODES / 10).map(|_| a.num(2.0)).collect();
    let r = a.obj(&[("list", a.arr(&items))]);
    assert!(a.encode(r).is_ok());
}

#[test]
fn an_undefined_property_is_dropped_and_reported_so_the_local_copy_drops_it_too() {
    let a = Arena::default();
    let undef = a.prim(Shape::Undefined);
    let one = a.num(1.0);
    let meta = a.obj(&[("a", one), ("b", undef)]);
    let r = a.obj(&[("note", undef), ("meta", meta)]);
    assert_eq!(a.encode(r).unwrap(), (json!({ "meta": { "a": 1 } }), true));
    let clean = a.obj(&[("meta", a.obj(&[("a", one)]))]);
    assert!(!a.encode(clean).unwrap().1);
}

#[test]
fn paths_are_written_as_javascript_accessors() {
    let p = ValuePath(vec![
        Step::Field("a b".into()),
        Step::Field("c".into()),
        Step::Index(2),
        Step::Field("$x".into()),
    ]);
    assert_eq!(p.to_string(), "[\"a b\"].c[2].$x");
    assert_eq!(
        ValuePath(vec![Step::Field("2x".into())]).to_string(),
        "[\"2x\"]"
    );
}

/// I9: a row written outside idb-sync holding a value the wire cannot carry is set
/// aside as one dead letter; what can be kept of it is kept, the reason names the path.
#[test]
fn an_unencodable_row_keeps_its_encodable_fields_and_names_what_it_left_out() {
    let a = Arena::default();
    let map = a.prim(Shape::Other("Map".into()));
    let big = a.prim(Shape::BigInt);
    let record = a.obj(&[
        ("id", a.string("t1")),
        ("meta", a.obj(&[("m", map), ("ok", a.num(1.0))])),
        ("title", a.string("kept")),
        ("size", big),
    ]);
    let (kept, errors) = encodable_part(&a.v(record));
    assert_eq!(
        Value::Object(kept),
        json!({ "id": "t1", "title": "kept" }),
        "only the fields holding a bad value are left out"
    );
    let paths: Vec<String> = errors.iter().map(|e| e.path.to_string()).collect();
    assert_eq!(paths, ["meta.m", "size"]);
    // A record that encodes keeps everything and reports nothing.
    let fine = a.obj(&[("id", a.string("t2"))]);
    let (kept, errors) = encodable_part(&a.v(fine));
    assert_eq!(Value::Object(kept), json!({ "id": "t2" }));
    assert!(errors.is_empty());
}

#[test]
fn an_unencodable_pending_change_becomes_one_rolled_back_invalid_value_dead_letter() {
    let a = Arena::default();
    let record = a.obj(&[
        ("id", a.string("t1")),
        ("meta", a.obj(&[("m", a.prim(Shape::Other("Map".into())))])),
    ]);
    let (kept, errors) = encodable_part(&a.v(record));
    let id = RecordId::new("tasks", RecordKey::String("t1".into()));
    let mut meta = ClientMeta::new("c1");
    meta.cursor = Some(Cursor("cursor".into()));
    let before = meta.next_dead_letter_id;

    // Never on the server: removed locally, the cursor kept.
    let mut state = KeyState {
        value: Some(Record::new()),
        pending: Some(PendingOp {
            op: Op::Create {
                record: Record::new(),
            },
            hlc: Hlc::default(),
            queued: 1,
            since_ms: 0,
        }),
        ..KeyState::default()
    };
    let letter = set_aside_unencodable(
        &id,
        &mut state,
        OpKind::Create,
        kept.clone(),
        &errors,
        &mut meta,
        7,
    );
    assert_eq!(letter.code, INVALID_VALUE);
    assert_eq!(letter.id, before);
    assert_eq!(meta.next_dead_letter_id, before + 1);
    assert_eq!(
        letter.op,
        Op::Create {
            record: kept.clone()
        }
    );
    assert!(letter.reason.contains("`meta.m`"), "{}", letter.reason);
    assert!(letter.reason.contains("rolled back"), "{}", letter.reason);
    assert!(
        letter.reason.contains("without `meta`"),
        "{}",
        letter.reason
    );
    assert!(state.pending.is_none() && state.value.is_none());
    assert_eq!((state.version, state.acked_unpulled), (0, false));
    assert_eq!(meta.cursor, Some(Cursor("cursor".into())));

    // The server has it: removed until the next pull fetches the server's copy again.
    let mut state = KeyState {
        value: Some(Record::new()),
        version: 4,
        pending: Some(PendingOp {
            op: Op::Put {
                record: Record::new(),
            },
            hlc: Hlc::default(),
            queued: 2,
            since_ms: 0,
        }),
        ..KeyState::default()
    };
    let letter = set_aside_unencodable(&id, &mut state, OpKind::Put, kept, &errors, &mut meta, 8);
    assert_eq!(letter.id, before + 1);
    assert!(letter.reason.contains("server's copy"), "{}", letter.reason);
    assert!(state.pending.is_none() && state.value.is_none());
    assert_eq!((state.version, state.acked_unpulled), (0, true));
    assert_eq!(
        meta.cursor, None,
        "the next pull starts over to fetch the server's copy"
    );
}
