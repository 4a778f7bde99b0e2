//! The text form, for people: `key = expression`, one binding per line.
//!
//! Inside brackets and parentheses a binding may continue over several lines (as in
//! Python), which keeps long lists readable; `#` starts a comment outside strings.

use std::borrow::Cow;

use super::cursor::Cursor;
use super::{nested, Names, Passed, Piece, Progress};
use crate::error::GraphError;
use crate::graph::GraphBuilder;
use crate::value::Value;

/// Reads `piece` (`source`), with the names its parser has not looked up (a piece
/// read ahead looks none up). A piece of the text form is read as a whole source is:
/// it ends after a line, where the next piece's first binding starts.
pub(super) fn parse<'a>(
    source: &'a str,
    piece: Piece,
    passed: &Passed,
) -> Result<(GraphBuilder, Names<'a>), GraphError> {
    let (mut progress, graph) = Progress::start(piece, passed);
    let mut p = Parser {
        c: Cursor::new(source),
        graph,
        names: Names::new(piece),
    };
    match p.bindings(&mut progress) {
        Ok(()) => Ok((p.graph, p.names)),
        Err(error) => Err(p.names.first_error(&mut p.graph, &p.c, error)),
    }
}

struct Parser<'a> {
    c: Cursor<'a>,
    graph: GraphBuilder,
    names: Names<'a>,
}

impl<'a> Parser<'a> {
    fn bindings(&mut self, progress: &mut Progress) -> Result<(), GraphError> {
        loop {
            self.c.skip_blanks();
            match self.c.peek() {
                None => {
                    return self
                        .names
                        .finish(&mut self.graph)
                        .map_err(|r| r.place(&self.c))
                }
                Some(b'\n') => self.c.pos += 1,
                Some(b'#') => self.skip_comment(),
                Some(_) => {
                    self.binding()?;
                    progress.at(self.c.pos, &mut self.graph);
                }
            }
        }
    }

    fn binding(&mut self) -> Result<(), GraphError> {
        let at = self.c.pos;
        let key = self
            .c
            .identifier()
            .ok_or_else(|| self.c.unexpected("a key name"))?;
        if is_reserved(key) {
            return Err(self
                .c
                .error_at(at, format!("'{key}' is a literal and cannot be a key")));
        }
        self.names
            .define(&mut self.graph, Cow::Borrowed(key))
            .map_err(|r| r.place(&self.c))?;
        self.c.skip_blanks();
        if !self.c.eat(b'=') {
            return Err(self.c.unexpected(&format!("'=' after key '{key}'")));
        }
        self.c.skip_blanks();
        let start = self.graph.arena().position();
        self.expr()?;
        self.c.skip_blanks();
        match self.c.peek() {
            None | Some(b'\n' | b'#') => {}
            Some(_) => return Err(self.c.unexpected("end of line after the expression")),
        }
        self.names
            .end(&mut self.graph, start, at)
            .map_err(|r| r.place(&self.c))
    }

    fn skip_comment(&mut self) {
        let rest = &self.c.src.as_bytes()[self.c.pos..];
        self.c.pos += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    }

    /// Skips blanks, newlines and comments: inside brackets a binding continues.
    fn skip_inside(&mut self) {
        loop {
            self.c.skip_blanks();
            match self.c.peek() {
                Some(b'\n') => self.c.pos += 1,
                Some(b'#') => self.skip_comment(),
                _ => return,
            }
        }
    }

    /// Appends the nodes of the expression that starts here.
    fn expr(&mut self) -> Result<(), GraphError> {
        match self.c.peek() {
            Some(b'[') => {
                self.c.pos += 1;
                self.list(b']')
            }
            Some(b'"') => {
                let text = self.c.string()?;
                self.graph.arena().push_value(Value::str(&text));
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                let number = self.c.number()?;
                self.graph.arena().push_value(number);
                Ok(())
            }
            _ => {
                let Some(name) = self.c.identifier() else {
                    return Err(self.c.unexpected("an expression"));
                };
                let literal = match name {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    "null" => Some(Value::Null),
                    _ => None,
                };
                if let Some(value) = literal {
                    self.graph.arena().push_value(value);
                    return Ok(());
                }
                let after_name = self.c.pos;
                self.c.skip_blanks();
                if self.c.eat(b'(') {
                    let op = self.graph.op(name);
                    self.graph.arena().push_call(op);
                    self.list(b')')
                } else {
                    self.c.pos = after_name;
                    self.names
                        .reference(&mut self.graph, Cow::Borrowed(name))
                        .map_err(|r| r.place(&self.c))
                }
            }
        }
    }

    /// A list node and its comma-separated elements up to `close` (a trailing comma is
    /// allowed); the opening bracket is consumed already.
    fn list(&mut self, close: u8) -> Result<(), GraphError> {
        let at = self.graph.arena().open_list();
        let len = nested(|| self.elements(close))?;
        self.graph.arena().close_list(at, len);
        Ok(())
    }

    fn elements(&mut self, close: u8) -> Result<usize, GraphError> {
        let expected = if close == b']' {
            "',' or ']'"
        } else {
            "',' or ')'"
        };
        let mut len = 0;
        loop {
            self.skip_inside();
            if self.c.eat(close) {
                return Ok(len);
            }
            self.expr()?;
            len += 1;
            self.skip_inside();
            if self.c.eat(close) {
                return Ok(len);
            }
            self.c.expect(b',', expected)?;
        }
    }
}

fn is_reserved(name: &str) -> bool {
    matches!(name, "true" | "false" | "null")
}

#[cfg(test)]
mod tests {
    use crate::error::GraphError;
    use crate::expr::Expr;
    use crate::parse::parse;
    use crate::value::Value;

    fn line_of_error(src: &str) -> (usize, String) {
        match parse(src) {
            Err(GraphError::Syntax { line, message, .. }) => (line, message),
            other => panic!("expected a syntax error for {src:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_lecture_example() {
        let g = parse(
            "# the example from the lecture\nx = add(2, 3)\ny = add(x, 3)  # uses x\n\ntotal = sum([x, y, 10])\n",
        )
        .unwrap();
        let (x, y, total) = (
            g.key("x").unwrap(),
            g.key("y").unwrap(),
            g.key("total").unwrap(),
        );
        assert_eq!(g.dependencies(y), &[x]);
        assert_eq!(g.dependencies(total), &[x, y]);
        assert_eq!(g.outputs(), vec![total]);
    }

    #[test]
    fn literals_strings_and_forward_references() {
        let g = parse("a = b\nb = [\"x # not a comment\", -1.5e2, true, null, f()]\n").unwrap();
        let (a, b) = (g.key("a").unwrap(), g.key("b").unwrap());
        assert_eq!(g.expr(a), Expr::Ref(b));
        match &g.expr(b) {
            Expr::List(items) => {
                assert_eq!(items[0], Expr::Value(Value::str("x # not a comment")));
                assert_eq!(items[1], Expr::Value(Value::Float(-150.0)));
                assert_eq!(items.len(), 5);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bindings_continue_inside_brackets() {
        let g = parse("s = sum([\n  1,  # one\n  2,\n])\n").unwrap();
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        assert_eq!(line_of_error("a = 1\nb = add(1,\n").0, 3);
        assert_eq!(line_of_error("a = 1\n\nb 2\n").0, 3);
        assert_eq!(line_of_error("a = 1 2\n").0, 1);
        assert_eq!(line_of_error("a = 1\na = 2\n").0, 2);
        assert_eq!(line_of_error("true = 1\n").0, 1);
        assert_eq!(line_of_error("= 1\n").0, 1);
        assert_eq!(line_of_error("a = \"open\n").0, 1);
    }

    #[test]
    fn deep_nesting_works() {
        let depth = 5_000;
        let src = format!("a = {}1{}\n", "inc(".repeat(depth), ")".repeat(depth));
        assert_eq!(parse(&src).unwrap().len(), 1);
    }
}
