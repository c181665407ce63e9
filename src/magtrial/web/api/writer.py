"""One writer thread per SQLite database: the API's writes run there, one after another.

SQLite lets one transaction write at a time. Handed to the server's thread pool, concurrent diary
writes would each wait for the file lock in SQLite's busy handler, which sleeps in steps of up to
100 ms: throughput drops and the slowest writes take seconds. Queued on one thread, each write
starts the moment the previous one commits, and the audit chain gets its order from the queue
(Datasette's ``execute_write_fn`` is the model). Reads never wait for it (WAL). On PostgreSQL,
writes run in the ordinary thread pool: row locks and the audit head's lock order them there.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar
from weakref import WeakKeyDictionary

from starlette.concurrency import run_in_threadpool

from magtrial.store.db import Database

P = ParamSpec("P")
T = TypeVar("T")

_writers: WeakKeyDictionary[Database, ThreadPoolExecutor] = WeakKeyDictionary()
_lock = threading.Lock()


def _writer(db: Database) -> ThreadPoolExecutor:
    with _lock:
        executor = _writers.get(db)
        if executor is None:
            executor = _writers[db] = ThreadPoolExecutor(1, thread_name_prefix="magtrial-sqlite-writer")
        return executor


async def write(db: Database, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run the service call ``fn(*args, **kwargs)`` (one transaction) on the database's writer."""
    if not db.is_sqlite:
        return await run_in_threadpool(fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_writer(db), functools.partial(fn, *args, **kwargs))
