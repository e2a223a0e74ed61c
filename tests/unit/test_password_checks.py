"""Console password checks run on a thread of their own at the lowest CPU priority, with
a short queue: a login flood is refused (429) instead of taking the answer path's
threads or cores."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from service.admin.accounts import LoginsBusy, PasswordChecks


def _my_priority() -> tuple[str, int]:
    return threading.current_thread().name, os.getpriority(
        os.PRIO_PROCESS, threading.get_native_id()
    )


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
def test_checks_run_on_their_own_thread_at_the_lowest_priority() -> None:
    checks = PasswordChecks()
    name, nice = asyncio.run(checks.run(_my_priority))
    checks.close()
    assert name.startswith("login") and nice == 19
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0  # ours unchanged


def test_beyond_the_queue_logins_are_refused_at_once() -> None:
    checks = PasswordChecks(workers=1, max_waiting=2)
    release = threading.Event()

    async def flood() -> list[str]:
        async def one() -> str:
            try:
                await checks.run(release.wait, 5)
                return "checked"
            except LoginsBusy:
                return "busy"

        tasks = [asyncio.create_task(one()) for _ in range(6)]
        await asyncio.sleep(0.2)
        release.set()
        return await asyncio.gather(*tasks)

    results = asyncio.run(flood())
    checks.close()
    assert sorted(results) == ["busy"] * 3 + ["checked"] * 3
