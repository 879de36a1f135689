//! A JSON value read with `deserialize_any` only. `serde_json::Value` costs about 21 KB of
//! wasm, and typed `#[derive(Deserialize)]` structs link serde's type-error messages (float
//! formatting included, 14 KB). Here every value is accepted as what it is, and the API and
//! the token rules check each member's type themselves, each with its own error.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A member is there, but not of the type asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongType;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// Any other number: a fraction, an exponent, or an integer beyond `i64`.
    Float(f64),
    Text(String),
    List(Vec<Value>),
    /// Members in order. Repeated names are kept; [`Value::get`] reads the last, as
    /// JavaScript's `JSON.parse` does.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Parses `json`; an error if it is not JSON (or nests deeper than serde_json allows).
    pub fn parse(json: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(json)
    }

    /// The member `name` of an object (the last, if repeated).
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Self::Object(members) => members
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A member that must be a string if present (`null` counts as absent).
    pub fn text(&self, name: &str) -> Result<Option<&str>, WrongType> {
        match self.get(name) {
            None | Some(Self::Null) => Ok(None),
            Some(Self::Text(text)) => Ok(Some(text)),
            Some(_) => Err(WrongType),
        }
    }

    /// A whole number from 0 to `i64::MAX`.
    pub fn as_whole(&self) -> Option<u64> {
        match self {
            Self::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Value, E> {
        Ok(Value::Bool(flag))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Int(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Float(n as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Float(n))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Value, E> {
        Ok(Value::Text(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Value, E> {
        Ok(Value::Text(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Value>()? {
            members.push(member);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_value_is_kept_as_it_is() {
        let v = Value::parse(
            br#"{"a": null, "b": true, "c": -3, "d": 1.5, "e": 18446744073709551615, "f": "x", "g": [1], "a": 2}"#,
        )
        .unwrap();
        assert_eq!(
            v.get("a"),
            Some(&Value::Int(2)),
            "the last of a repeated name"
        );
        assert_eq!(v.get("b"), Some(&Value::Bool(true)));
        assert_eq!(v.get("c"), Some(&Value::Int(-3)));
        assert_eq!(v.get("d"), Some(&Value::Float(1.5)));
        assert_eq!(v.get("e"), Some(&Value::Float(18446744073709551615.0)));
        assert_eq!(v.text("f"), Ok(Some("x")));
        assert_eq!(v.text("c"), Err(WrongType));
        assert_eq!(v.text("zzz"), Ok(None));
        assert_eq!(v.get("g"), Some(&Value::List(vec![Value::Int(1)])));
        assert_eq!(Value::Int(7).as_whole(), Some(7));
        assert_eq!(Value::Int(-7).as_whole(), None);
        assert!(Value::parse(b"{").is_err());
        assert!(Value::parse(b"1e400").is_err(), "out of range");
    }
}
