"""The ceiling: a no-op RoutingService on the same gRPC stack and process model.

PlanOrder and StreamPlanOrders parse the request and answer a fixed, realistic
PlanOrderResponse (a real plan of the demo network, so the messages have the same sizes as
omniroute's) without planning. StreamPlanOrders answers as omniroute's does: one response per
request, in the requests' order, until the client stops writing. Measured by the same load
generator in the same run with the same client shape, it is the most any Python gRPC service
can do on this machine with that client.

``python -m benchmarks.noop_server --port P --workers N --response FILE``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from omniroute.server.process import server_options
from omniroute.v1 import plan_pb2, routing_service_pb2, routing_service_pb2_grpc


class NoopRouting(routing_service_pb2_grpc.RoutingServiceServicer):
    def __init__(self, response: plan_pb2.PlanOrderResponse) -> None:
        self.response = response

    async def PlanOrder(
        self, request: routing_service_pb2.PlanOrderRequest, context: grpc.aio.ServicerContext
    ) -> plan_pb2.PlanOrderResponse:
        return self.response

    async def StreamPlanOrders(
        self,
        request_iterator: AsyncIterator[routing_service_pb2.PlanOrderRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[plan_pb2.PlanOrderResponse]:
        async for _ in request_iterator:
            yield self.response


async def _serve(port: int, response_bytes: bytes, max_concurrent: int, reuse: bool) -> None:
    server = grpc.aio.server(options=server_options(reuse), maximum_concurrent_rpcs=max_concurrent)
    routing_service_pb2_grpc.add_RoutingServiceServicer_to_server(
        NoopRouting(plan_pb2.PlanOrderResponse.FromString(response_bytes)), server
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1.0)


def _worker(port: int, response_bytes: bytes, max_concurrent: int, reuse: bool) -> None:
    asyncio.run(_serve(port, response_bytes, max_concurrent, reuse))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--response", required=True, help="file with a serialized PlanOrderResponse"
    )
    parser.add_argument("--max-concurrent", type=int, default=256)
    args = parser.parse_args()
    response = Path(args.response).read_bytes()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_worker, args=(args.port, response, args.max_concurrent, args.workers > 1)
        )
        for _ in range(args.workers)
    ]
    for worker in workers:
        worker.start()

    def stop(*_: object) -> None:
        for worker in workers:
            worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
