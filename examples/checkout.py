"""A checkout and a store till: delivery quotes for a cart, and "save the sale" availability.

``Planner.quote`` gives the options a checkout can show (price against arrival), nothing
reserved; ``Planner.availability`` tells a store associate where a customer can still get
the items: in this store, at another pick-up store, or delivered.
"""

from pathlib import Path

import omniroute
from omniroute import Location, OrderLine

DATA = Path(__file__).parent / "data"
planner = omniroute.Planner(omniroute.read_network(DATA / "network.json"))

cart = [OrderLine("1", "COAT", 1), OrderLine("2", "TEE", 2)]
quote = planner.quote(cart, Location(-37.85, 145.0))
print("delivery options for the cart:")
for option in quote.options:
    print(
        f"  arrives in {option.delivery_days} day(s) for {option.total_cost:.2f} "
        f"in {len(option.shipments)} shipment(s)"
    )

found = planner.availability(["COAT"], store_id="ST2", location=Location(-37.56, 143.86))
print("\nwhere the customer in Ballarat can get a coat:")
for offer in found.nodes:
    print(
        f"  {offer.fulfilment.value:9} {offer.node_id:4} {offer.distance_km:6.1f} km"
        f"  ATP {dict(offer.atp)}"
    )
try:
    planner.availability(["NO-SUCH-SKU"])  # bad input: every problem, nothing planned
except omniroute.ValidationError as error:
    print(f"\n{error}")
