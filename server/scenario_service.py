"""ScenarioService and google.longrunning.Operations: what-if replays as long-running
operations (AIP-151).

StartScenario validates everything up front (changes and orders, every problem listed),
records the operation in the ledger and runs the replay on a background thread of this
process; progress and the result go to the ledger, so any server process sharing it answers
``Operations.GetOperation`` / ``ListOperations`` / ``WaitOperation`` for it, and
``CancelOperation`` stops it at its next progress report.
"""

from __future__ import annotations

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf import empty_pb2

from omniroute.model import FieldViolation, ValidationError
from omniroute.server import convert, requests
from omniroute.server.application import Application
from omniroute.v1 import scenario_service_pb2, scenario_service_pb2_grpc

MAX_WAIT = 60.0  # seconds WaitOperation waits at most (less when the call's deadline is nearer)


class ScenarioServicer(scenario_service_pb2_grpc.ScenarioServiceServicer):
    def __init__(self, app: Application, planners: requests.Planners) -> None:
        self.app = app
        self.planners = planners

    async def StartScenario(
        self, request: scenario_service_pb2.StartScenarioRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.Operation:
        command = requests.start_scenario(request, self.planners)
        return convert.operation_to_proto(await self.app.start_scenario(command))


class OperationsServicer(operations_pb2_grpc.OperationsServicer):
    """The standard Operations service over the operations in the ledger."""

    def __init__(self, app: Application) -> None:
        self.app = app

    async def GetOperation(
        self, request: operations_pb2.GetOperationRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.Operation:
        name = requests.operation_name(request)
        return convert.operation_to_proto(await self.app.operation(name))

    async def ListOperations(
        self, request: operations_pb2.ListOperationsRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.ListOperationsResponse:
        size, after = requests.list_operations(request)
        page = await self.app.operations(size, after)
        return operations_pb2.ListOperationsResponse(
            operations=[convert.operation_to_proto(record) for record in page.operations],
            next_page_token=requests.operations_token(page.next_after),
        )

    async def CancelOperation(
        self, request: operations_pb2.CancelOperationRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self.app.cancel_operation(requests.operation_name(request))
        return empty_pb2.Empty()

    async def DeleteOperation(
        self, request: operations_pb2.DeleteOperationRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        await self.app.delete_operation(requests.operation_name(request))
        return empty_pb2.Empty()

    async def WaitOperation(
        self, request: operations_pb2.WaitOperationRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.Operation:
        name = requests.operation_name(request)
        seconds = MAX_WAIT
        if request.HasField("timeout"):
            try:
                seconds = request.timeout.ToTimedelta().total_seconds()
            except (ValueError, OverflowError):
                seconds = -1.0  # out of range: refused below
            if seconds < 0:
                raise ValidationError(
                    [FieldViolation("timeout", "must be >= 0 and within range")],
                    "WaitOperationRequest",
                )
        remaining = context.time_remaining()
        if remaining is not None:
            seconds = min(seconds, max(0.0, remaining - 0.05))
        return convert.operation_to_proto(
            await self.app.wait_operation(name, min(seconds, MAX_WAIT))
        )
