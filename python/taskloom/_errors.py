"""The errors taskloom adds to those of `multiprocessing` and `concurrent.futures`."""


class WorkerDiedError(RuntimeError):
    """The worker process running the task died (a segfault, `os._exit`, the OOM killer,
    a signal). Only that task fails: the pool starts a new worker and goes on."""


class PoolTerminatedError(RuntimeError):
    """The pool was terminated (or its executor shut down at once) before the task
    finished."""
