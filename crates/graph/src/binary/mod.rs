//! The binary graph form (`.tlg`): for programs that generate huge graphs, a file that
//! loads at about the speed of copying its bytes. The text and JSON forms remain the
//! contract; this one holds exactly the graph they hold (names, ids, expressions, ops).
//!
//! - Stored as a `Graph` holds itself: key names and op names each in one buffer with
//!   their ends, every expression as the arena's 8-byte nodes with references already
//!   resolved to key ids, and the literals that do not fit a node in a compact tagged
//!   encoding. Loading checks and copies arrays: it parses no text and looks up no
//!   reference by name.
//! - Loading trusts nothing: magic, version, every length against the bytes there are,
//!   every index against its table, each key's nodes one whole expression, names UTF-8,
//!   non-empty and distinct (the one hashing loading does, into the table `Graph::key`
//!   looks names up in). An error names the byte offset of the fault. A graph whose
//!   references all point to earlier keys (as a generator writes them) is known to be
//!   acyclic at once; otherwise `validate` finds a cycle, as for the other forms.
//! - Little-endian, fixed-width and versioned: a reader refuses a version it does not
//!   know rather than guess.
//!
//! Layout, every integer a little-endian `u32` unless said:
//!
//! | section | content |
//! |---|---|
//! | header | `MAGIC` (8 bytes), `VERSION`, then the counts: keys, nodes, literals, ops, key-name bytes, op-name bytes, literal bytes |
//! | ops | the end of each op's name in the op names (`ops` of them), then the names |
//! | keys | the end of each key's name (`keys` of them), then the names, in id order |
//! | expressions | the end of each key's nodes (`keys` of them), then the nodes: 8 bytes each, a `node` tag byte, three zero bytes and a `u32` payload |
//! | literals | `literals` values, each a `value` tag byte and its payload |

mod read;
mod write;

pub use read::{is_binary, read};

/// The first bytes of every binary graph: a byte that no UTF-8 text starts with, so
/// that no text or JSON file is ever taken for one, then `TLG` and the line ends and
/// end-of-file byte that a transfer in text mode would mangle (as PNG's magic does).
pub const MAGIC: [u8; 8] = *b"\x89TLG\r\n\x1a\n";

/// The bytes of `MAGIC` that choose the binary form: a file that starts with them and
/// then goes wrong is a damaged binary graph, and is reported as one.
const PREFIX: usize = 4;

/// The layout this code writes and reads.
pub const VERSION: u32 = 1;

/// The header's length: the magic, the version and seven counts.
const HEADER: usize = 8 + 4 * 8;

/// The length of a node record.
const NODE: usize = 8;

/// Node tags: a record's first byte.
mod node {
    pub const NULL: u8 = 0;
    pub const BOOL: u8 = 1;
    pub const INT: u8 = 2;
    pub const LITERAL: u8 = 3;
    pub const REF: u8 = 4;
    pub const LIST: u8 = 5;
    pub const CALL: u8 = 6;
}

/// Literal tags: a value's first byte. Integers and floats take 8 bytes; strings and
/// byte blocks a `u32` length and their bytes; lists a `u32` count and their values.
mod value {
    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const INT: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const STR: u8 = 5;
    pub const LIST: u8 = 6;
    pub const BYTES: u8 = 7;
}
