"""Stubs of the Rust extension module (python/src/lib.rs)."""

from typing import Any, Callable, Hashable, Iterable, List, Mapping, Optional, Union

class Pool:
    """The engine's process pool, its workers Python interpreters (`serve_worker`)."""

    def __init__(self, workers: int, program: str, args: List[str]) -> None: ...
    @property
    def workers(self) -> int: ...
    def submit(
        self,
        payloads: List[bytes],
        grouped: bool,
        on_result: Callable[[int, str, Union[bytes, str]], None],
    ) -> None: ...
    def terminate(self) -> None: ...

def serve_worker(
    run: Callable[[bytes], bytes], run_task: Callable[..., Union[bytes, str]]
) -> int: ...

class RunFailed(Exception):
    """A graph's run failed: args are (kind, key, cause)."""

def run_in_process(
    graph: Mapping[Hashable, Any], targets: Iterable[Hashable], workers: Optional[int] = None
) -> List[Any]: ...
def run_in_workers(
    graph: Mapping[Hashable, Any],
    targets: Iterable[Hashable],
    workers: int,
    program: str,
    args: List[str],
    pack: Callable[[Hashable, Any, tuple], bytes],
) -> List[bytes]: ...
def draw(graph: Mapping[Hashable, Any], targets: Iterable[Hashable], labels: List[str]) -> str: ...
