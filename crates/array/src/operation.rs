//! The names of the operations arrays offer, as the CLI and the kernels spell them:
//! one enum per kind, parsed from the command line and carried by name in graphs.

use taskloom_graph::{Expr, OpError, Value};

use crate::error::ArrayError;
use crate::wire::{string, Decode, Encode};

macro_rules! named_ops {
    (
        $(#[$doc:meta])*
        $name:ident, cli $cli:literal, wire $wire:literal {
            $($variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every operation of this kind.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name the kernels and the CLI use.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The operation called `text`; the error lists the names there are.
            pub fn parse(text: &str) -> Result<$name, ArrayError> {
                Self::find(text, $cli).map_err(ArrayError::invalid)
            }

            fn find(text: &str, kind: &str) -> Result<$name, String> {
                Self::ALL.iter().copied().find(|op| op.name() == text).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|op| op.name()).collect();
                    format!(
                        "unknown {kind} op '{text}' (expected one of {})",
                        names.join(", ")
                    )
                })
            }
        }

        impl Encode for $name {
            fn encode(self) -> Expr {
                Expr::Value(Value::str(self.name()))
            }
        }

        impl Decode for $name {
            fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
                Self::find(string(v, i)?, $wire).map_err(OpError::new)
            }
        }
    };
}

named_ops!(
    /// Elementwise functions of one array.
    UnaryOp, cli "map", wire "unary" {
        Neg = "neg", Abs = "abs", Sqrt = "sqrt", Exp = "exp", Log = "log", Square = "square",
    }
);

named_ops!(
    /// Elementwise arithmetic of two arrays (or an array and a scalar), broadcasting.
    BinaryOp, cli "binary", wire "binary" { Add = "add", Sub = "sub", Mul = "mul", Div = "div" }
);

named_ops!(
    /// Elementwise comparisons of two arrays (or an array and a scalar), broadcasting:
    /// bool results.
    CompareOp, cli "compare", wire "comparison" {
        Gt = "gt", Lt = "lt", Ge = "ge", Le = "le", Eq = "eq", Ne = "ne",
    }
);

named_ops!(
    /// Reductions over all elements or along one axis.
    Reduction, cli "reduce", wire "reduction" {
        Sum = "sum", Prod = "prod", Mean = "mean", Min = "min", Max = "max", Std = "std", Var = "var",
        Any = "any", All = "all", Argmin = "argmin", Argmax = "argmax",
    }
);
