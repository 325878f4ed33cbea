"""Open-loop gRPC load generator (no coordinated omission).

Calls are started on a schedule (constant or Poisson arrivals at the offered rate), each
without waiting for earlier ones; a call's latency is measured from its *intended* send time,
so a slow server is charged for the queueing it causes. Latencies go into an HdrHistogram
(1 µs to 60 s, 3 significant digits). The offered rate is split over several client
processes, each with its own event loop and channels, so that the client is not the
bottleneck it measures.

Modes: ``unary`` (PlanOrder), ``reserve`` (PlanOrder with reserve, unique request ids) and
``stream`` (StreamPlanOrders: one stream per channel, requests written on schedule; latency
per response, from the intended send time of its request). ``processes=1, channels=1`` is the
client most integrators write: one channel carries every unary call, or one stream every
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import grpc
from hdrh.histogram import HdrHistogram

LOWEST_US, HIGHEST_US, DIGITS = 1, 60_000_000, 3
CHANNELS_PER_PROCESS = 4


@dataclass
class LoadResult:
    """What one load step measured (merged over client processes)."""

    offered_rate: float
    duration: float
    histogram: HdrHistogram = field(
        default_factory=lambda: HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)
    )
    codes: Counter[str] = field(default_factory=Counter)
    timeline: list[tuple[float, float, str]] = field(default_factory=list)  # (t, latency s, code)

    @property
    def ok(self) -> int:
        return self.codes.get("OK", 0)

    @property
    def errors(self) -> int:
        return sum(n for code, n in self.codes.items() if code not in ("OK", "RESOURCE_EXHAUSTED"))

    @property
    def shed(self) -> int:
        return self.codes.get("RESOURCE_EXHAUSTED", 0)

    def percentile_ms(self, p: float) -> float:
        if self.histogram.get_total_count() == 0:
            return 0.0
        return self.histogram.get_value_at_percentile(p) / 1000.0

    def summary(self) -> dict[str, Any]:
        return {
            "offered_rate": self.offered_rate,
            "achieved_rate": self.ok / self.duration if self.duration else 0.0,
            "calls": sum(self.codes.values()),
            "ok": self.ok,
            "errors": self.errors,
            "shed": self.shed,
            "codes": dict(self.codes),
            "p50_ms": self.percentile_ms(50),
            "p95_ms": self.percentile_ms(95),
            "p99_ms": self.percentile_ms(99),
            "p999_ms": self.percentile_ms(99.9),
            "max_ms": self.histogram.get_max_value() / 1000.0,
        }


def merge(results: list[LoadResult]) -> LoadResult:
    """Several steps at the same offered rate as one (their calls and durations added)."""
    merged = LoadResult(results[0].offered_rate if results else 0.0, 0.0)
    for part in results:
        merged.duration += part.duration
        merged.histogram.add(part.histogram)
        merged.codes.update(part.codes)
    return merged


def schedule(
    rate: float,
    duration: float,
    poisson: bool,
    seed: int,
    profile: list[tuple[float, float]] | None = None,
) -> list[float]:
    """Intended send times (seconds from the start). ``profile`` is a list of (seconds, rate)
    segments replacing the constant rate (for ramps: a piecewise-constant approximation)."""
    rng = random.Random(seed)
    segments = profile or [(duration, rate)]
    times, start = [], 0.0
    for length, segment_rate in segments:
        t = start
        while segment_rate > 0:
            t += rng.expovariate(segment_rate) if poisson else 1.0 / segment_rate
            if t >= start + length:
                break
            times.append(t)
        start += length
    return times


async def _drive(
    target: str,
    mode: str,
    requests: list[bytes],
    times: list[float],
    seed: int,
    timeout: float,
    key: str,
    channel_count: int,
) -> tuple[bytes, Counter[str], list[tuple[float, float, str]]]:
    from omniroute.v1 import plan_pb2, routing_service_pb2

    channels = [grpc.aio.insecure_channel(target) for _ in range(channel_count)]
    methods = [
        c.unary_unary(
            "/omniroute.v1.RoutingService/PlanOrder",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        for c in channels
    ]
    histogram = HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)
    codes: Counter[str] = Counter()
    timeline: list[tuple[float, float, str]] = []
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2  # every process starts its schedule at about the same moment
    tasks = []

    def record(intended: float, code: str) -> None:
        latency = loop.time() - intended
        histogram.record_value(max(LOWEST_US, min(HIGHEST_US, int(latency * 1e6))))
        codes[code] += 1
        timeline.append((intended - start, latency, code))

    def request(i: int) -> bytes:
        payload = requests[rng.randrange(len(requests))]
        if mode != "reserve":
            return payload
        message = routing_service_pb2.PlanOrderRequest.FromString(payload)
        message.reserve = True
        message.request_id = f"{key}-{i}"
        message.order.id = f"{message.order.id}-{key}-{i}"
        return message.SerializeToString()

    async def unary(i: int, intended: float) -> None:
        try:
            await methods[i % len(methods)](request(i), timeout=timeout)
            record(intended, "OK")
        except grpc.aio.AioRpcError as error:
            record(intended, error.code().name)

    if mode == "stream":
        # a stream answers in order (omniroute and the no-op alike), so the n-th response
        # belongs to the n-th request written; the stream's deadline covers the schedule
        streams = [
            c.stream_stream(
                "/omniroute.v1.RoutingService/StreamPlanOrders",
                request_serializer=lambda b: b,
                response_deserializer=plan_pb2.PlanOrderResponse.FromString,
            )(timeout=(times[-1] if times else 0.0) + 1.0 + timeout)
            for c in channels
        ]
        sent: list[deque[float]] = [deque() for _ in streams]

        async def reader(s: int) -> None:
            try:
                async for response in streams[s]:
                    intended = sent[s].popleft()
                    record(intended, "OK" if not response.HasField("error") else "STREAM_ERROR")
            except grpc.aio.AioRpcError as error:
                while sent[s]:
                    record(sent[s].popleft(), error.code().name)

        readers = [asyncio.ensure_future(reader(s)) for s in range(len(streams))]
        for i, t in enumerate(times):
            delay = start + t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            s = i % len(streams)
            if readers[s].done():  # the stream has ended (failed): the call cannot be sent
                record(start + t, "STREAM_ENDED")
                continue
            sent[s].append(start + t)
            # a failed stream's reader records the calls still unanswered
            with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
                await streams[s].write(request(i))
        for s, stream in enumerate(streams):
            if not readers[s].done():
                with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
                    await stream.done_writing()
        await asyncio.gather(*readers)
        for pending in sent:  # a stream that ended without answering every request
            while pending:
                record(pending.popleft(), "STREAM_ENDED")
    else:
        for i, t in enumerate(times):
            delay = start + t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(unary(i, start + t)))
        await asyncio.gather(*tasks)
    for channel in channels:
        await channel.close()
    return histogram.encode(), codes, timeline


def _process(args: tuple) -> tuple[bytes, Counter[str], list[tuple[float, float, str]]]:
    return asyncio.run(_drive(*args))


def run_load(
    target: str,
    mode: str,
    requests: list[bytes],
    rate: float,
    duration: float,
    processes: int = 2,
    poisson: bool = True,
    seed: int = 0,
    timeout: float = 10.0,
    profile: list[tuple[float, float]] | None = None,
    tag: str = "",
    channels: int = CHANNELS_PER_PROCESS,
) -> LoadResult:
    """Offer ``rate`` calls/s for ``duration`` s (or ``profile``) from ``processes`` clients,
    each with ``channels`` channels (``processes=1, channels=1``: one channel carries every
    call, as most integrators' clients do; in stream mode, one stream per channel)."""
    times = schedule(rate, duration, poisson, seed, profile)
    shares = [times[p::processes] for p in range(processes)]
    total = sum(length for length, _ in profile) if profile else duration
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        parts = pool.map(
            _process,
            [
                (
                    target,
                    mode,
                    requests,
                    share,
                    seed + p,
                    timeout,
                    f"{tag}{seed}p{p}{time.time_ns()}",
                    channels,
                )
                for p, share in enumerate(shares)
            ],
        )
    result = LoadResult(rate, total)
    for encoded, codes, timeline in parts:
        result.histogram.decode_and_add(encoded)
        result.codes.update(codes)
        result.timeline += timeline
    result.timeline.sort()
    return result
