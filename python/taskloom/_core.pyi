"""Stubs of the Rust extension module (python/src/lib.rs)."""

from typing import Callable, List, Union

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

def serve_worker(run: Callable[[bytes], bytes]) -> int: ...
