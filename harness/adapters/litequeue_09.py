"""litequeue 0.9 (PyPI) under the harness: the worked example of the adapter contract.

One message per job, its data the job name. ``consume`` pops one message
(litequeue's ``pop``: ``BEGIN IMMEDIATE``, ``UPDATE … RETURNING``, ``COMMIT``),
reports it delivered, marks it done (``done``: an autocommit ``UPDATE``) and
reports it acked. litequeue is not modified; the adapter keeps one
``LiteQueue`` per process, as an application would.
"""

from __future__ import annotations

import os

_QUEUES: dict[str, object] = {}


class Adapter:
    name = "litequeue 0.9"

    def _queue(self, workdir: str):
        from litequeue import LiteQueue
        if workdir not in _QUEUES:
            _QUEUES[workdir] = LiteQueue(os.path.join(workdir, "litequeue.db"))
        return _QUEUES[workdir]

    def setup(self, workdir: str, jobs: list[str]) -> None:
        from litequeue import LiteQueue
        q = LiteQueue(os.path.join(workdir, "litequeue.db"))
        for job in jobs:
            q.put(job)
        q.conn.close()

    def consume(self, workdir: str, report) -> None:
        q = self._queue(workdir)
        message = q.pop()
        if message is None:
            return
        report("delivered", message.data)
        q.done(message.message_id)
        report("acked", message.data)
