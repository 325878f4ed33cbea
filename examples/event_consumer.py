"""An event consumer: forwards omniroute's events (reservations held, committed, released,
expired, re-routes, returns, stock updates) as JSON lines, resuming from a cursor in a file.

    python event_consumer.py --target localhost:50051 --cursor-file events.cursor [--follow]

Each event is printed as one JSON line, then its cursor is stored (written to a new file and
renamed over the old one, so a crash leaves the old cursor or the new one, never half of
one). Run again and it goes on after the last cursor stored: no event is lost, and an event
is forwarded twice only when the process died between forwarding it and storing its cursor;
a sink keyed by the cursor (a Kafka message key, a CRM upsert key) makes that harmless.
Replace ``forward`` to send to Kafka or a CRM instead of printing. With ``--follow`` it
keeps following new events; when the server drains it reconnects from the stored cursor.

With no ``--target`` it runs a small demo: it starts ``omniroute serve`` on a throwaway
ledger with the example network, reserves and commits orders of two customers, and consumes
the events twice (the second run prints only what happened in between).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import grpc
from google.protobuf import json_format

from omniroute.model import Order
from omniroute.v1 import inventory_service_pb2, inventory_service_pb2_grpc

RETRY_SECONDS = 1.0  # wait before reconnecting after the server went away


def read_cursor(path: Path) -> int:
    """The last cursor forwarded (0: none yet)."""
    return int(path.read_text()) if path.exists() else 0


def store_cursor(path: Path, cursor: int) -> None:
    """Store the cursor atomically (a new file renamed over the old one)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(str(cursor))
    os.replace(temporary, path)


def forward(event: inventory_service_pb2.Event) -> None:
    """Send one event on: here, a JSON line on stdout (its payload decoded)."""
    record = json_format.MessageToDict(event)
    record["payload"] = json.loads(record.pop("payloadJson", "{}"))
    print(json.dumps(record, sort_keys=True), flush=True)


def consume(target: str, cursor_file: Path, follow: bool = False) -> int:
    """Forward every event after the stored cursor; the last cursor forwarded."""
    cursor = read_cursor(cursor_file)
    with grpc.insecure_channel(target) as channel:
        inventory = inventory_service_pb2_grpc.InventoryServiceStub(channel)
        while True:
            request = inventory_service_pb2.WatchEventsRequest(
                after_cursor=cursor, stop_at_end=not follow
            )
            try:
                for event in inventory.WatchEvents(request):
                    forward(event)
                    cursor = event.cursor
                    store_cursor(cursor_file, cursor)
                return cursor
            except grpc.RpcError as error:
                if not follow or error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                time.sleep(RETRY_SECONDS)  # draining or restarting: resume from the cursor


def demo() -> None:
    """Start a server, make a few changes, consume the events twice."""
    import omniroute
    from omniroute.server.client import OmnirouteClient
    from omniroute.server.launch import serve_process

    data = Path(__file__).parent / "data"
    network = omniroute.read_network(data / "network.json")
    orders = omniroute.read_orders(data / "orders.jsonl", network)[:3]
    with tempfile.TemporaryDirectory() as folder:
        cursor_file = Path(folder) / "events.cursor"
        with serve_process("--db", str(Path(folder) / "ledger.db")) as (_, port):
            target = f"localhost:{port}"
            with OmnirouteClient(target) as client:
                client.put_network(network)
                first = client.reserve(_with_customer(orders[0], "C-1001"))
                client.commit_reservation(first.reservation_id)
                print(f"# events so far (cursor file {cursor_file.name} is new):")
                consume(target, cursor_file)
                second = client.reserve(_with_customer(orders[1], "C-2002"))
                client.release_reservation(second.reservation_id)
            print(f"# run again from cursor {read_cursor(cursor_file)}: only the new events")
            consume(target, cursor_file)


def _with_customer(order: Order, customer_id: str) -> Order:
    return replace(order, customer_id=customer_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", help="the server, HOST:PORT (none: run the demo)")
    parser.add_argument("--cursor-file", type=Path, default=Path("omniroute-events.cursor"))
    parser.add_argument("--follow", action="store_true", help="keep following new events")
    args = parser.parse_args(argv)
    if args.target is None:
        demo()
        return 0
    try:
        consume(args.target, args.cursor_file, args.follow)
    except KeyboardInterrupt:
        pass
    except grpc.RpcError as error:
        print(f"event_consumer: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
