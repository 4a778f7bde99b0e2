//! JSON spaced as Python's `json.dumps` writes it by default, `{"a": [1, 2]}`: the
//! form the documentation shows for `array info`. serde_json's compact form differs
//! only in the spaces after `,` and `:`.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// `value` as one line of spaced JSON.
pub fn spaced(value: &impl Serialize) -> String {
    let mut out = Vec::new();
    value
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, Spaced,
        ))
        .expect("plain values serialise into memory");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// serde_json's compact formatter with a space after each separator.
struct Spaced;

impl Formatter for Spaced {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separate(writer, first)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separate(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

fn separate<W: ?Sized + io::Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spaced_like_python() {
        let value = serde_json::json!({"a": [1, 2], "b": {"c": "d"}, "e": []});
        assert_eq!(
            super::spaced(&value),
            r#"{"a": [1, 2], "b": {"c": "d"}, "e": []}"#
        );
    }
}
