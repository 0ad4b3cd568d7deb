"""The first piece of a body is asked for before the application reads it, where the server starts its read
when ``receive()`` is called (granian); elsewhere nothing is asked early, and a piece never read is dropped."""

from __future__ import annotations

import asyncio

from starlette.types import Message

from registry_impl.api.limits import BodyWatch


class _EagerReceive:
    """A granian-like ``receive``: a plain callable whose awaitable exists (and reads) from the call on."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.calls = 0

    def __call__(self) -> asyncio.Future[Message]:
        self.calls += 1
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        future.set_result(self.messages.pop(0))
        return future


def test_the_first_piece_is_asked_for_at_start_and_read_once() -> None:
    async def scenario() -> None:
        receive = _EagerReceive(
            [
                {"type": "http.request", "body": b"ab", "more_body": True},
                {"type": "http.request", "body": b"c"},
            ]
        )
        watch = BodyWatch(receive, timeout=5)
        watch.start()
        watch.start()  # asked once however often it is started
        assert receive.calls == 1
        assert (await watch.read())["body"] == b"ab"
        assert receive.calls == 1  # the read took the piece asked for at start
        assert (await watch.read())["body"] == b"c"
        assert watch.complete and receive.calls == 2

    asyncio.run(scenario())


def test_a_coroutine_receive_is_not_asked_early() -> None:
    calls: list[int] = []

    async def receive() -> Message:  # uvicorn's and the test clients' receive
        calls.append(1)
        return {"type": "http.request", "body": b"x"}

    async def scenario() -> None:
        watch = BodyWatch(receive, timeout=5)
        watch.start()
        assert calls == []
        assert (await watch.read())["body"] == b"x"

    asyncio.run(scenario())


def test_a_piece_asked_for_and_never_read_is_dropped() -> None:
    async def scenario() -> None:
        started: list[object] = []

        async def body() -> Message:
            return {"type": "http.request", "body": b"x"}

        def receive() -> object:  # a plain callable handing out a coroutine: it runs only when awaited
            started.append(coroutine := body())
            return coroutine

        watch = BodyWatch(receive, timeout=5)  # type: ignore[arg-type]
        watch.start()
        watch.discard()
        assert started and started[0].cr_frame is None  # type: ignore[attr-defined]  # closed, never awaited

    asyncio.run(scenario())
