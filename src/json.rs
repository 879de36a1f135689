//! JSON through serde_json: every request body, token and JWKS is read into a
//! `serde_json::Value` (each member's type is checked where it is used, each with its own
//! error), and every answer, policy and log line is written with [`Object`], whose strings
//! serde_json escapes. The writer stays a builder rather than `Serialize` types: answers are
//! written once, member by member, in the order docs/api.md shows them.

pub(crate) use serde_json::Value;

/// A member is there, but not of the type asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WrongType;

/// Where a document stops being JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub line: usize,
    pub column: usize,
    /// The document ended before the value did.
    pub eof: bool,
}

/// Parses one JSON value, surrounded by nothing but whitespace. serde_json refuses nesting
/// deeper than 128, so a hostile body cannot exhaust the stack; a repeated name keeps its last
/// value, as JavaScript's `JSON.parse` does.
pub(crate) fn parse(json: &[u8]) -> Result<Value, ParseError> {
    serde_json::from_slice(json).map_err(|e| ParseError {
        line: e.line(),
        column: e.column(),
        eof: e.is_eof(),
    })
}

/// Reading one member of an object, each with the rule this worker holds it to.
pub(crate) trait Members {
    /// A member that must be a string if present (`null` counts as absent).
    fn text(&self, name: &str) -> Result<Option<&str>, WrongType>;
}

impl Members for Value {
    fn text(&self, name: &str) -> Result<Option<&str>, WrongType> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(WrongType),
        }
    }
}

/// An integer that fits in `i64` (not `1.0`, not `1e3`).
pub(crate) fn int(value: &Value) -> Option<i64> {
    value.as_number().and_then(serde_json::Number::as_i64)
}

/// A whole number from 0 to `i64::MAX`.
pub(crate) fn whole(value: &Value) -> Option<u64> {
    int(value).and_then(|n| u64::try_from(n).ok())
}

/// A JSON object, written member by member: compact, escaped as serde_json escapes.
pub(crate) struct Object {
    out: String,
}

impl Default for Object {
    fn default() -> Self {
        Self::new()
    }
}

impl Object {
    pub(crate) fn new() -> Self {
        Self {
            out: String::from("{"),
        }
    }

    fn name(&mut self, name: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        push_string(&mut self.out, name);
        self.out.push(':');
    }

    pub(crate) fn text(mut self, name: &str, value: &str) -> Self {
        self.name(name);
        push_string(&mut self.out, value);
        self
    }

    pub(crate) fn number(mut self, name: &str, value: u64) -> Self {
        self.name(name);
        push_number(&mut self.out, value);
        self
    }

    pub(crate) fn flag(mut self, name: &str, value: bool) -> Self {
        self.name(name);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    /// A member whose value is already JSON (an object or a list).
    pub(crate) fn raw(mut self, name: &str, json: &str) -> Self {
        self.name(name);
        self.out.push_str(json);
        self
    }

    /// A member that is an object of strings, in the order given.
    pub(crate) fn strings(self, name: &str, pairs: &[(String, String)]) -> Self {
        let object = pairs.iter().fold(Object::new(), |o, (n, v)| o.text(n, v));
        self.raw(name, &object.finish())
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// `[a,b,…]` of values already written as JSON.
pub(crate) fn list(items: impl IntoIterator<Item = String>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
    }
    out.push(']');
    out
}

/// `text` as a JSON string, escaped by serde_json. Nearly every string written (a URL, a
/// policy, a key) needs no escape at all: those are copied between quotes as they are.
/// Measured with `bench/profile.mjs` (answer and policy JSON, µs per `POST /uploads`): 3.6
/// this way, 8.1 with `serde_json::to_string` for every string, 7.9 with serde_json's
/// serialiser writing straight into the answer through an `io::Write` adapter. A property test
/// holds the output to serde_json's.
pub(crate) fn push_string(out: &mut String, text: &str) {
    let plain = text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else if let Ok(quoted) = serde_json::to_string(text) {
        // Serialising a `str` cannot fail (no map keys, no I/O).
        out.push_str(&quoted);
    }
}

/// `n` in decimal.
pub(crate) fn push_number(out: &mut String, n: u64) {
    use std::fmt::Write as _;
    // Writing to a `String` cannot fail.
    let _ = write!(out, "{n}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_read_with_their_rules() {
        let v = parse(br#"{"a": null, "b": true, "c": -3, "d": 1.5, "e": 18446744073709551615, "f": "x", "a": 2}"#).unwrap();
        assert_eq!(v.get("a"), Some(&json!(2)), "the last of a repeated name");
        assert_eq!(v.text("f"), Ok(Some("x")));
        assert_eq!(v.text("c"), Err(WrongType));
        assert_eq!(v.text("zzz"), Ok(None));
        assert_eq!(int(&v["c"]), Some(-3));
        assert_eq!(int(&v["d"]), None);
        assert_eq!(int(&v["e"]), None, "beyond i64");
        assert_eq!(whole(&json!(7)), Some(7));
        assert_eq!(whole(&json!(-7)), None);
        assert_eq!(whole(&json!(7.0)), None, "1.0 is not a size");
        assert_eq!(whole(&json!("7")), None);
    }

    #[test]
    fn numbers_are_json_numbers() {
        for (text, expected) in [
            ("0", Some(0)),
            ("-0", None), // serde_json reads it as the float -0.0: not a size
            ("9223372036854775807", Some(i64::MAX)),
            ("9223372036854775808", None),
            ("1.5", None),
            ("1e3", None),
        ] {
            assert_eq!(int(&parse(text.as_bytes()).unwrap()), expected, "{text}");
        }
        // The exponents that once made a hand-written reader loop are read at once.
        for fine in [
            "1e-400",
            "0e999999",
            "0.000e999999",
            "1e0000001",
            "5e-0000001",
        ] {
            assert!(parse(fine.as_bytes()).is_ok(), "{fine}");
        }
        // Numbers no f64 holds are refused (a token's `exp` of 1e400 is a malformed token).
        for bad in [
            "01", "1.", ".5", "-", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "1 2", "1e400",
            "1e999999",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_decode_every_escape_and_refuse_what_json_does() {
        let v = parse(br#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#).unwrap();
        assert_eq!(v, json!("a\"b\\c/d\u{8}\u{c}\n\r\té😀"));
        for bad in [
            &b"\"a"[..],
            b"\"\\x\"",
            b"\"\\u12\"",
            b"\"\\ud83d\"",
            b"\"\\ude00\"",
            b"\"a\nb\"",
            b"\"\xff\"",
            b"\"\\ud83d\\u0041\"",
            b"\"\\u+041\"",
            b"\"\\u-041\"",
            b"\"\\u 041\"",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn structure_errors_say_where_and_whether_the_text_ended() {
        let at = |text: &[u8]| {
            parse(text)
                .map(|_| ())
                .map_err(|e| (e.line, e.column, e.eof))
        };
        assert_eq!(at(b"{"), Err((1, 1, true)));
        assert_eq!(at(b"{\n  \"a\": x}"), Err((2, 8, false)));
        for bad in [
            "",
            "{,}",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{1:2}",
            "[1 2]",
            "nul",
            "{} x",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(parse(deep.as_bytes()).is_err(), "too deep");
        let fine = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(parse(fine.as_bytes()).is_ok());
        assert_eq!(parse(b" \t\r\n{} \n"), Ok(json!({})));
    }

    #[test]
    fn strings_needing_an_escape_take_serde_jsons_path() {
        for text in [
            "\"", "\\", "a\"b", "a\\b", "\"\"", "\u{1f}", "tab\t", "\u{0}", "é\u{7f}", "",
        ] {
            let mut ours = String::new();
            push_string(&mut ours, text);
            assert_eq!(ours, serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn written_json_reads_back_and_matches_serde_json() {
        let pairs = [("k".to_owned(), "v\u{1}\"\\\n".to_owned())];
        // In serde_json's (sorted) order, to compare the texts.
        let json = Object::new()
            .text("a", "x\u{7f}é")
            .raw("l", &list(["1".to_owned(), "{}".to_owned()]))
            .number("n", u64::MAX)
            .strings("o", &pairs)
            .flag("t", true)
            .finish();
        let expected = serde_json::json!({
            "a": "x\u{7f}é", "n": u64::MAX, "t": true, "o": {"k": "v\u{1}\"\\\n"}, "l": [1, {}]
        });
        assert_eq!(json, serde_json::to_string(&expected).unwrap());
        assert_eq!(Object::new().finish(), "{}");
        assert_eq!(list(Vec::new()), "[]");
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        /// The copy for plain strings writes what serde_json writes, for any string.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(text in any::<String>(), plain in "[ -~]{0,40}") {
            for text in [&text, &plain] {
                let mut ours = String::new();
                push_string(&mut ours, text);
                prop_assert_eq!(ours, serde_json::to_string(text).unwrap());
            }
        }
    }
}
