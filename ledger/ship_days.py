"""Daily shipment capacity: per node and ship date, the shipments held or committed.

A node with ``dailyShipmentCapacity`` ships at most that many shipments a day. Every dated
shipment a reservation holds at such a node counts against its ship date, in the same write
transaction as the hold (:func:`hold_days`, called by
:meth:`~omniroute.ledger.reservations.Reservations.reserve`): one conditional update per
(node, date), which succeeds only while the day has room, so two callers can never fill a
day past its capacity, on SQLite or PostgreSQL. A day that filled up since the order was
planned raises :class:`~omniroute.ledger.errors.DayFull` and the whole hold rolls back; the
application then plans again, on fresh days. Releasing or expiring the reservation gives its
days back (:func:`free_days`); committing (shipping) keeps them counted. A re-route counts
the days of the nodes it adds and gives back those of the shipments it takes away.

The planner reads the full days (:meth:`ShipDays.full`) and dates a full day's shipments on
the node's next working day with room (docs/dated-promises.md, "Daily capacity").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from omniroute.ledger.database import Database, Transaction
from omniroute.ledger.errors import DayFull
from omniroute.model import Network, Node, Plan

# Full days older than this before today (UTC) are not read for planning: an order's ship
# dates are never before its own date, and replays of older orders plan without capacity.
FULL_DAYS_BACK = 7


@dataclass(frozen=True, slots=True)
class ShipDay:
    """One shipment of a reservation: its node, ship date and the node's daily capacity."""

    node_id: str
    ship_date: date
    capacity: int


def ship_days_of(
    plan: Plan, nodes: Mapping[str, Node], only: Iterable[str] | None = None
) -> list[ShipDay]:
    """The plan's dated shipments at nodes with a daily capacity (``nodes`` by id; only
    those of the nodes in ``only`` when given)."""
    days = []
    wanted = None if only is None else set(only)
    for shipment in plan.shipments:
        if wanted is not None and shipment.node_id not in wanted:
            continue
        capacity = nodes[shipment.node_id].daily_shipment_capacity
        if shipment.ship_date is not None and capacity > 0:
            days.append(ShipDay(shipment.node_id, shipment.ship_date, capacity))
    return days


def hold_days(tx: Transaction, reservation_id: str, days: Sequence[ShipDay]) -> None:
    """Count each shipment against its node's day, or raise :class:`DayFull` (the caller's
    transaction then rolls back) when a day has no room left."""
    full = []
    for day in days:
        when = day.ship_date.isoformat()
        tx.execute(
            "INSERT INTO ship_days (node_id, ship_date, shipments, capacity, is_full) "
            "VALUES (?, ?, 0, ?, 0) ON CONFLICT (node_id, ship_date) DO NOTHING",
            (day.node_id, when, day.capacity),
        )
        cursor = tx.execute(
            "UPDATE ship_days SET shipments = shipments + 1, capacity = ?, "
            "is_full = CASE WHEN shipments + 1 >= ? THEN 1 ELSE 0 END "
            "WHERE node_id = ? AND ship_date = ? AND shipments < ?",
            (day.capacity, day.capacity, day.node_id, when, day.capacity),
        )
        if cursor.rowcount == 0:
            full.append((day.node_id, when))
            continue
        tx.execute(
            "INSERT INTO reservation_ship_days (reservation_id, node_id, ship_date) "
            "VALUES (?, ?, ?)",
            (reservation_id, day.node_id, when),
        )
    if full:
        raise DayFull(full)


def recount_days(tx: Transaction, network: Network) -> None:
    """A new network's capacities apply to the days already counted: each day is full when
    its shipments reach its node's capacity now (a node without one has no full days)."""
    capacity = {node.id: node.daily_shipment_capacity for node in network.nodes}
    rows = tx.execute("SELECT DISTINCT node_id, capacity FROM ship_days").fetchall()
    for node_id, counted in rows:
        now = capacity.get(node_id, 0)
        if now == counted:
            continue
        if now > 0:
            tx.execute(
                "UPDATE ship_days SET capacity = ?, is_full = CASE WHEN shipments >= ? THEN 1 "
                "ELSE 0 END WHERE node_id = ? AND capacity = ?",
                (now, now, node_id, counted),
            )
        else:
            tx.execute(
                "UPDATE ship_days SET capacity = 0, is_full = 0 WHERE node_id = ? AND capacity = ?",
                (node_id, counted),
            )


def free_days(tx: Transaction, reservation_id: str, node_ids: Sequence[str] | None = None) -> None:
    """Give back the days a released or expired reservation counted (only those of
    ``node_ids`` when given: the shipments a re-route took away)."""
    rows = tx.execute(
        "SELECT node_id, ship_date FROM reservation_ship_days WHERE reservation_id = ?",
        (reservation_id,),
    ).fetchall()
    if node_ids is not None:
        wanted = set(node_ids)
        rows = [row for row in rows if row[0] in wanted]
    for node_id, when in rows:
        tx.execute(
            "UPDATE ship_days SET shipments = shipments - 1, "
            "is_full = CASE WHEN shipments - 1 >= capacity THEN 1 ELSE 0 END "
            "WHERE node_id = ? AND ship_date = ?",
            (node_id, when),
        )
        tx.execute(
            "DELETE FROM reservation_ship_days WHERE reservation_id = ? AND node_id = ?",
            (reservation_id, node_id),
        )


class ShipDays:
    """The ship days of the ledger, for planners."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def full(self, today: date) -> dict[str, frozenset[date]]:
        """The full days of each node, from :data:`FULL_DAYS_BACK` days before ``today``."""
        since = (today - timedelta(days=FULL_DAYS_BACK)).isoformat()
        found: dict[str, set[date]] = {}
        with self.db.read() as tx:
            for node_id, when in tx.execute(
                "SELECT node_id, ship_date FROM ship_days WHERE is_full = 1 AND ship_date >= ?",
                (since,),
            ):
                found.setdefault(node_id, set()).add(date.fromisoformat(when))
        return {node_id: frozenset(days) for node_id, days in found.items()}

    def counts(self, node_id: str) -> dict[date, int]:
        """Shipments held or committed per ship date at one node (for reports and tests)."""
        with self.db.read() as tx:
            return {
                date.fromisoformat(when): shipments
                for when, shipments in tx.execute(
                    "SELECT ship_date, shipments FROM ship_days WHERE node_id = ? "
                    "AND shipments > 0 ORDER BY ship_date",
                    (node_id,),
                )
            }
