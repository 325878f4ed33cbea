"""InventoryService: stock positions, reservations and returns (request -> command ->
application -> response, as in ``omniroute.server.routing_service``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc

from omniroute.server import convert, requests
from omniroute.server.application import Application
from omniroute.v1 import inventory_service_pb2, inventory_service_pb2_grpc

WATCH_PAGE = 256  # events read (and held in memory) at a time by one WatchEvents stream
WATCH_POLL = 0.2  # seconds between a caught-up stream's looks for new events


class InventoryServicer(inventory_service_pb2_grpc.InventoryServiceServicer):
    def __init__(self, app: Application) -> None:
        self.app = app
        self.draining = asyncio.Event()  # set when the server drains: event streams end

    def drain(self) -> None:
        """End every WatchEvents stream (with UNAVAILABLE: reconnect elsewhere)."""
        self.draining.set()

    async def WatchEvents(
        self, request: inventory_service_pb2.WatchEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[inventory_service_pb2.Event]:
        """Replay the events after the cursor, then follow new ones (docs/events.md).

        Reads a page of :data:`WATCH_PAGE` events at a time off the event loop; once caught
        up, looks for new events every :data:`WATCH_POLL` seconds (one indexed read of the
        cursor counter) until the client cancels or the server drains.
        """
        cursor, types = requests.watch_events(request)
        loop = asyncio.get_running_loop()
        events = self.app.ledger.events
        end = await loop.run_in_executor(None, events.last_cursor) if request.stop_at_end else 0
        while not self.draining.is_set():
            page = await loop.run_in_executor(None, events.read, cursor, WATCH_PAGE, types)
            for event in page.events:
                if request.stop_at_end and event.seq > end:
                    return
                yield convert.event_to_proto(event)
            cursor = page.cursor
            if request.stop_at_end and cursor >= end:
                return
            if len(page.events) < WATCH_PAGE:  # caught up: wait for more (or the drain)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.draining.wait(), WATCH_POLL)
        await context.abort(
            grpc.StatusCode.UNAVAILABLE,
            f"the server is shutting down: reconnect with afterCursor={cursor}",
        )

    async def UpdateStock(
        self, request: inventory_service_pb2.UpdateStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_service_pb2.UpdateStockResponse:
        positions = await self.app.update_stock(requests.update_stock(request))
        return inventory_service_pb2.UpdateStockResponse(
            positions=[convert.position_to_proto(p) for p in positions]
        )

    async def GetStock(
        self, request: inventory_service_pb2.GetStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_service_pb2.GetStockResponse:
        positions = await self.app.get_stock(list(request.sku_ids), list(request.node_ids))
        return inventory_service_pb2.GetStockResponse(
            positions=[convert.position_to_proto(p) for p in positions]
        )

    async def ListStockPositions(
        self,
        request: inventory_service_pb2.ListStockPositionsRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.ListStockPositionsResponse:
        page = await self.app.list_stock(requests.list_stock_positions(request))
        return inventory_service_pb2.ListStockPositionsResponse(
            stock_positions=[convert.position_to_proto(p) for p in page.positions],
            next_page_token=requests.page_token(page.next_after, request.filter),
            total_size=page.total,
        )

    async def CommitReservation(
        self,
        request: inventory_service_pb2.CommitReservationRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.Reservation:
        reservation = await self.app.commit(requests.reservation_id(request))
        return convert.reservation_to_proto(reservation)

    async def ReleaseReservation(
        self,
        request: inventory_service_pb2.ReleaseReservationRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.Reservation:
        reservation = await self.app.release(requests.reservation_id(request))
        return convert.reservation_to_proto(reservation)

    async def GetReservation(
        self,
        request: inventory_service_pb2.GetReservationRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.Reservation:
        reservation = await self.app.reservation(requests.reservation_id(request))
        return convert.reservation_to_proto(reservation)

    async def PutInboundSupply(
        self,
        request: inventory_service_pb2.PutInboundSupplyRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.PutInboundSupplyResponse:
        stored = await self.app.put_inbound(requests.put_inbound_supply(request))
        return inventory_service_pb2.PutInboundSupplyResponse(
            supplies=[convert.inbound_to_proto(x) for x in stored]
        )

    async def ListInboundSupply(
        self,
        request: inventory_service_pb2.ListInboundSupplyRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.ListInboundSupplyResponse:
        found = await self.app.inbound_supply(request.node_id)
        return inventory_service_pb2.ListInboundSupplyResponse(
            supplies=[convert.inbound_to_proto(x) for x in found]
        )

    async def ReceiveInboundSupply(
        self,
        request: inventory_service_pb2.ReceiveInboundSupplyRequest,
        context: grpc.aio.ServicerContext,
    ) -> inventory_service_pb2.ReceiveInboundSupplyResponse:
        positions = await self.app.receive_inbound(requests.receive_inbound_supply(request))
        return inventory_service_pb2.ReceiveInboundSupplyResponse(
            positions=[convert.position_to_proto(p) for p in positions]
        )

    async def ReceiveReturn(
        self, request: inventory_service_pb2.ReceiveReturnRequest, context: grpc.aio.ServicerContext
    ) -> inventory_service_pb2.ReceiveReturnResponse:
        positions = await self.app.receive_return(requests.return_id(request))
        return inventory_service_pb2.ReceiveReturnResponse(
            positions=[convert.position_to_proto(p) for p in positions]
        )
