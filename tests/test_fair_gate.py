"""db.FairGate: the raw pool's waiters are served in arrival order, and a released slot is never taken by a
request that arrives after someone started waiting."""

import asyncio

import pytest

from community.platform.db import FairGate


async def test_waiters_are_served_in_arrival_order_and_newcomers_do_not_barge() -> None:
    gate = FairGate(1)
    await gate.acquire()
    order: list[int] = []

    async def worker(n: int) -> None:
        await gate.acquire()
        order.append(n)
        await asyncio.sleep(0)
        gate.release()

    first = [asyncio.create_task(worker(n)) for n in range(3)]
    await asyncio.sleep(0)  # 0, 1, 2 are waiting
    gate.release()
    await gate.acquire()  # straight back for more, while the slot is free for an instant: it queues behind them
    order.append(99)
    gate.release()
    await asyncio.gather(*first)
    assert order == [0, 1, 2, 99]


async def test_slots_are_counted() -> None:
    gate = FairGate(2)
    await gate.acquire()
    await gate.acquire()
    third = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    assert not third.done()
    gate.release()
    await asyncio.wait_for(third, 1)
    gate.release()
    gate.release()
    for _ in range(2):
        await asyncio.wait_for(gate.acquire(), 1)  # both slots are free again


@pytest.mark.parametrize("handed_over", [False, True])
async def test_a_cancelled_waiter_never_loses_a_slot(handed_over: bool) -> None:
    gate = FairGate(1)
    await gate.acquire()
    waiter = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    if handed_over:
        gate.release()  # handed to the waiter, which is cancelled before it runs
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    if not handed_over:
        gate.release()
    await asyncio.wait_for(gate.acquire(), 1)  # the slot went back to the gate, not into the void
