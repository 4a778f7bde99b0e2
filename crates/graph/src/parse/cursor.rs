//! A position in the source and the tokens both forms share: strings, numbers, names.

use std::borrow::Cow;

use crate::error::GraphError;
use crate::value::Value;

/// Reads bytes of a source, knowing how to turn a position into line and column.
pub(super) struct Cursor<'a> {
    pub src: &'a str,
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a str) -> Self {
        Cursor { src, pos: 0 }
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    /// Consumes `byte` if it is next.
    #[inline]
    pub fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `byte` or fails with "expected WHAT".
    pub fn expect(&mut self, byte: u8, what: &str) -> Result<(), GraphError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    /// A syntax error at the current position.
    pub fn error(&self, message: impl Into<String>) -> GraphError {
        self.error_at(self.pos, message)
    }

    /// A syntax error at byte `pos`, with 1-based line and column (in characters).
    pub fn error_at(&self, pos: usize, message: impl Into<String>) -> GraphError {
        let before = &self.src[..floor_char_boundary(self.src, pos)];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        GraphError::Syntax {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            message: message.into(),
        }
    }

    /// "expected WHAT, found X" at the current position.
    pub fn unexpected(&self, what: &str) -> GraphError {
        let found = match self.src[self.pos..].chars().next() {
            None => "end of file".to_string(),
            Some('\n') => "end of line".to_string(),
            Some(c) => format!("'{c}'"),
        };
        self.error(format!("expected {what}, found {found}"))
    }

    /// Skips spaces, tabs and carriage returns (not newlines).
    #[inline]
    pub fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.pos += 1;
        }
    }

    /// An identifier `[A-Za-z_][A-Za-z0-9_]*`, if one starts here.
    #[inline]
    pub fn identifier(&mut self) -> Option<&'a str> {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        match bytes.get(start) {
            Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {}
            _ => return None,
        }
        let mut end = start + 1;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        self.pos = end;
        Some(&self.src[start..end])
    }

    /// A JSON string literal; the cursor is at its opening quote.
    pub fn string(&mut self) -> Result<Cow<'a, str>, GraphError> {
        let open = self.pos;
        self.expect(b'"', "'\"'")?;
        let bytes = self.src.as_bytes();
        let start = self.pos;
        // Fast path: no escapes, borrow the source.
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.src[start..self.pos - 1]));
                }
                b'\\' => break,
                b'\n' => return Err(self.error_at(open, "string is not closed on its line")),
                0x00..=0x1f => return Err(self.error("control character in string")),
                _ => self.pos += 1,
            }
        }
        let mut out = String::from(&self.src[start..self.pos]);
        loop {
            match self.peek() {
                None | Some(b'\n') => {
                    return Err(self.error_at(open, "string is not closed on its line"))
                }
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(0x00..=0x1f) => return Err(self.error("control character in string")),
                Some(_) => {
                    let c = self.src[self.pos..].chars().next().unwrap_or('\u{fffd}');
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), GraphError> {
        let at = self.pos - 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if !(self.eat(b'\\') && self.eat(b'u')) {
                        return Err(self.error_at(at, "unpaired surrogate in \\u escape"));
                    }
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.error_at(at, "unpaired surrogate in \\u escape"));
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                let c = char::from_u32(code)
                    .ok_or_else(|| self.error_at(at, "unpaired surrogate in \\u escape"))?;
                out.push(c);
                return Ok(());
            }
            _ => return Err(self.error_at(at, "invalid escape in string")),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, GraphError> {
        let digits = self.src.get(self.pos..self.pos + 4);
        match digits.and_then(|d| {
            u32::from_str_radix(d, 16)
                .ok()
                .filter(|_| !d.starts_with('+'))
        }) {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => Err(self.error("expected four hex digits after \\u")),
        }
    }

    /// A JSON number: an integer (64-bit) unless it has a fraction or an exponent.
    pub fn number(&mut self) -> Result<Value, GraphError> {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let digits = |c: &mut Self| {
            let from = c.pos;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.pos += 1;
            }
            c.pos - from
        };
        self.eat(b'-');
        let int_start = self.pos;
        let int_digits = digits(self);
        if int_digits == 0 {
            return Err(self.unexpected("a digit"));
        }
        if int_digits > 1 && bytes[int_start] == b'0' {
            return Err(self.error_at(int_start, "numbers cannot have leading zeros"));
        }
        let mut is_float = false;
        if self.eat(b'.') {
            is_float = true;
            if digits(self) == 0 {
                return Err(self.unexpected("a digit after '.'"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            is_float = true;
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if digits(self) == 0 {
                return Err(self.unexpected("a digit in the exponent"));
            }
        }
        let text = &self.src[start..self.pos];
        if is_float {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Value::Float(f)),
                _ => Err(self.error_at(start, format!("number {text} is out of range"))),
            }
        } else if int_digits <= MAX_EXACT_DIGITS {
            // Most integers are short: summed digit by digit, with no overflow check
            // needed, instead of through the general parser.
            let magnitude = bytes[int_start..self.pos]
                .iter()
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            Ok(Value::Int(if int_start > start {
                -magnitude
            } else {
                magnitude
            }))
        } else {
            text.parse::<i64>().map(Value::Int).map_err(|_| {
                self.error_at(start, format!("integer {text} is outside the 64-bit range"))
            })
        }
    }
}

/// The most decimal digits whose value always fits in an `i64` (10^18 - 1 does).
const MAX_EXACT_DIGITS: usize = 18;

fn floor_char_boundary(s: &str, mut pos: usize) -> usize {
    pos = pos.min(s.len());
    while !s.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(src: &str) -> Result<Value, GraphError> {
        Cursor::new(src).number()
    }

    fn string(src: &str) -> Result<String, GraphError> {
        Cursor::new(src).string().map(Cow::into_owned)
    }

    #[test]
    fn numbers_follow_json_and_keep_ints_64_bit() {
        assert_eq!(number("3"), Ok(Value::Int(3)));
        assert_eq!(number("-2.5"), Ok(Value::Float(-2.5)));
        assert_eq!(number("1e3"), Ok(Value::Float(1000.0)));
        assert_eq!(number("-9223372036854775808"), Ok(Value::Int(i64::MIN)));
        assert_eq!(number("-0"), Ok(Value::Int(0)));
        assert_eq!(number("-120"), Ok(Value::Int(-120)));
        assert_eq!(
            number("999999999999999999"),
            Ok(Value::Int(999_999_999_999_999_999))
        );
        assert_eq!(
            number("-1234567890123456789"),
            Ok(Value::Int(-1_234_567_890_123_456_789))
        );
        assert!(number("9223372036854775808").is_err());
        assert!(number("01").is_err());
        assert!(number("1.").is_err());
        assert!(number("1e999").is_err());
    }

    #[test]
    fn strings_decode_escapes_including_surrogate_pairs() {
        assert_eq!(string(r#""plain""#).unwrap(), "plain");
        assert_eq!(
            string(r#""a\"b\n\u00e9\ud83d\ude00""#).unwrap(),
            "a\"b\né😀"
        );
        assert!(string(r#""\ud83d""#).is_err());
        assert!(string(r#""\x""#).is_err());
        assert!(string("\"open").is_err());
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let c = Cursor::new("ab\ncdé f");
        assert_eq!(
            c.error_at(7, "x"),
            GraphError::Syntax {
                line: 2,
                column: 4,
                message: "x".into()
            }
        );
    }
}
