"""The service tests that exercise the ledger (reservations, idempotency, stock updates and
pages, re-routes, returns, long-running operations, daily capacity, order life, channel fences, future stock), run again with the server's ledger on
a fresh PostgreSQL database instead of a SQLite file: the ``db_path`` fixture below
overrides the one of ``tests/server/conftest.py`` for the tests imported here."""

from __future__ import annotations

from collections.abc import Iterator

import pg
import pytest

from omniroute.ledger import open_ledger
from omniroute.model import Network

from .test_capacity_service import (
    test_a_full_day_moves_the_next_shipment_to_the_next_working_day,
    test_a_full_day_sends_the_order_elsewhere_when_that_is_cheaper,
    test_a_reroute_counts_the_days_it_adds_and_frees_those_it_takes_away,
)
from .test_fences_service import (
    fenced_client,
    fenced_db,
    test_each_channel_is_told_what_it_may_take,
    test_two_channels_racing_for_a_stores_stock,
)
from .test_inbound_service import (
    test_a_backorder_and_a_pre_order_are_held_and_ship_as_promised,
    test_a_cut_after_a_partial_receipt_re_promises_only_the_orders_it_must,
    test_a_supply_that_slips_or_shrinks_re_promises_its_orders,
    test_an_order_is_promised_from_supply_in_transit_and_ships_once_received,
    test_bad_inbound_supply_changes_nothing,
)
from .test_omnichannel import (
    test_pickup_from_the_stores_own_stock,
    test_reroute_errors,
    test_reroute_on_rejection,
    test_return_anywhere,
    test_return_goes_where_it_is_needed,
)
from .test_order_service import (
    test_a_return_of_the_order_joins_its_timeline,
    test_cancel_after_a_shipment_releases_exactly_the_unshipped_units,
    test_cancel_some_lines_and_then_the_rest,
    test_commit_release_and_reroute_are_recorded_in_the_order,
    test_list_orders_by_customer_and_by_node,
    test_nonsensical_transitions_are_refused_and_change_nothing,
    test_partial_shipment_second_shipment_and_delivery,
)
from .test_scenarios import test_cancelled_scenario_ends_cancelled, test_scenario_service_operation
from .test_service import (
    test_bad_stock_update_changes_nothing,
    test_list_stock_positions_pages_and_filters,
    test_plan_and_reserve,
    test_put_and_get_network,
    test_release_and_unknown_reservation,
    test_reserve_is_aborted_when_stock_keeps_changing,
    test_reserve_replans_on_fresh_stock,
    test_reserve_retry_returns_the_first_answer,
    test_stock_update_is_idempotent,
    test_update_and_get_stock,
)

__all__ = [
    "test_a_backorder_and_a_pre_order_are_held_and_ship_as_promised",
    "test_a_cut_after_a_partial_receipt_re_promises_only_the_orders_it_must",
    "test_a_supply_that_slips_or_shrinks_re_promises_its_orders",
    "test_an_order_is_promised_from_supply_in_transit_and_ships_once_received",
    "test_bad_inbound_supply_changes_nothing",
    "fenced_client",
    "fenced_db",
    "test_each_channel_is_told_what_it_may_take",
    "test_two_channels_racing_for_a_stores_stock",
    "test_a_return_of_the_order_joins_its_timeline",
    "test_cancel_after_a_shipment_releases_exactly_the_unshipped_units",
    "test_cancel_some_lines_and_then_the_rest",
    "test_commit_release_and_reroute_are_recorded_in_the_order",
    "test_list_orders_by_customer_and_by_node",
    "test_nonsensical_transitions_are_refused_and_change_nothing",
    "test_partial_shipment_second_shipment_and_delivery",
    "test_a_full_day_moves_the_next_shipment_to_the_next_working_day",
    "test_a_full_day_sends_the_order_elsewhere_when_that_is_cheaper",
    "test_a_reroute_counts_the_days_it_adds_and_frees_those_it_takes_away",
    "test_bad_stock_update_changes_nothing",
    "test_cancelled_scenario_ends_cancelled",
    "test_list_stock_positions_pages_and_filters",
    "test_pickup_from_the_stores_own_stock",
    "test_plan_and_reserve",
    "test_put_and_get_network",
    "test_release_and_unknown_reservation",
    "test_reroute_errors",
    "test_reroute_on_rejection",
    "test_reserve_is_aborted_when_stock_keeps_changing",
    "test_reserve_replans_on_fresh_stock",
    "test_reserve_retry_returns_the_first_answer",
    "test_return_anywhere",
    "test_return_goes_where_it_is_needed",
    "test_scenario_service_operation",
    "test_stock_update_is_idempotent",
    "test_update_and_get_stock",
]


@pytest.fixture()
def db_path(postgres_uri: str, tiny_network: Network) -> Iterator[str]:
    """A fresh PostgreSQL ledger holding the tiny network (in place of a SQLite file)."""
    uri = pg.fresh_database(postgres_uri)
    ledger = open_ledger(uri)
    ledger.put_network(tiny_network)
    ledger.close()
    yield uri
    pg.drop_database(uri)
