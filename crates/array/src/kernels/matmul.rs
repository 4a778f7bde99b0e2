//! (in progress)

use taskloom_graph::Registry;

pub(super) fn register(_registry: &mut Registry) {}
