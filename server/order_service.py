"""OrderService: an order's life after routing (ship, deliver, cancel) and its status
(request -> command -> application -> response, as in ``omniroute.server.routing_service``)."""

from __future__ import annotations

import grpc

from omniroute.ledger import OrderView
from omniroute.server import convert, requests
from omniroute.server.application import Application
from omniroute.v1 import order_service_pb2, order_service_pb2_grpc


class OrderServicer(order_service_pb2_grpc.OrderServiceServicer):
    def __init__(self, app: Application) -> None:
        self.app = app

    async def ConfirmShipment(
        self,
        request: order_service_pb2.ConfirmShipmentRequest,
        context: grpc.aio.ServicerContext,
    ) -> order_service_pb2.OrderStatus:
        view = await self.app.confirm_shipment(requests.confirm_shipment(request))
        return convert.order_view_to_proto(view)

    async def ConfirmDelivery(
        self,
        request: order_service_pb2.ConfirmDeliveryRequest,
        context: grpc.aio.ServicerContext,
    ) -> order_service_pb2.OrderStatus:
        view = await self.app.confirm_delivery(requests.confirm_delivery(request))
        return convert.order_view_to_proto(view)

    async def CancelOrder(
        self, request: order_service_pb2.CancelOrderRequest, context: grpc.aio.ServicerContext
    ) -> order_service_pb2.OrderStatus:
        view = await self.app.cancel_order(requests.cancel_order(request))
        return convert.order_view_to_proto(view)

    async def GetOrderStatus(
        self, request: order_service_pb2.GetOrderStatusRequest, context: grpc.aio.ServicerContext
    ) -> order_service_pb2.OrderStatus:
        view = await self.app.order_view(requests.order_id(request))
        return convert.order_view_to_proto(view)

    async def ListOrders(
        self, request: order_service_pb2.ListOrdersRequest, context: grpc.aio.ServicerContext
    ) -> order_service_pb2.ListOrdersResponse:
        page = await self.app.list_orders(requests.list_orders(request))
        return order_service_pb2.ListOrdersResponse(
            orders=[convert.order_view_to_proto(OrderView(r)) for r in page.orders],
            next_page_token=requests.orders_page_token(page.next_after, request),
        )
