//! The names of the operations arrays offer, as the CLI and the kernels spell them.

use crate::error::ArrayError;

macro_rules! named_ops {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
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
                Self::ALL.iter().copied().find(|op| op.name() == text).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|op| op.name()).collect();
                    ArrayError::invalid(format!(
                        "unknown {} op '{text}' (expected one of {})",
                        $what,
                        names.join(", ")
                    ))
                })
            }
        }
    };
}

named_ops!(
    /// Elementwise functions of one array.
    UnaryOp, "map" { Neg = "neg", Abs = "abs", Sqrt = "sqrt", Exp = "exp", Log = "log", Square = "square" }
);

named_ops!(
    /// Elementwise arithmetic of two arrays (or an array and a scalar), broadcasting.
    BinaryOp, "binary" { Add = "add", Sub = "sub", Mul = "mul", Div = "div" }
);

named_ops!(
    /// Reductions over all elements or along one axis.
    Reduction, "reduce" {
        Sum = "sum", Prod = "prod", Mean = "mean", Min = "min", Max = "max", Std = "std", Var = "var",
    }
);
