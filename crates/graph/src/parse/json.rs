//! The JSON form: one object mapping keys to expressions.
//!
//! `{"ref": K}` is a reference, `{"op": NAME, "args": [...]}` a task; any other object
//! shape is refused, with the place.

use std::borrow::Cow;

use super::cursor::Cursor;
use super::{nested, Names, Passed, Piece, Progress};
use crate::error::GraphError;
use crate::graph::{BindError, GraphBuilder};
use crate::value::Value;

/// Reads `piece` (`source`), with the names its parser has not looked up (a piece
/// read ahead looks none up).
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
    match p.graph_object(piece, &mut progress) {
        Ok(()) => Ok((p.graph, p.names)),
        Err(error) => Err(p.names.first_error(&mut p.graph, &p.c, error)),
    }
}

struct Parser<'a> {
    c: Cursor<'a>,
    graph: GraphBuilder,
    names: Names<'a>,
}

/// Which of the expression object's fields were given. Names borrow the source unless
/// they hold escapes, so a task or a reference costs no allocation of its own.
#[derive(Default)]
struct Fields<'a> {
    reference: Option<Cow<'a, str>>,
    op: bool,
    args: bool,
}

impl<'a> Parser<'a> {
    /// The whole source, the graph object; or a piece of it, which starts with a
    /// binding unless it is the first and ends where a binding starts unless it is
    /// the last.
    fn graph_object(&mut self, piece: Piece, progress: &mut Progress) -> Result<(), GraphError> {
        let p = self;
        let mut open = true;
        if piece.first {
            p.skip_ws();
            p.c.expect(b'{', "'{'")?;
            p.skip_ws();
            open = !p.c.eat(b'}');
        }
        if open {
            loop {
                p.skip_ws();
                if !piece.last && p.c.peek().is_none() {
                    // The next piece's first binding starts here.
                    return p.names.finish(&mut p.graph).map_err(|r| r.place(&p.c));
                }
                let at = p.c.pos;
                if p.c.peek() != Some(b'"') {
                    return Err(p.c.unexpected("a key (a string)"));
                }
                let key = p.c.string()?;
                if key.is_empty() {
                    return Err(p.c.error_at(at, BindError::EmptyKey.to_string()));
                }
                p.names
                    .define(&mut p.graph, key)
                    .map_err(|r| r.place(&p.c))?;
                p.skip_ws();
                p.c.expect(b':', "':'")?;
                p.skip_ws();
                let start = p.graph.arena().position();
                p.expr()?;
                p.names
                    .end(&mut p.graph, start, at)
                    .map_err(|r| r.place(&p.c))?;
                progress.at(p.c.pos, &mut p.graph);
                p.skip_ws();
                if p.c.eat(b'}') {
                    break;
                }
                p.c.expect(b',', "',' or '}'")?;
            }
        }
        if !piece.last {
            return Err(p.c.error("the graph object ends before the next piece"));
        }
        p.skip_ws();
        if p.c.peek().is_some() {
            return Err(p.c.unexpected("end of file after the graph object"));
        }
        p.names.finish(&mut p.graph).map_err(|r| r.place(&p.c))
    }

    fn skip_ws(&mut self) {
        while matches!(self.c.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.c.pos += 1;
        }
    }

    /// Appends the nodes of the expression that starts here.
    fn expr(&mut self) -> Result<(), GraphError> {
        let value = match self.c.peek() {
            Some(b'{') => return nested(|| self.object()),
            Some(b'[') => return nested(|| self.array()),
            Some(b'"') => Value::str(&self.c.string()?),
            Some(b'-' | b'0'..=b'9') => self.c.number()?,
            Some(b't' | b'f' | b'n') => {
                let at = self.c.pos;
                match self.c.identifier() {
                    Some("true") => Value::Bool(true),
                    Some("false") => Value::Bool(false),
                    Some("null") => Value::Null,
                    _ => return Err(self.c.error_at(at, "expected a value")),
                }
            }
            _ => return Err(self.c.unexpected("a value")),
        };
        self.graph.arena().push_value(value);
        Ok(())
    }

    /// A list node and its elements.
    fn array(&mut self) -> Result<(), GraphError> {
        self.c.expect(b'[', "'['")?;
        let at = self.graph.arena().open_list();
        let mut len = 0;
        self.skip_ws();
        if !self.c.eat(b']') {
            loop {
                self.skip_ws();
                self.expr()?;
                len += 1;
                self.skip_ws();
                if self.c.eat(b']') {
                    break;
                }
                self.c.expect(b',', "',' or ']'")?;
            }
        }
        self.graph.arena().close_list(at, len);
        Ok(())
    }

    /// A reference or a task. The fields may come in any order, so a call's node is
    /// put before its argument list once the op's name is known.
    fn object(&mut self) -> Result<(), GraphError> {
        let open = self.c.pos;
        let start = self.graph.arena().position();
        self.c.expect(b'{', "'{'")?;
        let mut fields = Fields::default();
        self.skip_ws();
        if !self.c.eat(b'}') {
            loop {
                self.skip_ws();
                let at = self.c.pos;
                if self.c.peek() != Some(b'"') {
                    return Err(self.c.unexpected("a field name (a string)"));
                }
                let name = self.c.string()?;
                self.skip_ws();
                self.c.expect(b':', "':'")?;
                self.skip_ws();
                let duplicate = match &*name {
                    "ref" => fields.reference.replace(self.name_field("ref")?).is_some(),
                    "op" => {
                        let op = self.name_field("op")?;
                        let id = self.graph.op(&op);
                        if fields.args {
                            self.graph.arena().insert_call(start, id);
                            self.names.inserted(start);
                        } else {
                            self.graph.arena().push_call(id);
                        }
                        std::mem::replace(&mut fields.op, true)
                    }
                    "args" => {
                        if self.c.peek() != Some(b'[') {
                            return Err(self.c.unexpected("a list of arguments after \"args\""));
                        }
                        let seen = std::mem::replace(&mut fields.args, true);
                        self.array()?;
                        seen
                    }
                    other => {
                        return Err(self.c.error_at(
                            at,
                            format!(
                                "unexpected field \"{other}\" in an expression object {SHAPES}"
                            ),
                        ))
                    }
                };
                if duplicate {
                    return Err(self.c.error_at(at, format!("field \"{name}\" given twice")));
                }
                self.skip_ws();
                if self.c.eat(b'}') {
                    break;
                }
                self.c.expect(b',', "',' or '}'")?;
            }
        }
        match fields {
            Fields {
                reference: Some(key),
                op: false,
                args: false,
            } => self
                .names
                .reference(&mut self.graph, key)
                .map_err(|r| r.place(&self.c))?,
            Fields {
                reference: None,
                op: true,
                args,
            } => {
                if !args {
                    let at = self.graph.arena().open_list();
                    self.graph.arena().close_list(at, 0);
                }
            }
            _ => {
                return Err(self
                    .c
                    .error_at(open, format!("invalid expression object {SHAPES}")))
            }
        }
        Ok(())
    }

    /// The string value of a `ref` or `op` field.
    fn name_field(&mut self, field: &str) -> Result<Cow<'a, str>, GraphError> {
        if self.c.peek() != Some(b'"') {
            return Err(self.c.unexpected(&format!("a string after \"{field}\"")));
        }
        let at = self.c.pos;
        let name = self.c.string()?;
        if name.is_empty() {
            return Err(self.c.error_at(at, format!("\"{field}\" cannot be empty")));
        }
        Ok(name)
    }
}

const SHAPES: &str = "(expected {\"ref\": KEY} or {\"op\": NAME, \"args\": [...]})";

#[cfg(test)]
mod tests {
    use crate::error::GraphError;
    use crate::expr::Expr;
    use crate::parse::parse;
    use crate::value::Value;

    fn syntax_error(src: &str) -> (usize, usize, String) {
        match parse(src) {
            Err(GraphError::Syntax {
                line,
                column,
                message,
            }) => (line, column, message),
            other => panic!("expected a syntax error for {src}, got {other:?}"),
        }
    }

    #[test]
    fn parses_every_expression_kind() {
        let g = parse(
            r#"{"a": 1, "b": {"ref": "a"}, "c": {"op": "add", "args": [{"ref": "b"}, -2.5]},
                "d": [true, false, null, "s"], "e": {"args": [], "op": "list"}, "f": {"op": "range"}}"#,
        )
        .unwrap();
        assert_eq!(g.len(), 6);
        let (a, b) = (g.key("a").unwrap(), g.key("b").unwrap());
        assert_eq!(g.expr(a), Expr::Value(Value::Int(1)));
        assert_eq!(g.expr(b), Expr::Ref(a));
        assert_eq!(g.describe(g.key("c").unwrap()), "add");
        assert_eq!(g.dependencies(g.key("c").unwrap()), &[b]);
        assert_eq!(g.describe(g.key("f").unwrap()), "range");
    }

    #[test]
    fn refuses_objects_of_any_other_shape() {
        for bad in [
            r#"{"a": {}}"#,
            r#"{"a": {"args": [1]}}"#,
            r#"{"a": {"op": "inc", "args": [1], "x": 1}}"#,
            r#"{"a": {"ref": 1}}"#,
            r#"{"a": {"ref": "b", "op": "inc"}}"#,
            r#"{"a": {"op": "inc", "op": "dec"}}"#,
            r#"{"a": {"op": "inc", "args": 1}}"#,
        ] {
            syntax_error(bad);
        }
    }

    #[test]
    fn refuses_empty_and_duplicate_keys_with_their_place() {
        let (line, column, message) = syntax_error("{\"a\": 1,\n \"a\": 2}");
        assert_eq!((line, column), (2, 2));
        assert!(message.contains("'a' is defined twice"), "{message}");
        let (_, _, message) = syntax_error(r#"{"": 1}"#);
        assert!(message.contains("empty key"), "{message}");
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let (line, column, _) = syntax_error("{\n  \"a\": [1, 2,\n}");
        assert_eq!((line, column), (3, 1));
        let (_, _, message) = syntax_error(r#"{"a": 99999999999999999999}"#);
        assert!(message.contains("64-bit"), "{message}");
        syntax_error(r#"{"a": 1} x"#);
        syntax_error(r#"{"a": 1"#);
    }

    #[test]
    fn a_task_may_give_its_arguments_before_its_op() {
        let g =
            parse(r#"{"a": 1, "b": {"args": [{"ref": "a"}, [{"ref": "a"}]], "op": "f"}}"#).unwrap();
        let (a, b) = (g.key("a").unwrap(), g.key("b").unwrap());
        assert_eq!(g.describe(b), "f");
        assert_eq!(g.dependencies(b), &[a]);
        match &g.expr(b) {
            Expr::Call { args, .. } => assert_eq!(
                args.to_vec(),
                [Expr::Ref(a), Expr::List(vec![Expr::Ref(a)].into())]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deep_nesting_works() {
        let depth = 5_000;
        let src = format!(
            "{{\"a\": {}1{}}}",
            r#"{"op": "inc", "args": ["#.repeat(depth),
            "]}".repeat(depth)
        );
        let g = parse(&src).unwrap();
        assert_eq!(g.describe(g.key("a").unwrap()), "inc");
    }
}
