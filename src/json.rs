//! JSON, read and written by hand. Every request body, token and JWKS is read into one lenient
//! [`Value`] (each member's type is checked where it is used, each with its own error), and
//! every answer, policy and log line is written with [`Object`]. Measured: serde and
//! serde_json (the parser with its float tables, the serializer and every `Serialize` impl)
//! cost about 9 KiB of gzip wasm that this module does in about 2.

/// A member is there, but not of the type asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongType;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// Any other number (a fraction, an exponent, or an integer beyond `i64`), as its whole
    /// part when that fits in `i64` (the fraction cut), `None` when it does not (`1e400`).
    Float(Option<i64>),
    Text(String),
    List(Vec<Value>),
    /// Members in order. Repeated names are kept; [`Value::get`] reads the last, as
    /// JavaScript's `JSON.parse` does.
    Object(Vec<(String, Value)>),
}

/// Where a document stops being JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    /// The document ended before the value did.
    pub eof: bool,
}

/// Deeper nesting is refused (as serde_json does), so a hostile body cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

impl Value {
    /// Parses one JSON value, surrounded by nothing but whitespace.
    pub fn parse(json: &[u8]) -> Result<Self, ParseError> {
        let mut parser = Parser { bytes: json, at: 0 };
        let value = parser.value(0)?;
        parser.skip_whitespace();
        if parser.at < json.len() {
            return Err(parser.error());
        }
        Ok(value)
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

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn error(&self) -> ParseError {
        let before = &self.bytes[..self.at.min(self.bytes.len())];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        ParseError {
            line: before.iter().filter(|&&b| b == b'\n').count() + 1,
            column: before.len() - line_start + 1,
            eof: self.at >= self.bytes.len(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `word` (`true`, `false`, `null`) or fails.
    fn word(&mut self, word: &[u8], value: Value) -> Result<Value, ParseError> {
        for &expected in word {
            if self.peek() != Some(expected) {
                return Err(self.error());
            }
            self.at += 1;
        }
        Ok(value)
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.list(depth + 1),
            Some(b'"') => self.string().map(Value::Text),
            Some(b't') => self.word(b"true", Value::Bool(true)),
            Some(b'f') => self.word(b"false", Value::Bool(false)),
            Some(b'n') => self.word(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error()),
        }
    }

    /// Calls `item` for each element of `[...]` or `{...}` (opened by `open`, closed by
    /// `close`), with the commas between.
    fn sequence(
        &mut self,
        depth: usize,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error());
        }
        self.at += 1;
        self.skip_whitespace();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b) if b == close => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.error()),
            }
        }
    }

    fn list(&mut self, depth: usize) -> Result<Value, ParseError> {
        let mut items = Vec::new();
        self.sequence(depth, b']', |p| {
            items.push(p.value(depth)?);
            Ok(())
        })?;
        Ok(Value::List(items))
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        let mut members = Vec::new();
        self.sequence(depth, b'}', |p| {
            p.skip_whitespace();
            if p.peek() != Some(b'"') {
                return Err(p.error());
            }
            let name = p.string()?;
            p.skip_whitespace();
            if p.peek() != Some(b':') {
                return Err(p.error());
            }
            p.at += 1;
            members.push((name, p.value(depth)?));
            Ok(())
        })?;
        Ok(Value::Object(members))
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error());
            };
            self.at += 1;
            match byte {
                b'"' => break,
                b'\\' => self.escape(&mut out)?,
                0..=0x1f => {
                    self.at -= 1;
                    return Err(self.error());
                }
                _ => out.push(byte),
            }
        }
        String::from_utf8(out).map_err(|_| self.error())
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), ParseError> {
        let Some(kind) = self.peek() else {
            return Err(self.error());
        };
        self.at += 1;
        let simple = match kind {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let c = self.unicode_escape()?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                return Ok(());
            }
            _ => return Err(self.error()),
        };
        out.push(simple);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .bytes
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.error())?;
        // Four hex digits exactly: `from_str_radix` alone would also take a sign (`\u+041`).
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(self.error());
        }
        let code = digits.iter().fold(0, |code, &d| {
            code << 4 | char::from(d).to_digit(16).unwrap_or(0)
        });
        self.at += 4;
        Ok(code)
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`; a lone surrogate is an error.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let high = self.hex4()?;
        let code = if (0xd800..0xdc00).contains(&high) {
            if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                return Err(self.error());
            }
            self.at += 2;
            let low = self.hex4()?;
            if !(0xdc00..0xe000).contains(&low) {
                return Err(self.error());
            }
            0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| self.error())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: an `Int`, or a `Float` as its whole
    /// part, computed exactly from the digits (no float arithmetic).
    fn number(&mut self) -> Result<Value, ParseError> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let int_digits = self.digits();
        let leading_zero = int_digits.len() > 1 && int_digits[0] == b'0';
        if int_digits.is_empty() || leading_zero {
            return Err(self.error());
        }
        let mut fraction: &[u8] = &[];
        if self.peek() == Some(b'.') {
            self.at += 1;
            fraction = self.digits();
            if fraction.is_empty() {
                return Err(self.error());
            }
        }
        let mut exponent: i64 = 0;
        let has_exponent = matches!(self.peek(), Some(b'e' | b'E'));
        if has_exponent {
            self.at += 1;
            let sign = match self.peek() {
                Some(b'-') => -1,
                Some(b'+') => 1,
                _ => 0,
            };
            if sign != 0 {
                self.at += 1;
            }
            let digits = self.digits();
            if digits.is_empty() {
                return Err(self.error());
            }
            // Leading zeros say nothing (`1e0000001` is 10); six digits are past any i64.
            let magnitude = digits
                .iter()
                .skip_while(|&&d| d == b'0')
                .take(6)
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            exponent = if sign < 0 { -magnitude } else { magnitude };
        }
        let sign = if negative { -1 } else { 1 };
        if fraction.is_empty() && !has_exponent {
            if let Some(n) = whole(int_digits, &[], 0) {
                return Ok(Value::Int(sign * n));
            }
        }
        Ok(Value::Float(
            whole(int_digits, fraction, exponent).map(|n| sign * n),
        ))
    }

    fn digits(&mut self) -> &'a [u8] {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        &self.bytes[start..self.at]
    }
}

/// The whole part of `int.fraction × 10^exponent`, if it fits in `i64`.
fn whole(int: &[u8], fraction: &[u8], exponent: i64) -> Option<i64> {
    // Digits left of the point once the exponent has moved it.
    let shift = i64::try_from(int.len()).ok()? + exponent;
    let mut n: i64 = 0;
    let digits = int.iter().chain(fraction);
    let mut taken: i64 = 0;
    for &digit in digits {
        if taken >= shift {
            return Some(n);
        }
        n = n.checked_mul(10)?.checked_add(i64::from(digit - b'0'))?;
        taken += 1;
    }
    // Zero stays zero: without this, `0e999999` would loop a million times (per number, in
    // a token nobody has verified yet). Anything else overflows within 19 steps.
    if n == 0 {
        return Some(0);
    }
    while taken < shift {
        n = n.checked_mul(10)?;
        taken += 1;
    }
    Some(n)
}

/// A JSON object, written member by member: compact, escaped as serde_json escapes.
pub struct Object {
    out: String,
}

impl Default for Object {
    fn default() -> Self {
        Self::new()
    }
}

impl Object {
    pub fn new() -> Self {
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

    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.name(name);
        push_string(&mut self.out, value);
        self
    }

    pub fn number(mut self, name: &str, value: u64) -> Self {
        self.name(name);
        push_number(&mut self.out, value);
        self
    }

    pub fn flag(mut self, name: &str, value: bool) -> Self {
        self.name(name);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    /// A member whose value is already JSON (an object or a list).
    pub fn raw(mut self, name: &str, json: &str) -> Self {
        self.name(name);
        self.out.push_str(json);
        self
    }

    /// A member that is an object of strings, in the order given.
    pub fn strings(self, name: &str, pairs: &[(String, String)]) -> Self {
        let object = pairs.iter().fold(Object::new(), |o, (n, v)| o.text(n, v));
        self.raw(name, &object.finish())
    }

    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// `[a,b,…]` of values already written as JSON.
pub fn list(items: impl IntoIterator<Item = String>) -> String {
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

/// `text` as a JSON string: `"` and `\` escaped, control characters as `\n`-style or `\u00XX`.
/// Runs of characters that need no escape (nearly all of a policy or a URL) are copied whole.
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // Only ASCII bytes are escaped, so `start..at` falls on character boundaries.
        out.push_str(&text[start..at]);
        start = at + 1;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// `n` in decimal.
pub fn push_number(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
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
        assert_eq!(v.get("d"), Some(&Value::Float(Some(1))));
        assert_eq!(v.get("e"), Some(&Value::Float(None)), "beyond i64");
        assert_eq!(v.text("f"), Ok(Some("x")));
        assert_eq!(v.text("c"), Err(WrongType));
        assert_eq!(v.text("zzz"), Ok(None));
        assert_eq!(v.get("g"), Some(&Value::List(vec![Value::Int(1)])));
        assert_eq!(Value::Int(7).as_whole(), Some(7));
        assert_eq!(Value::Int(-7).as_whole(), None);
        assert_eq!(Value::Float(Some(7)).as_whole(), None, "1.0 is not a size");
    }

    #[test]
    fn numbers_keep_their_whole_part_exactly() {
        for (json, expected) in [
            ("0", Value::Int(0)),
            ("-0", Value::Int(0)),
            ("9223372036854775807", Value::Int(i64::MAX)),
            ("9223372036854775808", Value::Float(None)),
            ("1795000000.75", Value::Float(Some(1_795_000_000))),
            ("-2.5", Value::Float(Some(-2))),
            ("1e3", Value::Float(Some(1000))),
            ("1.5E+2", Value::Float(Some(150))),
            ("12345e-2", Value::Float(Some(123))),
            ("1e-400", Value::Float(Some(0))),
            ("1e400", Value::Float(None)),
            ("0.000001", Value::Float(Some(0))),
            ("1e0000001", Value::Float(Some(10))),
            ("1.9e0000009", Value::Float(Some(1_900_000_000))),
            ("5e-0000001", Value::Float(Some(0))),
            ("0e999999", Value::Float(Some(0))),
            ("0.000e999999", Value::Float(Some(0))),
            ("1e999999", Value::Float(None)),
        ] {
            assert_eq!(Value::parse(json.as_bytes()), Ok(expected), "{json}");
        }
        for bad in [
            "01", "1.", ".5", "-", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "1 2",
        ] {
            assert!(Value::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_decode_every_escape_and_refuse_what_json_does() {
        let v = Value::parse(br#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#).unwrap();
        assert_eq!(v, Value::Text("a\"b\\c/d\u{8}\u{c}\n\r\té😀".into()));
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
            assert!(
                Value::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn structure_errors_say_where_and_whether_the_text_ended() {
        assert_eq!(
            Value::parse(b"{"),
            Err(ParseError {
                line: 1,
                column: 2,
                eof: true
            })
        );
        assert_eq!(
            Value::parse(b"{\n  \"a\": x}"),
            Err(ParseError {
                line: 2,
                column: 8,
                eof: false
            })
        );
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
            assert!(Value::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(Value::parse(deep.as_bytes()).is_err(), "too deep");
        let fine = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(Value::parse(fine.as_bytes()).is_ok());
        assert_eq!(Value::parse(b" \t\r\n{} \n"), Ok(Value::Object(vec![])));
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
        assert!(Value::parse(json.as_bytes()).is_ok());
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

        /// Whatever serde_json accepts, this parser accepts (and the other way round), and
        /// what it writes serde_json reads back as the same text.
        #[test]
        fn agrees_with_serde_json(bytes in prop::collection::vec(any::<u8>(), 0..64), text in any::<String>()) {
            let ours = Value::parse(&bytes).is_ok();
            let theirs = serde_json::from_slice::<serde_json::Value>(&bytes);
            // serde_json refuses numbers it cannot hold as f64; this parser keeps them as
            // `Float(None)`.
            let out_of_range = theirs.as_ref().is_err_and(|e| e.to_string().contains("out of range"));
            if !out_of_range {
                prop_assert_eq!(ours, theirs.is_ok(), "{:?}", String::from_utf8_lossy(&bytes));
            }
            let written = Object::new().text("t", &text).finish();
            let read: serde_json::Value = serde_json::from_str(&written).unwrap();
            prop_assert_eq!(read["t"].as_str(), Some(text.as_str()));
        }
    }
}
