"""NetworkService: replace or read the served network (request -> command -> application
-> response, as in ``omniroute.server.routing_service``)."""

from __future__ import annotations

import grpc

from omniroute.server import convert, requests
from omniroute.server.application import Application
from omniroute.v1 import network_pb2, network_service_pb2, network_service_pb2_grpc


class NetworkServicer(network_service_pb2_grpc.NetworkServiceServicer):
    def __init__(self, app: Application) -> None:
        self.app = app

    async def PutNetwork(
        self, request: network_service_pb2.PutNetworkRequest, context: grpc.aio.ServicerContext
    ) -> network_service_pb2.PutNetworkResponse:
        command = requests.put_network(request)
        network = command.network
        response = network_service_pb2.PutNetworkResponse(
            nodes=len(network.nodes), skus=len(network.skus), stock_positions=len(network.stock)
        )
        version = await self.app.put_network(command)
        if version:
            response.version = str(version)
        return response

    async def PutDemandForecast(
        self,
        request: network_service_pb2.PutDemandForecastRequest,
        context: grpc.aio.ServicerContext,
    ) -> network_service_pb2.PutDemandForecastResponse:
        command = requests.put_demand_forecast(request, self.app.network())
        response = network_service_pb2.PutDemandForecastResponse(theta=command.theta)
        prices = await self.app.put_forecast(command)
        if prices is not None:
            response.version = str(prices.forecast_version)
            response.priced_positions = prices.priced_positions
            response.theta = prices.theta  # the default of the model that priced, when unset
        return response

    async def GetNetwork(
        self, request: network_service_pb2.GetNetworkRequest, context: grpc.aio.ServicerContext
    ) -> network_pb2.Network:
        message = convert.network_to_proto(self.app.network())
        del message.stock[:]
        if request.include_stock:
            positions = await self.app.get_stock((), ())
            message.stock.extend(convert.position_to_proto(p) for p in positions)
        return message
