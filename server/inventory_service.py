"""InventoryService: stock positions, reservations and returns (request -> command ->
application -> response, as in ``omniroute.server.routing_service``)."""

from __future__ import annotations

import grpc

from omniroute.server import convert, requests
from omniroute.server.application import Application
from omniroute.v1 import inventory_service_pb2, inventory_service_pb2_grpc


class InventoryServicer(inventory_service_pb2_grpc.InventoryServiceServicer):
    def __init__(self, app: Application) -> None:
        self.app = app

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

    async def ReceiveReturn(
        self, request: inventory_service_pb2.ReceiveReturnRequest, context: grpc.aio.ServicerContext
    ) -> inventory_service_pb2.ReceiveReturnResponse:
        positions = await self.app.receive_return(requests.return_id(request))
        return inventory_service_pb2.ReceiveReturnResponse(
            positions=[convert.position_to_proto(p) for p in positions]
        )
