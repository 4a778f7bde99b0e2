mod digests;
mod store;
