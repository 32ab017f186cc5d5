"""The stage queue: delays, cancel-and-replace per key, retries after fresh work."""

from __future__ import annotations

import asyncio

from kwok.kubelet.delayqueue import DelayingQueue
from tests.client.conftest import run


def test_a_newer_job_for_a_key_replaces_the_pending_one() -> None:
    async def scenario() -> list[tuple[object, str]]:
        q: DelayingQueue[str] = DelayingQueue()
        q.add("pod-a", "old", delay=0.05)
        q.add("pod-a", "new", delay=0.0)
        q.add("pod-b", "b", delay=0.0)
        got = [await q.get(), await q.get()]
        await asyncio.sleep(0.1)  # the cancelled timer must not resurrect the old job
        assert q.ready_count == 0 and len(q) == 0
        return got

    assert run(scenario()) == [("pod-a", "new"), ("pod-b", "b")]


def test_jobs_wait_for_their_delay_and_retries_come_after_fresh_work() -> None:
    async def scenario() -> None:
        q: DelayingQueue[str] = DelayingQueue()
        loop = asyncio.get_running_loop()
        started = loop.time()
        q.add("late", "late", delay=0.2)
        q.add("retry", "retry", weight=1)
        q.add("fresh", "fresh")
        assert [await q.get(), await q.get()] == [("fresh", "fresh"), ("retry", "retry")]
        assert await q.get() == ("late", "late")
        assert loop.time() - started >= 0.19

    run(scenario())


def test_a_waiting_worker_is_woken_and_cancel_removes_pending_work() -> None:
    async def scenario() -> None:
        q: DelayingQueue[str] = DelayingQueue()
        waiter = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        q.add("k", "job", delay=0.01)
        assert await asyncio.wait_for(waiter, 1) == ("k", "job")
        q.add("gone", "job", delay=0.01)
        assert q.pending("gone") == "job"
        assert q.cancel("gone") == "job" and q.pending("gone") is None
        try:
            await asyncio.wait_for(q.get(), 0.1)
            raise AssertionError("a cancelled job was delivered")
        except TimeoutError:
            pass

    run(scenario())
