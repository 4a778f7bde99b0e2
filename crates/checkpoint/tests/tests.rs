//! The checkpoint crate through its public API: digests name computations, the store
//! keeps entries whole or not at all, and a resumed graph reads what is stored.

mod digests;
mod resume;
mod store;
