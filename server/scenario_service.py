"""ScenarioService: scenario replays as long-running operations (AIP-151 style).

StartScenario validates everything up front (changes and orders, every problem listed),
records an operation in the store and runs the replay in a background thread of the
process; progress and the result are written to the store, so any server process sharing
it can answer GetOperation.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import grpc
from google.rpc import status_pb2
from omniroute.v1 import scenario_service_pb2, scenario_service_pb2_grpc

from omniroute.model import FieldViolation, ValidationError
from omniroute.scenario import apply_changes, kpis, replay
from omniroute.validation import orders_violations
from omniroute.server import convert
from omniroute.server.errors import to_status
from omniroute.server.scenarios import load_changes
from omniroute.server.service import Engine

log = logging.getLogger("omniroute.server")
PROGRESS_EVERY = 200  # orders between progress writes


class ScenarioServicer(scenario_service_pb2_grpc.ScenarioServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scenario")
        self.running: set[asyncio.Future] = set()

    async def StartScenario(
        self, request: scenario_service_pb2.StartScenarioRequest, context: grpc.aio.ServicerContext
    ) -> scenario_service_pb2.Operation:
        base = self.engine.live.planner().index.network
        violations: list[FieldViolation] = []
        changes_data = {}
        if request.changes_json:
            try:
                changes_data = json.loads(request.changes_json)
            except json.JSONDecodeError as error:
                violations.append(FieldViolation("changesJson", f"not JSON: {error}"))
        changed = base
        if not violations:
            try:
                changed = apply_changes(base, load_changes(changes_data, base))
            except ValidationError as error:
                violations += [
                    FieldViolation(f"changesJson.{v.field}", v.description)
                    for v in error.violations
                ]
        orders = [convert.order_from_proto(o) for o in request.orders]
        if not orders:
            violations.append(FieldViolation("orders", "at least one order is required"))
        violations += orders_violations(orders, changed)
        if request.mode not in scenario_service_pb2.StartScenarioRequest.Mode.values():
            violations.append(FieldViolation("mode", f"unknown mode {request.mode}"))
        if violations:
            raise ValidationError(violations, "StartScenarioRequest")
        mode = (
            "batch"
            if request.mode == scenario_service_pb2.StartScenarioRequest.BATCH
            else "sequential"
        )
        store = self.engine.store
        name, new = store.start_operation(
            request.request_id, request.SerializeToString(deterministic=True), len(orders)
        )

        def run() -> None:
            try:

                def progress(done: int, _total: int) -> None:
                    if done % PROGRESS_EVERY < 50 or done == len(orders):
                        store.update_operation(name, done)

                outcomes = replay(changed, orders, mode=mode, progress=progress)
                result = kpis(outcomes)
                result["name"] = request.display_name or name
                store.update_operation(name, result=json.dumps(result))
            except Exception as error:  # recorded on the operation, not lost
                store.update_operation(name, error=to_status(error).SerializeToString().hex())

        if new:
            future = asyncio.get_running_loop().run_in_executor(self.pool, run)
            self.running.add(future)
            future.add_done_callback(self.running.discard)
        return operation_to_proto(store.get_operation(name))

    async def GetOperation(
        self, request: scenario_service_pb2.GetOperationRequest, context: grpc.aio.ServicerContext
    ) -> scenario_service_pb2.Operation:
        if not request.name:
            raise ValidationError([FieldViolation("name", "is required")], "GetOperationRequest")
        return operation_to_proto(self.engine.store.get_operation(request.name))


def operation_to_proto(row: dict) -> scenario_service_pb2.Operation:
    operation = scenario_service_pb2.Operation(name=row["name"], done=bool(row["done"]))
    operation.metadata.orders_done = row["orders_done"]
    operation.metadata.orders_total = row["orders_total"]
    operation.metadata.start_time.FromNanoseconds(int(row["created"] * 1e9))
    operation.metadata.update_time.FromNanoseconds(int(row["updated"] * 1e9))
    if row["error"]:
        operation.error.CopyFrom(status_pb2.Status.FromString(bytes.fromhex(row["error"])))
    elif row["result"]:
        k = json.loads(row["result"])
        operation.response.CopyFrom(
            scenario_service_pb2.ScenarioKpis(
                orders=k["orders"],
                orders_complete=k["ordersComplete"],
                units_ordered=k["unitsOrdered"],
                units_filled=k["unitsFilled"],
                total_cost=k["totalCost"],
                cost_per_order=k["costPerOrder"],
                split_rate=k["splitRate"],
                mean_delivery_days=k["meanDeliveryDays"],
                on_time_rate=k["onTimeRate"],
                kpis_json=row["result"],
            )
        )
    return operation
