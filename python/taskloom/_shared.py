"""Large buffers of pickled objects (a NumPy array's data) pass between the caller and
its workers through shared memory, not through the engine's pipe.

- Pickle protocol 5 hands each contiguous buffer of an object (`PickleBuffer`) to the
  pickler's callback; those of at least `OUT_OF_BAND_BYTES` go out of band: written
  once, side by side, into one file in `/dev/shm` (memory, not disk), and the pickle
  keeps only their places. That write is the one copy an argument or a result makes.
- The reader maps the file privately (copy-on-write: writable, and its writes are its
  own) and unpickles with views of the mapping: NumPy arrays come back viewing it,
  uncopied. The mapping outlives the file's name.
- Such a message is `MAGIC`, the file's path, a newline, then the pickle of the
  buffers' spans and of the in-band pickle. The caller's side of the engine
  (`_core.Pool`, python/src/lib.rs, which spells `MAGIC` too) removes the file once the
  message is done with: an argument's once its payload's outcome is reported (after
  any rerun), a result's once the caller has read it.
- Every file is named after its caller (`taskloom-<caller's pid>-<random>`, workers
  name theirs after their pool's caller too): a caller killed outright cannot remove
  its files, so a pool that starts removes those of callers that are gone (`sweep`).
"""

from __future__ import annotations

import os
import pickle

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Tuple

# Below this a buffer travels in the pickle: a file, a mapping and its page faults
# cost more than copying a few hundred kilobytes twice.
OUT_OF_BAND_BYTES = 1 << 20

# Starts every message whose buffers are in a file; a pickle starts with its PROTO
# opcode (0x80), so the two cannot be confused.
MAGIC = b"\0taskloom-shm\0"

# Buffers start at multiples of this in the file: any element type is aligned.
ALIGN = 64

# Where the files go: memory, where Linux offers it.
SHM = "/dev/shm"

# The caller whose files these are: this process, or a worker's pool's caller (set by
# the worker when it starts).
owner = os.getpid()

# The files a caller owns: its messages' buffers here, and its pools' setup files in
# the temporary directory (`taskloom-pool-<pid>-...`, made by taskloom/_pool.py).
_OWNED = r"taskloom-(?:pool-)?(\d+)-[0-9a-z_]+(?:\.pickle)?"


def pack(data: bytes, buffers: "List[pickle.PickleBuffer]") -> bytes:
    """The message of pickle `data` whose out-of-band `buffers` are written to a file."""
    views = [b.raw() for b in buffers]
    spans = []
    end = 0
    for view in views:
        start = -(-end // ALIGN) * ALIGN
        spans.append((start, view.nbytes))
        end = start + view.nbytes
    path = os.path.join(_directory(), f"taskloom-{owner}-{os.urandom(8).hex()}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, end)
        for (start, _), view in zip(spans, views):
            written = 0
            while written < view.nbytes:
                written += os.pwrite(fd, view[written:], start + written)
    except BaseException:
        os.unlink(path)
        raise
    finally:
        os.close(fd)
    return MAGIC + path.encode() + b"\n" + pickle.dumps((spans, data), 5)


def _directory() -> str:
    if os.path.isdir(SHM):
        return SHM
    import tempfile

    return tempfile.gettempdir()


def sweep() -> None:
    """Removes the files of callers that are gone (killed before they could)."""
    import re
    import tempfile

    owned = re.compile(_OWNED)
    for directory in {_directory(), tempfile.gettempdir()}:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            match = owned.fullmatch(name)
            if match is not None and not _alive(int(match.group(1))):
                try:
                    os.unlink(os.path.join(directory, name))
                except OSError:
                    pass  # removed by another pool meanwhile, or not ours to remove


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


def is_packed(message: bytes) -> bool:
    return message[: len(MAGIC)] == MAGIC


def unpack(message: bytes) -> "Tuple[bytes, List[memoryview]]":
    """The pickle of a packed message and its buffers, views of the file mapped."""
    import mmap

    newline = message.index(b"\n", len(MAGIC))
    path = message[len(MAGIC) : newline].decode()
    spans, data = pickle.loads(memoryview(message)[newline + 1 :])
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        mapped = memoryview(mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY)) if size else memoryview(b"")
    return data, [mapped[start : start + n] for start, n in spans]
