//! The kernels and the store as named ops: what array graphs call, on any executor.
//!
//! The registry is filled from one list of op types (`every_op!`); each type brings
//! its name, how its arguments are read and its kernel (see `wire`). The list says
//! which ops are pure (kernels: the result depends on the arguments alone, so a
//! checkpoint may keep it) and which are effects (the store, scratch files, random
//! fills, and `after`, which orders effects).

use std::sync::OnceLock;

use taskloom_graph::ops::Purity;
use taskloom_graph::{Registry, Value};

use crate::kernels::elementwise::{AsType, Binary, Compare, Scale, Unary, Where};
use crate::kernels::fill::{Arange, Full, Random};
use crate::kernels::fused::{FusedBlock, FusedPartial};
use crate::kernels::layout::{Concat, Slice, Transpose};
use crate::kernels::matmul::Matmul;
use crate::kernels::reduce::arg::ArgPartial;
use crate::kernels::reduce::{Combine, Finish, Partial};
use crate::kernels::scan::Cumsum;
use crate::kernels::sort::{memory, Gather, Partition, ReadSorted, Samples, Sort, Splitters};
use crate::kernels::topk::TopK;
use crate::scratch::Scratch;
use crate::store::ops::{Read, ReadPartial, ReadRegion, Write};
use crate::wire::{array_op, ArrayOp};

array_op! {
    /// `array.after(first, others...)`: `first`, once every other argument is
    /// computed: how a task waits for others whose results it does not use (files
    /// they wrote, say).
    pub(crate) struct After<V = Value> = "array.after" {
        first: V;
        rest others: V, at least 0
    }
    fn run(self) -> OpResult {
        Ok(self.first)
    }
}

/// The version of every kernel's results: raised when a kernel comes to compute
/// something else, so that checkpoints made before do not give the old results.
/// (2: reductions and int32 products give NumPy's dtypes.)
const KERNEL_VERSION: u32 = 2;

macro_rules! every_op {
    (pure: [$($pure:ty),+ $(,)?], effects: [$($effect:ty),+ $(,)?] $(,)?) => {
        /// Adds every `array.*` op to `registry`.
        pub fn register(registry: &mut Registry) {
            $(add::<$pure>(registry, Purity::Pure { version: KERNEL_VERSION });)+
            $(add::<$effect>(registry, Purity::Effect);)+
        }

        /// The name of every op, as registered, and whether it is pure.
        #[cfg(test)]
        const NAMES: &[(&str, bool)] = &[
            $((<$pure as ArrayOp>::NAME, true),)+
            $((<$effect as ArrayOp>::NAME, false)),+
        ];
    };
}

every_op! {
    pure: [
        Full, Arange, Unary, Binary, Scale, AsType, Compare, Where, Transpose, Slice, Concat,
        Partial, ArgPartial, FusedPartial, FusedBlock, Combine, Finish, Cumsum, Matmul, TopK, Sort, Samples, Splitters,
        memory::Splitters, memory::Partition, memory::Gather, memory::Read,
    ],
    effects: [
        Random, Partition, Gather, ReadSorted, Scratch, Read, ReadRegion, ReadPartial, Write, After,
    ],
}

/// Registers `Op` under its name, with its purity: decoded from the task's arguments,
/// then run.
fn add<Op: ArrayOp>(registry: &mut Registry, purity: Purity) {
    let f = |args: &[Value]| Op::decode(args)?.run();
    match purity {
        Purity::Pure { version } => registry.register_pure(Op::NAME, version, f),
        Purity::Effect => registry.register(Op::NAME, f),
    };
}

/// A registry of just the `array.*` ops, built once.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = Registry::empty();
        register(&mut registry);
        registry
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_has_its_own_array_name() {
        assert_eq!(
            registry().names().len(),
            NAMES.len(),
            "a name is listed twice"
        );
        for &(name, pure) in NAMES {
            assert!(name.starts_with("array."), "{name}");
            assert!(registry().get(name).is_some(), "{name}");
            assert_eq!(
                registry().purity(name).map(Purity::is_pure),
                Some(pure),
                "{name}"
            );
        }
    }
}
