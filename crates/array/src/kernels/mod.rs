//! What one task does to its chunks.
