//! The content hash the server keeps with each idempotency outcome, so that a reused
//! `(clientId, seq)` carrying other content is recognised (I11) instead of being
//! answered `duplicate` and lost.
//!
//! The hash covers everything a mutation says except its seq (table, key, op, base
//! version, timestamp, mode) in a canonical JSON form (object keys sorted, numbers
//! compared as numbers: `1` and `1.0` hash alike), with 128-bit FNV-1a. It is not a
//! cryptographic hash: a client that forges a collision only fools itself, inside
//! its own account.

use serde_json::Value;

use crate::protocol::Mutation;

const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

struct Fnv(u128);

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }
}

fn write_canonical(h: &mut Fnv, v: &Value) {
    match v {
        Value::Null => h.write(b"n"),
        Value::Bool(b) => h.write(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            let f = if f == 0.0 { 0.0 } else { f };
            h.write(format!("#{f:?};").as_bytes());
        }
        Value::String(s) => {
            h.write(format!("s{}:", s.len()).as_bytes());
            h.write(s.as_bytes());
        }
        Value::Array(items) => {
            h.write(format!("[{}:", items.len()).as_bytes());
            items.iter().for_each(|i| write_canonical(h, i));
        }
        Value::Object(map) => {
            // serde_json's map is ordered by key: the order is canonical.
            h.write(format!("{{{}:", map.len()).as_bytes());
            for (k, v) in map {
                h.write(format!("{}:", k.len()).as_bytes());
                h.write(k.as_bytes());
                write_canonical(h, v);
            }
        }
    }
}

/// The content hash of a mutation (32 hex digits), independent of its seq.
pub fn content_hash(m: &Mutation) -> String {
    let mut value = serde_json::to_value(m).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("seq");
    }
    let mut h = Fnv(FNV_OFFSET);
    write_canonical(&mut h, &value);
    format!("{:032x}", h.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::protocol::MergeMode;
    use crate::record::Op;
    use serde_json::json;

    fn mutation(seq: u64, title: Value) -> Mutation {
        let record = json!({ "title": title, "n": 1 })
            .as_object()
            .cloned()
            .unwrap_or_default();
        Mutation {
            seq,
            table: "tasks".into(),
            key: "a".into(),
            op: Op::Create { record },
            base_version: 0,
            hlc: Hlc {
                millis: 5,
                counter: 0,
                node: "c".into(),
            },
            mode: MergeMode::FieldMerge,
        }
    }

    #[test]
    fn the_hash_ignores_the_seq_and_number_spelling_but_not_the_content() {
        assert_eq!(
            content_hash(&mutation(1, json!("x"))),
            content_hash(&mutation(9, json!("x")))
        );
        let mut float = mutation(1, json!("x"));
        if let Op::Create { record } = &mut float.op {
            record.insert("n".into(), json!(1.0));
        }
        assert_eq!(content_hash(&float), content_hash(&mutation(1, json!("x"))));
        assert_ne!(
            content_hash(&mutation(1, json!("x"))),
            content_hash(&mutation(1, json!("y")))
        );
        assert_ne!(
            content_hash(&mutation(1, json!("1"))),
            content_hash(&mutation(1, json!(1)))
        );
    }
}
