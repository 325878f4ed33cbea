"""Spreading one channel's PlanOrder work over every worker process.

The kernel balances *connections* over the ``SO_REUSEPORT`` workers of ``omniroute serve``,
so a client with one channel (as most are) reaches one process, which alone would use about
one core. Every worker is therefore both a gRPC front and a planning engine: a worker that
is busier than a peer forwards part of its PlanOrder calls (and StreamPlanOrders messages) to
that peer over a local socket, as the request's bytes with the call's deadline; the peer
plans it against its own :class:`~omniroute.server.live.LiveNetwork` (reserving holds through
the shared ledger, atomically, as for its own calls) and answers the serialized
PlanOrderResponse, or the ``google.rpc.Status`` of its failure, which the front returns
unchanged. Callers with several channels already spread over the workers, so their fronts
stay about as busy as their peers and keep planning in-process.

How busy a worker is: the CPU its process used over the last few tens of milliseconds, plus
how late its event loop runs a short timer (a backlog shows there even when the machine's
other work keeps the process from using more CPU), published in a small shared board (one
slot a worker, mapped by all). Each front keeps the share of its calls it forwards: it grows
while the front is busier than its least busy peer by more than :data:`MARGIN`, and shrinks
otherwise, so that a lightly loaded server plans every call where it arrives (no extra hop)
and a loaded one spreads it over every core. At most :data:`IN_FLIGHT` forwarded calls wait
on one peer at a time; beyond that, calls are planned where they arrive.

A call forwarded keeps its deadline (the peer's solve is bounded by what is left of it) and
its cancellation (the front tells the peer to stop). A peer that goes away is noticed when
its socket closes: the calls it had are planned again by the front (a reserving call
carries its request id, so a retry is answered once), and it gets no more calls until it
is back (the supervisor restarts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mmap
import os
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from omniroute.server.overload import LoopLag

log = logging.getLogger("omniroute.server")

# One frame: payload length, job id, kind, absolute deadline (CLOCK_MONOTONIC seconds,
# shared by the processes of one machine; 0: none), then the payload.
HEADER = struct.Struct("<IQBd")
JOB, CANCEL, ANSWER, FAILED = 1, 2, 3, 4

# The board: per worker slot, its state, its CPU use and the share of its calls it forwards
# (both per mille), and its process id.
SLOT = struct.Struct("<iiii")
DOWN, UP, DRAINING = 0, 1, 2

SAMPLE = 0.02  # seconds between measurements of its own CPU use (without a loop-lag beat)
SMOOTHING = 0.45  # weight of the newest measurement
MARGIN = 0.1  # CPU use (fraction of a core) by which a front must exceed its peer to forward
GAIN = 0.5  # how fast the forwarded share follows the difference
LATE = 0.02  # seconds a timer runs late that count as one more core's worth of busy
IN_FLIGHT = 32  # forwarded calls waiting on one peer, beyond which calls are planned here
RECONNECT = 0.5  # seconds between attempts to reach a peer that is not connected

# Plans one request (bytes, deadline): (ok, answer bytes) at once, or an awaitable of it.
Engine = Callable[[bytes, float], tuple[bool, bytes] | Awaitable[tuple[bool, bytes]]]


class PeerGone(Exception):
    """The peer planning a forwarded call went away before answering."""


def create_board(directory: Path, slots: int) -> None:
    """Make the shared board of ``slots`` workers in ``directory`` (by the supervisor)."""
    (directory / "board").write_bytes(bytes(SLOT.size * slots))


class Board:
    """The workers' shared state: who is up, how busy each is, and its process id."""

    def __init__(self, directory: Path) -> None:
        with open(directory / "board", "r+b") as file:
            self._map = mmap.mmap(file.fileno(), 0)
        self.slots = len(self._map) // SLOT.size

    def read(self, slot: int) -> tuple[int, int, int, int]:
        """(state, CPU use, forwarded share (both per mille), process id) of a worker slot."""
        return SLOT.unpack_from(self._map, slot * SLOT.size)

    def write(self, slot: int, state: int, busy: int, share: int = 0) -> None:
        SLOT.pack_into(self._map, slot * SLOT.size, state, busy, share, os.getpid())

    def close(self) -> None:
        with contextlib.suppress(BufferError, ValueError):
            self._map.close()


class _Frames(asyncio.Protocol):
    """Length-prefixed frames over a stream socket. The frames sent in one turn of the
    event loop go out in one write (one system call, and one read on the other side)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._out: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start, size = 0, len(buffer)
        while size - start >= HEADER.size:
            length, job, kind, deadline = HEADER.unpack_from(buffer, start)
            end = start + HEADER.size + length
            if end > size:
                break
            self.frame(job, kind, deadline, bytes(buffer[start + HEADER.size : end]))
            start = end
        if start:
            del buffer[:start]

    def send(self, job: int, kind: int, deadline: float, payload: bytes = b"") -> None:
        out = self._out
        if not out:
            self._loop.call_soon(self._flush)
        out.append(HEADER.pack(len(payload), job, kind, deadline))
        out.append(payload)

    def _flush(self) -> None:
        data, self._out = b"".join(self._out), []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def frame(self, job: int, kind: int, deadline: float, payload: bytes) -> None:
        """Handle one frame; each side of the connection (_EngineSide, _FrontSide) does."""
        raise NotImplementedError


class _EngineSide(_Frames):
    """A peer's connection to this worker's engine: plans the jobs it sends."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        super().__init__()
        self.dispatcher = dispatcher
        self.jobs: dict[int, asyncio.Task[None]] = {}

    def frame(self, job: int, kind: int, deadline: float, payload: bytes) -> None:
        if kind == JOB:
            answer = self.dispatcher.engine(payload, deadline)
            if isinstance(answer, tuple):  # planned here and now (most orders)
                ok, data = answer
                self.send(job, ANSWER if ok else FAILED, 0.0, data)
            else:
                self.jobs[job] = self._loop.create_task(self._run(job, answer))
        elif kind == CANCEL:
            running = self.jobs.pop(job, None)
            if running is not None:
                running.cancel()

    async def _run(self, job: int, answer: Awaitable[tuple[bool, bytes]]) -> None:
        dispatcher = self.dispatcher
        dispatcher.running += 1
        try:
            ok, data = await answer
            self.send(job, ANSWER if ok else FAILED, 0.0, data)
        finally:
            dispatcher.running -= 1
            if job in self.jobs:  # (not when the front cancelled it)
                del self.jobs[job]

    def connection_lost(self, exc: Exception | None) -> None:
        for task in self.jobs.values():  # the front is gone: nobody waits for these
            task.cancel()
        self.jobs.clear()


class _FrontSide(_Frames):
    """This worker's connection to a peer's engine: the calls it forwarded there."""

    def __init__(self, slot: int) -> None:
        super().__init__()
        self.slot = slot
        self.pid = 0
        self.pending: dict[int, asyncio.Future[tuple[bool, bytes]]] = {}
        self._next = 0
        self.closed = False

    def frame(self, job: int, kind: int, deadline: float, payload: bytes) -> None:
        future = self.pending.pop(job, None)
        if future is not None and not future.done():
            future.set_result((kind == ANSWER, payload))

    async def call(self, payload: bytes, deadline: float) -> tuple[bool, bytes]:
        if self.closed:
            raise PeerGone()
        self._next += 1
        job = self._next
        future: asyncio.Future[tuple[bool, bytes]] = asyncio.get_running_loop().create_future()
        self.pending[job] = future
        self.send(job, JOB, deadline, payload)
        try:
            return await future
        except asyncio.CancelledError:  # the call ended (deadline, cancelled): stop the solve
            if self.pending.pop(job, None) is not None:
                self.send(job, CANCEL, 0.0)
            raise

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for future in self.pending.values():
            if not future.done():
                future.set_exception(PeerGone())
        self.pending.clear()


class Dispatcher:
    """One worker's side of the spreading: its engine (serving peers) and its links to them.

    Parameters
    ----------
    directory
        The folder the workers share: the board and each worker's socket.
    slot
        This worker's slot on the board.
    engine
        Plans one request: ``(request bytes, deadline) -> (ok, PlanOrderResponse bytes or
        google.rpc.Status bytes)``.
    always
        Forward every call to the least busy peer, however idle this worker is (to exercise
        and measure the path; ``serve --dispatch always``).
    """

    def __init__(self, directory: Path, slot: int, engine: Engine, always: bool = False) -> None:
        self.directory = directory
        self.slot = slot
        self.engine = engine
        self.always = always
        self.board = Board(directory)
        self.running = 0  # jobs this engine is planning for peers
        self.share = 0.0  # of this front's calls, the part forwarded
        self.forwarded = 0  # calls forwarded since start (for the metrics and tests)
        self._credit = 0.0
        self._target: _FrontSide | None = None
        self._links: dict[int, _FrontSide] = {}
        self._connecting: dict[int, float] = {}
        self._server: asyncio.AbstractServer | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._busy = 0.0  # smoothed CPU use plus lateness, in cores
        self._wall = self._cpu = 0.0  # loop time and process CPU time at the last sample
        self._state = DOWN

    def socket_path(self, slot: int) -> Path:
        return self.directory / f"engine-{slot}.sock"

    async def start(self, beat: LoopLag | None = None) -> None:
        """Serve this worker's engine to its peers and start measuring how busy it is: on
        the samples of ``beat`` (the worker's loop-lag sampler), or on a timer of its own."""
        path = self.socket_path(self.slot)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by a worker of this slot that died
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(lambda: _EngineSide(self), str(path))
        self._state = UP
        self.board.write(self.slot, UP, 0)
        self._wall, self._cpu = loop.time(), time.process_time()
        if beat is not None:
            beat.listeners.append(self.sample)
        else:
            self._sampler = loop.create_task(self._sample())

    def choose(self) -> _FrontSide | None:
        """Where to plan the next call: a peer's link, or None for here."""
        target = self._target
        if target is None or self.share <= 0.0:
            return None
        self._credit += self.share
        if self._credit < 1.0:
            return None
        self._credit -= 1.0
        if target.closed:
            self._target = None
            return None
        if len(target.pending) >= IN_FLIGHT:  # the peer has a backlog: plan here
            return None
        self.forwarded += 1
        return target

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(SAMPLE)
            now = loop.time()
            self.sample(now, max(0.0, now - before - SAMPLE))

    def sample(self, now: float, late: float) -> None:
        """Measure this process's CPU use (``late``: how late the sampling timer ran);
        steer the forwarded share towards the peers."""
        used = time.process_time()
        if now > self._wall:
            cpu = min(1.0, (used - self._cpu) / (now - self._wall))
            sample = cpu + min(1.0, late / LATE)
            self._busy = (1 - SMOOTHING) * self._busy + SMOOTHING * sample
        self._wall, self._cpu = now, used
        if self._state == DOWN:
            return  # stopped
        self._steer(self._busy, now)
        self.board.write(self.slot, self._state, int(self._busy * 1000), int(self.share * 1000))

    def _steer(self, busy: float, now: float) -> None:
        best: tuple[float, int] | None = None
        for slot in range(self.board.slots):
            if slot == self.slot:
                continue
            state, peer_busy, _, pid = self.board.read(slot)
            if state != UP:
                continue
            link = self._links.get(slot)
            if link is None or link.closed:
                self._connect(slot, pid, now)
                continue
            if best is None or peer_busy / 1000 < best[0]:
                best = (peer_busy / 1000, slot)
        if best is None or self._state != UP:
            self._target, self.share = None, 0.0
            return
        self._target = self._links[best[1]]
        if self.always:
            self.share = 1.0
            return
        difference = busy - best[0] - MARGIN
        self.share = min(1.0, max(0.0, self.share + GAIN * difference))

    def _connect(self, slot: int, pid: int, now: float) -> None:
        if now - self._connecting.get(slot, -RECONNECT) < RECONNECT:
            return
        self._connecting[slot] = now
        asyncio.get_running_loop().create_task(self._open(slot, pid))

    async def _open(self, slot: int, pid: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, link = await loop.create_unix_connection(
                lambda: _FrontSide(slot), str(self.socket_path(slot))
            )
        except OSError:
            return  # not (yet, or no longer) there: tried again later
        link.pid = pid
        old = self._links.get(slot)
        if old is not None and old.transport is not None:
            old.transport.close()
        self._links[slot] = link

    async def drain(self, grace: float) -> None:
        """Take no more calls from peers' fronts and forward no more; then wait (up to
        ``grace`` seconds) for the jobs being planned for peers."""
        self._state = DRAINING
        self._target, self.share = None, 0.0
        self.board.write(self.slot, DRAINING, 1000)
        deadline = time.monotonic() + grace
        while self.running and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Close the engine and the links (the last step of a worker's shutdown)."""
        if self._sampler is not None:
            self._sampler.cancel()
        self._state = DOWN  # (the loop-lag beat may still call sample: it does nothing now)
        self.board.write(self.slot, DOWN, 0)
        for link in self._links.values():
            if link.transport is not None:
                link.transport.close()
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path(self.slot).unlink()
        self.board.close()
