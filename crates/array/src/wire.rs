//! An array op as a graph carries it: a name and a list of arguments, typed at both
//! ends.
//!
//! - Each op is one struct, declared with `array_op!` next to its kernel. The order
//!   of its fields is the order of its arguments and its name is written once, so the
//!   call lowering builds (`encode`) and the arguments the kernel reads back
//!   (`ArrayOp::decode`) come from one declaration: a renamed op or a reordered
//!   argument fails to compile rather than at run time.
//! - Arguments other tasks compute are the struct's type parameters: `Expr` while a
//!   graph is built, the decoded type (the parameter's default) when it runs. Arguments
//!   known while building (shapes, flags, dtypes, op names) have one type at both ends.
//! - Names, not functions, stay on the wire, so a graph is data: any process holding
//!   the registry (`ops`) can run any of its tasks.

use std::path::PathBuf;
use std::sync::Arc;

use taskloom_graph::ops::expect_arity;
use taskloom_graph::{Chunk, DType, Expr, OpError, OpResult, Value};

/// One op of the array registry, as its kernel receives it.
pub(crate) trait ArrayOp: Sized {
    /// The name graphs call it by, e.g. `array.partial`.
    const NAME: &'static str;
    /// The op's arguments read out of evaluated values; errors name the argument.
    fn decode(args: &[Value]) -> Result<Self, OpError>;
    /// Runs the kernel.
    fn run(self) -> OpResult;
}

/// An argument as lowering writes it into a call.
pub(crate) trait Encode {
    fn encode(self) -> Expr;
}

/// An argument as a kernel reads it back.
pub(crate) trait Decode: Sized {
    /// Argument `i` (counted from 0, named from 1 in errors) out of its value.
    fn decode(v: &Value, i: usize) -> Result<Self, OpError>;
}

/// Declares an op: its struct, its wire name, its arguments in order and its kernel.
///
/// ```text
/// array_op! {
///     /// doc
///     pub(crate) struct Name<C = Arc<Chunk>> = "array.name" {
///         field: Type, ...
///         ; optional field: Type = default      (a last argument callers may omit)
///         ; rest field: Type, at least N        (any number of last arguments)
///     }
///     fn run(self) -> OpResult { ... }
/// }
/// ```
macro_rules! array_op {
    (
        $(#[$doc:meta])*
        $vis:vis struct $name:ident $(<$($param:ident = $default_type:ty),+>)? = $wire:literal {
            $($field:ident: $ty:ty),+ $(,)?
            $(; optional $optional:ident: $optional_ty:ty = $default:expr)?
            $(; rest $rest:ident: $rest_ty:ty, at least $min:literal)?
        }
        fn run($self:ident) -> OpResult $run:block
    ) => {
        $(#[$doc])*
        $vis struct $name $(<$($param = $default_type),+>)? {
            $(pub(crate) $field: $ty,)+
            $(pub(crate) $optional: $optional_ty,)?
            $(pub(crate) $rest: Vec<$rest_ty>,)?
        }

        impl $(<$($param),+>)? $name $(<$($param),+>)?
        where
            $($ty: $crate::wire::Encode,)+
            $($optional_ty: $crate::wire::Encode,)?
            $($rest_ty: $crate::wire::Encode,)?
        {
            /// The call of this op on these arguments.
            pub(crate) fn encode(
                self,
                builder: &mut taskloom_graph::GraphBuilder,
            ) -> taskloom_graph::Expr {
                let args = [$($crate::wire::Encode::encode(self.$field)),+]
                    .into_iter()
                    $(.chain([$crate::wire::Encode::encode(self.$optional)]))?
                    $(.chain(self.$rest.into_iter().map($crate::wire::Encode::encode)))?
                    .collect();
                let op = builder.op(<$name as $crate::wire::ArrayOp>::NAME);
                taskloom_graph::Expr::call(op, args)
            }
        }

        impl $crate::wire::ArrayOp for $name {
            const NAME: &'static str = $wire;

            fn decode(args: &[taskloom_graph::Value]) -> Result<Self, taskloom_graph::OpError> {
                let fixed = [$(stringify!($field)),+].len();
                let optional: &[&str] = &[$(stringify!($optional))?];
                let rest: &[usize] = &[$($min)?];
                $crate::wire::check_arity(args, fixed, optional.len(), rest.first().copied())?;
                let mut each = args.iter().enumerate();
                Ok(Self {
                    $($field: {
                        let (i, v) = each.next().expect("the arity is checked");
                        $crate::wire::Decode::decode(v, i)?
                    },)+
                    $($optional: match each.next() {
                        Some((i, v)) => $crate::wire::Decode::decode(v, i)?,
                        None => $default,
                    },)?
                    $($rest: each
                        .map(|(i, v)| $crate::wire::Decode::decode(v, i))
                        .collect::<Result<_, _>>()?,)?
                })
            }

            fn run($self) -> taskloom_graph::OpResult $run
        }
    };
}
pub(crate) use array_op;

/// Fails unless there are `fixed` arguments, plus up to `optional` more, or plus at
/// least `rest` more.
pub(crate) fn check_arity(
    args: &[Value],
    fixed: usize,
    optional: usize,
    rest: Option<usize>,
) -> Result<(), OpError> {
    match rest {
        Some(min) => expect_arity(args, fixed + min, usize::MAX),
        None => expect_arity(args, fixed, fixed + optional),
    }
}

/// The error for argument `i` not being what the op takes.
pub(crate) fn wrong(i: usize, want: &str, got: &Value) -> OpError {
    OpError::new(format!(
        "argument {} must be {want}, got {}",
        i + 1,
        got.type_name()
    ))
}

/// Argument `i` as a string.
pub(crate) fn string(v: &Value, i: usize) -> Result<&str, OpError> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(wrong(i, "a string", other)),
    }
}

/// A value computed by another task: any expression while building.
impl Encode for Expr {
    fn encode(self) -> Expr {
        self
    }
}

/// Computed values of several arguments, as one list argument.
impl Encode for Vec<Expr> {
    fn encode(self) -> Expr {
        Expr::List(self.into())
    }
}

/// An absent value is `null` on the wire.
impl<T: Encode> Encode for Option<T> {
    fn encode(self) -> Expr {
        match self {
            Some(v) => v.encode(),
            None => Expr::Value(Value::Null),
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        match v {
            Value::Null => Ok(None),
            _ => T::decode(v, i).map(Some),
        }
    }
}

/// Any value (a reduction state, a result only waited for).
impl Decode for Value {
    fn decode(v: &Value, _: usize) -> Result<Self, OpError> {
        Ok(v.clone())
    }
}

impl Decode for Arc<Chunk> {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        match v {
            Value::Chunk(c) => Ok(Arc::clone(c)),
            other => Err(wrong(i, "an array chunk", other)),
        }
    }
}

/// Chunks as one list argument.
impl Decode for Vec<Arc<Chunk>> {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        let Value::List(items) = v else {
            return Err(wrong(i, "a list of array chunks", v));
        };
        items
            .iter()
            .enumerate()
            .map(|(k, item)| match item {
                Value::Chunk(c) => Ok(Arc::clone(c)),
                other => Err(OpError::new(format!(
                    "part {k} must be an array chunk, got {}",
                    other.type_name()
                ))),
            })
            .collect()
    }
}

/// Values the wire carries as themselves: an int (a seed), a bool (a flag).
macro_rules! plain {
    ($($t:ty: $variant:ident, $want:literal;)+) => {$(
        impl Encode for $t {
            fn encode(self) -> Expr {
                Expr::Value(Value::$variant(self))
            }
        }

        impl Decode for $t {
            fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
                match v {
                    Value::$variant(x) => Ok(*x),
                    other => Err(wrong(i, $want, other)),
                }
            }
        }
    )+};
}

plain! {
    i64: Int, "an int";
    bool: Bool, "a bool";
}

/// A non-negative int: a count, an index, a size.
impl Encode for usize {
    fn encode(self) -> Expr {
        Expr::Value(Value::Int(self as i64))
    }
}

impl Decode for usize {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        let n = i64::decode(v, i)?;
        usize::try_from(n)
            .map_err(|_| OpError::new(format!("argument {} must not be negative, got {n}", i + 1)))
    }
}

/// A list of non-negative ints: a shape, a block index, a start.
impl Encode for Vec<usize> {
    fn encode(self) -> Expr {
        Expr::Value(Value::list(self.into_iter().map(|n| Value::Int(n as i64))))
    }
}

impl Decode for Vec<usize> {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        let Value::List(items) = v else {
            return Err(wrong(i, "a list of ints", v));
        };
        items
            .iter()
            .map(|item| match item {
                Value::Int(n) if *n >= 0 => Ok(*n as usize),
                other => Err(wrong(i, "a list of non-negative ints", other)),
            })
            .collect()
    }
}

/// A path, as a string.
impl Encode for PathBuf {
    fn encode(self) -> Expr {
        Expr::Value(Value::str(&self.to_string_lossy()))
    }
}

impl Decode for PathBuf {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        string(v, i).map(PathBuf::from)
    }
}

/// An element type, by name.
impl Encode for DType {
    fn encode(self) -> Expr {
        Expr::Value(Value::str(self.name()))
    }
}

impl Decode for DType {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        DType::parse(string(v, i)?).map_err(OpError::new)
    }
}
