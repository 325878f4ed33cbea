// omniroute._core: the engine's hot loops in C++, over numpy arrays, without the GIL.
//
// * Network.problem: one order's problem in one call, the work of omniroute.candidates:
//   candidate nodes (holders of its SKUs' ATP), distances (geo.distances_km's, numpy's
//   arctan2 included, so that zone edges fall exactly as the cost model says), lanes (node,
//   carrier service, resolved zone) and the stock figures;
// * bounds, front_bounds, part_bounds: per delivery-day cap, the best single-node plan and
//   the lower bound on every plan with two or more shipments (front_bounds: at the distinct
//   lane days; part_bounds: for the part of an order some SKUs make, without building it);
// * Reduction: an exactness-preserving reduction of the candidates: for every cap and every
//   load (units per SKU a shipment may carry), only the K cheapest nodes that can ship it
//   within the cap are kept, K bounding the shipments of any plan cheaper than the
//   incumbent. Nodes with the same lanes within the cap differ only by their handling
//   costs, so they are ranked once per load size instead of costed one by one;
// * Dp: the exact dynamic programme over candidates of omniroute.dp (states = units
//   covered per SKU, optionally with the shipments used), with reconstruction.
//
// The Python modules keep the meaning; these functions compute the same numbers (costs in
// micro-units of currency for the DP, as omniroute.dp) and are cross-checked against the
// Python reference and brute force by the tests.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace py = pybind11;
using i64 = std::int64_t;
using Ints = py::array_t<i64, py::array::c_style | py::array::forcecast>;
using Doubles = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Bools = py::array_t<bool, py::array::c_style | py::array::forcecast>;

namespace {

constexpr double PARCEL_TOLERANCE = 1e-9;
constexpr double INF_D = std::numeric_limits<double>::infinity();
constexpr i64 MONEY_SCALE = 1000000;
constexpr i64 SHIP_SCALE = 1 << 10;
constexpr i64 INF = i64(1) << 61;
constexpr int HAND_OVER = -1;
constexpr double DEGREES = M_PI / 180.0;  // math.radians and numpy.radians: x * (pi / 180)
constexpr double EARTH_RADIUS_KM = 6371.009;  // omniroute.geo

template <typename T>
py::array_t<T> to_array(const std::vector<T>& values) {
    py::array_t<T> out(static_cast<py::ssize_t>(values.size()));
    std::copy(values.begin(), values.end(), out.mutable_data());
    return out;
}

template <typename T>
py::array_t<T> to_matrix(const std::vector<T>& values, py::ssize_t rows, py::ssize_t cols) {
    py::array_t<T> out({rows, cols});
    std::copy(values.begin(), values.end(), out.mutable_data());
    return out;
}

// An argument as an array of T: borrowed when it already is one (C-contiguous, of T's dtype),
// else converted as the forcecast casters do (null, with the Python error set, when it
// cannot be). pybind11's array_t caster converts every argument through numpy, which costs
// more than the fast path's own work.
template <typename A>
A array_of(const py::handle& value) {
    if (A::check_(value)) return py::reinterpret_borrow<A>(value);
    return A::ensure(value);
}

double parcels(double weight, double max_parcel) {
    // max(1, ceil(W / P - tolerance)); P is inf when the service has no limit
    return std::max(1.0, std::ceil(weight / max_parcel - PARCEL_TOLERANCE));
}

// ------------------------------------------------------------------------- the network

struct Network {
    std::vector<double> lat, lon, sin_lat, cos_lat, hs, hu;
    std::vector<i64> processing;
    std::vector<char> usable;
    std::vector<char> offers;  // n x services
    int services = 0, zones = 0;
    std::vector<double> zone_max, zone_base, zone_per_kg;  // services x zones
    std::vector<i64> zone_transit, zone_count;
    std::vector<double> max_parcel;
    py::object arctan2;  // numpy.arctan2

    Network(Doubles latitude, Doubles longitude, Doubles handling_shipment,
            Doubles handling_unit, Ints processing_days, Bools usable_nodes, Bools offered,
            Doubles zone_max_table, Doubles zone_base_table, Doubles zone_per_kg_table,
            Ints zone_transit_table, Ints zone_counts, Doubles parcel_limits) {
        auto n = latitude.size();
        lat.assign(latitude.data(), latitude.data() + n);
        lon.assign(longitude.data(), longitude.data() + n);
        for (py::ssize_t i = 0; i < n; ++i) {
            sin_lat.push_back(std::sin(lat[i] * DEGREES));
            cos_lat.push_back(std::cos(lat[i] * DEGREES));
        }
        arctan2 = py::module_::import("numpy").attr("arctan2");
        hs.assign(handling_shipment.data(), handling_shipment.data() + n);
        hu.assign(handling_unit.data(), handling_unit.data() + n);
        processing.assign(processing_days.data(), processing_days.data() + n);
        usable.assign(usable_nodes.data(), usable_nodes.data() + n);
        services = static_cast<int>(zone_counts.size());
        zones = services ? static_cast<int>(zone_max_table.shape(1)) : 0;
        offers.assign(offered.data(), offered.data() + n * services);
        zone_max.assign(zone_max_table.data(), zone_max_table.data() + services * zones);
        // base, per-kg and transit tables have one padding column (zones + 1)
        for (int s = 0; s < services; ++s) {
            for (int z = 0; z < zones; ++z) {
                zone_base.push_back(zone_base_table.data()[s * (zones + 1) + z]);
                zone_per_kg.push_back(zone_per_kg_table.data()[s * (zones + 1) + z]);
                zone_transit.push_back(zone_transit_table.data()[s * (zones + 1) + z]);
            }
        }
        zone_count.assign(zone_counts.data(), zone_counts.data() + services);
        max_parcel.assign(parcel_limits.data(), parcel_limits.data() + services);
    }

    // One order's problem in one call (omniroute.candidates.build_problem): its candidates
    // (usable, not excluded nodes holding ATP of its SKUs, ascending), their distances to
    // the destination, their lanes (node, carrier service, resolved zone) within the
    // promise, and the candidates kept (those with such a lane), renumbered. The ATP is
    // max(0, on hand - reserved - safety stock) of each SKU's holders. A sourcing profile
    // adds a distance limit (max_distance > 0: farther candidates have no lane) and a cost
    // per shipment for each node (adjustment: one per node, or empty for none), added to
    // the lanes' handling cost per shipment.
    //
    // Distances are geo.distances_km's, to the bit: the same double operations in the
    // same order (sines and cosines from the C library, as numpy's), and numpy's own
    // arctan2 (its SIMD arctan2 can differ from the C library's by an ulp), so that zone
    // edges fall exactly where the cost model puts them.
    py::tuple problem(const py::list& holder_list, const py::list& on_hand_list,
                      const py::list& safety_stock_list, const py::list& reserved_list,
                      const py::object& excluded, double latitude, double longitude, i64 pickup,
                      i64 promise_days, double max_distance, const py::object& adjustment,
                      const py::object& prices, const std::vector<i64>& skus) const {
        const size_t m = holder_list.size();
        if (on_hand_list.size() != m || safety_stock_list.size() != m || reserved_list.size() != m)
            throw py::value_error("one list of holders, on hand, safety stock and reserved per SKU");
        std::vector<Ints> holders, on_hand, safety_stock, reserved;
        for (size_t k = 0; k < m; ++k) {
            holders.push_back(array_of<Ints>(holder_list[k]));
            on_hand.push_back(array_of<Ints>(on_hand_list[k]));
            safety_stock.push_back(array_of<Ints>(safety_stock_list[k]));
            reserved.push_back(array_of<Ints>(reserved_list[k]));
            if (!holders[k] || !on_hand[k] || !safety_stock[k] || !reserved[k]) throw py::error_already_set();
            const py::ssize_t size = holders[k].size();
            if (on_hand[k].size() != size || safety_stock[k].size() != size || reserved[k].size() != size)
                throw py::value_error("stock columns of one SKU differ in length");
        }
        const Ints excluded_nodes = array_of<Ints>(excluded);
        if (!excluded_nodes) throw py::error_already_set();
        const Doubles adjust = array_of<Doubles>(adjustment);
        if (!adjust) throw py::error_already_set();
        if (adjust.size() != 0 && static_cast<size_t>(adjust.size()) != lat.size())
            throw py::value_error("one cost adjustment per node, or none");
        const double* adjust_of = adjust.size() ? adjust.data() : nullptr;
        // the look-ahead's prices per unit, (nodes, SKUs) over the network, or None
        Doubles price_table;
        const bool priced = !prices.is_none();
        if (priced) {
            price_table = array_of<Doubles>(prices);
            if (!price_table) throw py::error_already_set();
            if (price_table.ndim() != 2 || static_cast<size_t>(price_table.shape(0)) != lat.size() ||
                skus.size() != m)
                throw py::value_error("prices: one row per node, and one SKU index per SKU");
            for (i64 k : skus)
                if (k < 0 || k >= price_table.shape(1)) throw py::value_error("prices: SKU index out of range");
        }
        const double* price_of = priced ? price_table.data() : nullptr;
        const size_t price_stride = priced ? static_cast<size_t>(price_table.shape(1)) : 0;
        std::vector<i64> cand, full, atp_usable(m, 0);
        std::vector<double> y, x;
        {
            py::gil_scoped_release release;
            std::vector<char> seen(lat.size(), 0);
            for (py::ssize_t e = 0; e < excluded_nodes.size(); ++e) seen[excluded_nodes.data()[e]] = 2;
            auto atp_of = [&](size_t k, py::ssize_t i) {
                i64 v = on_hand[k].data()[i] - reserved[k].data()[i] - safety_stock[k].data()[i];
                return v > 0 ? v : i64(0);
            };
            for (size_t k = 0; k < m; ++k) {
                const i64* h = holders[k].data();
                for (py::ssize_t i = 0; i < holders[k].size(); ++i) {
                    if (atp_of(k, i) > 0 && !seen[h[i]] && usable[h[i]]) {
                        seen[h[i]] = 1;
                        cand.push_back(h[i]);
                    }
                }
            }
            std::sort(cand.begin(), cand.end());
            const size_t n = cand.size();
            full.assign(n * m, 0);
            for (size_t k = 0; k < m; ++k) {
                const i64* h = holders[k].data();
                size_t c = 0;
                for (py::ssize_t i = 0; i < holders[k].size(); ++i) {
                    i64 a = atp_of(k, i);
                    if (a <= 0) continue;
                    while (c < n && cand[c] < h[i]) ++c;
                    if (c < n && cand[c] == h[i]) full[c * m + k] = a;
                }
            }
            for (size_t c = 0; c < n; ++c)
                for (size_t k = 0; k < m; ++k) atp_usable[k] += full[c * m + k];
            // geo.distances_km up to its arctan2: y and x of arctan2(y, x)
            const double lat2 = latitude * DEGREES;
            const double sin_lat2 = std::sin(lat2), cos_lat2 = std::cos(lat2);
            y.resize(n);
            x.resize(n);
            for (size_t c = 0; c < n; ++c) {
                const size_t node = static_cast<size_t>(cand[c]);
                const double delta = (longitude - lon[node]) * DEGREES;
                const double sin_delta = std::sin(delta), cos_delta = std::cos(delta);
                const double a = cos_lat2 * sin_delta;
                const double b = cos_lat[node] * sin_lat2 - sin_lat[node] * cos_lat2 * cos_delta;
                y[c] = std::sqrt(a * a + b * b);
                x[c] = sin_lat[node] * sin_lat2 + cos_lat[node] * cos_lat2 * cos_delta;
            }
        }
        py::array_t<double> angle = arctan2(to_array(y), to_array(x));
        const size_t n = cand.size();
        const double* theta = angle.data();
        std::vector<i64> nodes, atp;
        std::vector<double> distances;
        std::vector<i64> lane_node, lane_service, lane_days;
        std::vector<double> lane_base, lane_per_kg, lane_parcel, lane_hs, lane_hu;
        std::vector<i64> atp_reachable(m, 0), atp_in_promise(m, 0);
        std::vector<double> price;
        bool any_price = false;
        {
            py::gil_scoped_release release;
            // room for every candidate and two lanes each: no regrowth on most orders
            for (auto* v : {&lane_node, &lane_service, &lane_days}) v->reserve(2 * n);
            for (auto* v : {&lane_base, &lane_per_kg, &lane_parcel, &lane_hs, &lane_hu}) v->reserve(2 * n);
            nodes.reserve(n);
            distances.reserve(n);
            atp.reserve(n * m);
            const bool limited = max_distance > 0;
            for (size_t c = 0; c < n; ++c) {
                const i64 node = cand[c];
                const double dist = EARTH_RADIUS_KM * theta[c];
                const bool beyond = limited && dist > max_distance;
                const double handling = adjust_of ? hs[node] + adjust_of[node] : hs[node];
                bool reachable = false;
                size_t first = lane_node.size();
                auto add = [&](i64 service, double base, double per_kg, double parcel, i64 transit) {
                    reachable = true;
                    i64 days = processing[node] + transit;
                    if (promise_days > 0 && days > promise_days) return;
                    lane_node.push_back(static_cast<i64>(nodes.size()));
                    lane_service.push_back(service);
                    lane_days.push_back(days);
                    lane_base.push_back(base);
                    lane_per_kg.push_back(per_kg);
                    lane_parcel.push_back(parcel);
                    lane_hs.push_back(handling);
                    lane_hu.push_back(hu[node]);
                };
                if (beyond) {
                    // outside the profile's reach: no lane
                } else if (node == pickup) add(HAND_OVER, 0.0, 0.0, INF_D, 0);
                else {
                    for (int s = 0; s < services; ++s) {
                        if (!offers[node * services + s]) continue;
                        int zone = 0;
                        for (int z = 0; z < zones; ++z)
                            if (zone_max[s * zones + z] < dist) ++zone;
                        if (zone >= zone_count[s]) continue;
                        add(s, zone_base[s * zones + zone], zone_per_kg[s * zones + zone],
                            max_parcel[s], zone_transit[s * zones + zone]);
                    }
                }
                bool within = lane_node.size() > first;
                for (size_t k = 0; k < m; ++k) {
                    if (reachable) atp_reachable[k] += full[c * m + k];
                    if (within) atp_in_promise[k] += full[c * m + k];
                }
                if (within) {
                    nodes.push_back(node);
                    distances.push_back(dist);
                    for (size_t k = 0; k < m; ++k) atp.push_back(full[c * m + k]);
                    if (priced)
                        for (size_t k = 0; k < m; ++k) {
                            const double v = price_of[static_cast<size_t>(node) * price_stride +
                                                      static_cast<size_t>(skus[k])];
                            price.push_back(v);
                            any_price |= v != 0.0;
                        }
                }
            }
        }
        return py::make_tuple(
            to_array(nodes),
            to_matrix(atp, static_cast<py::ssize_t>(nodes.size()), static_cast<py::ssize_t>(m)),
            to_array(distances), to_array(lane_node), to_array(lane_service), to_array(lane_base),
            to_array(lane_per_kg), to_array(lane_parcel), to_array(lane_days), to_array(lane_hs),
            to_array(lane_hu), to_array(atp_usable), to_array(atp_reachable),
            to_array(atp_in_promise),
            any_price ? py::object(to_matrix(price, static_cast<py::ssize_t>(nodes.size()),
                                             static_cast<py::ssize_t>(m)))
                      : py::object(py::none()));
    }
};

// ------------------------------------------------------------------------- a problem view

struct Problem {
    size_t n, m, lanes;
    const i64* atp;  // n x m
    const i64* demand;
    const double* weight;
    const i64* lane_node;
    const double *base, *per_kg, *parcel, *hs, *hu;
    const i64* days;
    // n x m, or none: a price per unit of each SKU at each candidate on top of the cost model
    // (the look-ahead's opportunity cost, >= 0, so every bound below stays valid)
    const double* price = nullptr;
    std::vector<size_t> start;  // lanes of candidate c: [start[c], start[c + 1])

    Problem(const Ints& atp_, const Ints& demand_, const Doubles& weight_, const Ints& lane_node_,
            const Doubles& base_, const Doubles& per_kg_, const Doubles& parcel_,
            const Ints& days_, const Doubles& hs_, const Doubles& hu_, const Doubles& price_)
        : n(static_cast<size_t>(atp_.ndim() == 2 ? atp_.shape(0) : 0)),
          m(static_cast<size_t>(demand_.size())), lanes(static_cast<size_t>(lane_node_.size())),
          atp(atp_.data()), demand(demand_.data()), weight(weight_.data()),
          lane_node(lane_node_.data()), base(base_.data()), per_kg(per_kg_.data()),
          parcel(parcel_.data()), hs(hs_.data()), hu(hu_.data()), days(days_.data()),
          price(price_.size() ? price_.data() : nullptr) {
        if (price && static_cast<size_t>(price_.size()) != n * m)
            throw py::value_error("price: expected one entry per candidate and SKU");
        index_lanes();
    }

    Problem(size_t n_, size_t m_, size_t lanes_, const i64* atp_, const i64* demand_,
            const double* weight_, const i64* lane_node_, const double* base_,
            const double* per_kg_, const double* parcel_, const i64* days_, const double* hs_,
            const double* hu_, const double* price_)
        : n(n_), m(m_), lanes(lanes_), atp(atp_), demand(demand_), weight(weight_),
          lane_node(lane_node_), base(base_), per_kg(per_kg_), parcel(parcel_), hs(hs_), hu(hu_),
          days(days_), price(price_) {
        index_lanes();
    }

    void index_lanes() {
        start.assign(n + 1, lanes);
        for (size_t l = lanes; l-- > 0;) start[lane_node[l]] = l;
        for (size_t c = n; c-- > 0;)
            if (start[c] > start[c + 1]) start[c] = start[c + 1];
    }

    double cost(size_t lane, double w, double units) const {
        return parcels(w, parcel[lane]) * base[lane] + per_kg[lane] * w + hs[lane] + hu[lane] * units;
    }

    // the priced part of load q (units per SKU) at candidate c: 0 without prices
    double priced(size_t c, const i64* q) const {
        if (!price) return 0.0;
        double total = 0.0;
        for (size_t k = 0; k < m; ++k) total += price[c * m + k] * static_cast<double>(q[k]);
        return total;
    }

    // the cost of one more unit of SKU k on `lane` (one parcel: weight, handling and price)
    double unit(size_t lane, size_t k) const {
        double u = per_kg[lane] * weight[k] + hu[lane];
        return price ? u + price[static_cast<size_t>(lane_node[lane]) * m + k] : u;
    }
};

// ------------------------------------------------------------------------- loads

// All load vectors q <= demand in mixed-radix order (the last SKU varies fastest), with
// their units and weight, as omniroute.dp.demand_shape.
struct Loads {
    size_t m, size;
    std::vector<i64> radix, stride, vec;  // vec: size x m
    std::vector<double> weight;
    std::vector<i64> units;

    Loads(const i64* demand, const double* w, size_t m_) : m(m_) {
        radix.resize(m);
        stride.assign(m, 1);
        size = 1;
        for (size_t k = 0; k < m; ++k) {
            radix[k] = demand[k] + 1;
            size *= static_cast<size_t>(radix[k]);
        }
        for (size_t k = m; k-- > 1;) stride[k - 1] = stride[k] * radix[k];
        vec.assign(size * m, 0);
        weight.assign(size, 0.0);
        units.assign(size, 0);
        for (size_t s = 0; s < size; ++s) {
            size_t rest = s;
            double total = 0.0;
            i64 count = 0;
            for (size_t k = 0; k < m; ++k) {
                i64 q = static_cast<i64>(rest / static_cast<size_t>(stride[k]));
                rest %= static_cast<size_t>(stride[k]);
                vec[s * m + k] = q;
                total += static_cast<double>(q) * w[k];
                count += q;
            }
            weight[s] = total;
            units[s] = count;
        }
    }

    bool fits(size_t s, const i64* atp_row) const {
        for (size_t k = 0; k < m; ++k)
            if (vec[s * m + k] > atp_row[k]) return false;
        return true;
    }

    // SKUs a load carries (bit k: q_k >= 1) and whether it carries two units of some SKU
    std::vector<std::uint64_t> masks() const {
        std::vector<std::uint64_t> out(size, 0);
        for (size_t s = 0; s < size; ++s)
            for (size_t k = 0; k < m && k < 64; ++k)
                if (vec[s * m + k] > 0) out[s] |= std::uint64_t(1) << k;
        return out;
    }

    std::vector<char> multi() const {
        std::vector<char> out(size, 0);
        for (size_t s = 0; s < size; ++s)
            for (size_t k = 0; k < m; ++k)
                if (vec[s * m + k] > 1 || k >= 64) out[s] = 1;
        return out;
    }
};

// ------------------------------------------------------------------------- reduce

// For each cap and load, the K cheapest nodes that can ship it (and ties), for any K up to
// kmax. Nodes whose lanes within the cap are the same (base, per kg, parcel limit) form a
// group: a load costs the same lane part at each of them, plus the node's handling (and,
// with prices, the load's price there), so each group is ranked once per load size (per
// load, with prices) and walked only until it has given K nodes.
// members of a node group holding one SKU, cheapest handling first (maybe a prefix only)
struct Ranking {
    bool partial = false;
    size_t prefix = 0;
    std::vector<size_t> nodes;
};

// Whether candidate c has a lane within `cap` days.
inline bool reaches(const Problem& p, size_t c, i64 cap) {
    for (size_t l = p.start[c]; l < p.start[c + 1]; ++l)
        if (p.days[l] <= cap) return true;
    return false;
}

// What load s costs at candidate c on its cheapest lane within `cap` days: the lane part
// (parcels, weight) plus the node's handling and, with prices, the load's price there.
inline double load_cost(const Problem& p, const Loads& loads, size_t c, size_t s, i64 cap) {
    const double w = loads.weight[s], uu = static_cast<double>(loads.units[s]);
    double lane_part = INF_D;
    for (size_t l = p.start[c]; l < p.start[c + 1]; ++l)
        if (p.days[l] <= cap)
            lane_part = std::min(lane_part, parcels(w, p.parcel[l]) * p.base[l] + p.per_kg[l] * w);
    return lane_part + (p.hs[p.start[c]] + p.hu[p.start[c]] * uu + p.priced(c, loads.vec.data() + s * p.m));
}

// Lower bounds on the plans by their number of shipments, from each load's cheapest cost
// (`cheapest[s]`, inf: no node ships it alone): out[k - 1] for exactly k shipments, the
// last entry for `parts` or more. A relaxation that ships each load of a partition of the
// demand at its cheapest node, the same node allowed twice: a plan with k shipments costs at
// least the sum of its loads' cheapest costs plus k - 1 split penalties. A DP over the loads
// (mixed radix: a load's sub-loads come before it), each sub-load of each load visited once.
std::vector<double> parts_bounds_of(const Loads& loads, const std::vector<double>& cheapest,
                                    double penalty, size_t parts) {
    const size_t size = loads.size, m = loads.m;
    std::vector<double> out;
    if (size < 2 || parts < 1) return out;
    // layer t (0-based): exactly t + 1 loads; the last layer: parts or more
    std::vector<double> layer(parts * size, INF_D);
    for (size_t s = 1; s < size; ++s) layer[s] = cheapest[s];
    // one load a of s, the rest s - a in the layer below (or, for the last layer, in the
    // last layer itself: one more load on a plan that already has `parts` or more)
    auto split = [&](size_t s, size_t a) {
        const double head = layer[a];
        if (head >= INF_D) return;
        const size_t rest = s - a;
        for (size_t t = 1; t < parts; ++t) {
            double v = layer[(t - 1) * size + rest] + head + penalty;
            if (v < layer[t * size + s]) layer[t * size + s] = v;
        }
        double v = layer[(parts - 1) * size + rest] + head + penalty;
        if (parts > 1 && v < layer[(parts - 1) * size + s]) layer[(parts - 1) * size + s] = v;
    };
    bool units = true;  // one unit of every SKU: a load's index is the bit mask of its SKUs
    for (size_t k = 0; k < m; ++k) units &= loads.radix[k] == 2;
    if (units) {
        for (size_t s = 1; s < size; ++s)
            for (size_t a = (s - 1) & s; a > 0; a = (a - 1) & s) split(s, a);
    } else {
        std::vector<i64> digit(m, 0);
        for (size_t s = 1; s < size; ++s) {
            const i64* top = loads.vec.data() + s * m;
            // sub-loads a of s, 0 < a < s, by an odometer over s's digits
            std::fill(digit.begin(), digit.end(), 0);
            size_t a = 0;
            while (true) {
                size_t k = m;
                while (k-- > 0) {  // next digit vector (the last SKU fastest)
                    if (digit[k] < top[k]) {
                        ++digit[k];
                        a += static_cast<size_t>(loads.stride[k]);
                        break;
                    }
                    a -= static_cast<size_t>(loads.stride[k] * digit[k]);
                    digit[k] = 0;
                }
                if (k > m || a == s) break;  // wrapped around, or a is s itself
                split(s, a);
            }
        }
    }
    for (size_t t = 0; t < parts; ++t) out.push_back(layer[t * size + size - 1]);
    return out;
}

constexpr size_t PREFIX = 64;
constexpr size_t DIRECT_LIMIT = 65536;  // nodes x loads costed one by one (add_row_direct)

struct Reduction {
    py::object alive;  // the arrays p views
    Problem p;
    size_t n = 0, size = 0, kmax = 1;
    std::vector<char> all;  // the order has too many loads: keep every candidate
    std::vector<std::vector<std::vector<std::pair<double, size_t>>>> best;  // cap row, load
    // what does not depend on the cap, computed once for every row added
    std::unique_ptr<Loads> loads;
    std::vector<std::uint64_t> load_mask, node_mask, lane_type;
    bool direct = false;  // few nodes x loads: rows by add_row_direct
    std::vector<char> load_multi;
    std::vector<size_t> rarest;
    std::vector<std::tuple<double, double, double>> types;

    Reduction(Problem problem, py::object arrays, const std::vector<i64>& caps, size_t kmax_,
              size_t state_limit, size_t direct_limit = DIRECT_LIMIT)
        : alive(std::move(arrays)), p(std::move(problem)), n(p.n) {
        py::gil_scoped_release release;
        loads = std::make_unique<Loads>(p.demand, p.weight, p.m);
        size = loads->size;
        if (loads->size > state_limit) {
            all.assign(1, 1);
            return;
        }
        kmax = std::max<size_t>(1, kmax_);
        // fast test of "the node holds every SKU of the load": bit masks of holdings
        load_mask = loads->masks();
        load_multi = loads->multi();
        node_mask.assign(p.n, 0);
        for (size_t c = 0; c < p.n; ++c)
            for (size_t k = 0; k < p.m && k < 64; ++k)
                if (p.atp[c * p.m + k] > 0) node_mask[c] |= std::uint64_t(1) << k;
        direct = p.n * loads->size <= direct_limit;
        if (!direct) prepare_groups();
        for (i64 cap : caps) add_row(cap);
    }

    // what the grouped rows need: each load's rarest SKU and the lanes' types
    void prepare_groups() {
        std::vector<size_t> holders_of(p.m, 0);
        for (size_t c = 0; c < p.n; ++c)
            for (size_t k = 0; k < p.m; ++k) holders_of[k] += p.atp[c * p.m + k] > 0;
        rarest.assign(loads->size, 0);
        for (size_t s = 1; s < loads->size; ++s) {
            size_t best_k = p.m;
            for (size_t k = 0; k < p.m; ++k)
                if (loads->vec[s * p.m + k] > 0 && (best_k == p.m || holders_of[k] < holders_of[best_k]))
                    best_k = k;
            rarest[s] = best_k;
        }
        // lane types: the distinct (base, per kg, parcel limit) of the order's lanes
        std::map<std::tuple<double, double, double>, std::uint64_t> type_of;
        lane_type.assign(p.lanes, 0);
        for (size_t l = 0; l < p.lanes; ++l) {
            auto key = std::make_tuple(p.base[l], p.per_kg[l], p.parcel[l]);
            auto it = type_of.find(key);
            if (it == type_of.end()) {
                it = type_of.emplace(key, types.size()).first;
                types.push_back(key);
            }
            lane_type[l] = it->second;
        }
    }

    // what load s costs at candidate c on top of the lane part
    double handling(size_t s, size_t c, double uu) const {
        return p.hs[p.start[c]] + p.hu[p.start[c]] * uu + p.priced(c, loads->vec.data() + s * p.m);
    }

    bool fits(size_t s, size_t c) const {
        if ((node_mask[c] & load_mask[s]) != load_mask[s]) return false;
        return !load_multi[s] || loads->fits(s, p.atp + c * p.m);
    }

    // Another cap row (its index), reusing what does not depend on the cap.
    size_t add(i64 cap) {
        py::gil_scoped_release release;
        if (!all.empty()) return 0;
        add_row(cap);
        return best.size() - 1;
    }

    // A small problem's row by costing every (node, load) directly: no groups, no rankings.
    void add_row_direct(i64 cap) {
        best.emplace_back();
        auto& per_load = best.back();
        per_load.assign(loads->size, {});
        for (size_t c = 0; c < p.n; ++c) {
            if (!reaches(p, c, cap)) continue;
            for (size_t s = 1; s < loads->size; ++s) {
                if (!fits(s, c)) continue;
                per_load[s].emplace_back(load_cost(p, *loads, c, s, cap), c);
            }
        }
        for (auto& options : per_load) {
            std::sort(options.begin(), options.end());
            if (options.size() > kmax) {  // the kmax cheapest and their ties
                double threshold = options[kmax - 1].first + 1e-9;
                size_t keep = kmax;
                while (keep < options.size() && options[keep].first <= threshold) ++keep;
                options.resize(keep);
            }
        }
    }

    void add_row(i64 cap) {
        if (direct) {
            add_row_direct(cap);
            return;
        }
        std::map<std::vector<std::uint64_t>, std::vector<size_t>> groups;
        if (types.size() <= 64) {  // a node's lane types as a bit mask
            std::map<std::uint64_t, std::vector<size_t>> by_mask;
            for (size_t c = 0; c < p.n; ++c) {
                std::uint64_t mask = 0;
                for (size_t l = p.start[c]; l < p.start[c + 1]; ++l)
                    if (p.days[l] <= cap) mask |= std::uint64_t(1) << lane_type[l];
                if (mask) by_mask[mask].push_back(c);
            }
            for (auto& [mask, members] : by_mask) {
                std::vector<std::uint64_t> sig;
                for (std::uint64_t t = 0; t < 64; ++t)
                    if (mask >> t & 1) sig.push_back(t);
                groups.emplace(std::move(sig), std::move(members));
            }
        } else {
            std::vector<std::uint64_t> sig;
            for (size_t c = 0; c < p.n; ++c) {
                sig.clear();
                for (size_t l = p.start[c]; l < p.start[c + 1]; ++l)
                    if (p.days[l] <= cap) sig.push_back(lane_type[l]);
                if (sig.empty()) continue;
                std::sort(sig.begin(), sig.end());
                sig.erase(std::unique(sig.begin(), sig.end()), sig.end());
                groups[sig].push_back(c);
            }
        }
        best.emplace_back();
        auto& per_load = best.back();
        per_load.assign(loads->size, {});
        struct Group {
            std::vector<size_t> members;
            std::vector<double> lane_part;  // per load
            double hs_min = INF_D, hu_min = INF_D;
            std::vector<std::vector<size_t>> holders;  // per SKU, the members holding it
            std::map<std::pair<i64, size_t>, Ranking> order;  // (units or load, SKU) -> ranking
        };
        std::vector<Group> group_list;
        for (auto& [group_sig, members] : groups) {
            Group g;
            g.members = std::move(members);
            g.lane_part.assign(loads->size, INF_D);
            for (size_t s = 1; s < loads->size; ++s) {
                double w = loads->weight[s];
                for (std::uint64_t type : group_sig) {
                    auto& [b, k, pl] = types[type];
                    g.lane_part[s] = std::min(g.lane_part[s], parcels(w, pl) * b + k * w);
                }
            }
            g.holders.resize(p.m);
            for (size_t c : g.members) {
                g.hs_min = std::min(g.hs_min, p.hs[p.start[c]]);
                g.hu_min = std::min(g.hu_min, p.hu[p.start[c]]);
                for (size_t k = 0; k < p.m; ++k)
                    if (p.atp[c * p.m + k] > 0) g.holders[k].push_back(c);
            }
            group_list.push_back(std::move(g));
        }
        // cheapest groups first, so that dearer ones are skipped for loads they cannot serve
        std::sort(group_list.begin(), group_list.end(), [&](const Group& a, const Group& b) {
            return a.lane_part[loads->size - 1] + a.hs_min < b.lane_part[loads->size - 1] + b.hs_min;
        });
        // per load, the kmax cheapest costs so far (ascending): a group whose cheapest
        // possible cost is above the kmax-th cannot add a node that matters for the load
        std::vector<double> kbest(loads->size * kmax, INF_D);
        for (Group& g : group_list) {
            for (size_t s = 1; s < loads->size; ++s) {
                i64 u = loads->units[s];
                double uu = static_cast<double>(u);
                auto& options = per_load[s];
                double* best_costs = kbest.data() + s * kmax;
                if (g.lane_part[s] + g.hs_min + g.hu_min * uu > best_costs[kmax - 1] + 1e-9) continue;
                // the group's holders of the load's rarest SKU by handling for u units:
                // the cheapest PREFIX first, more (four times as many) when a walk runs
                // past them
                size_t sku = rarest[s];
                auto key = std::make_pair(p.price ? static_cast<i64>(s) : u, sku);
                auto it = g.order.find(key);
                if (it == g.order.end()) it = g.order.emplace(key, Ranking{}).first;
                Ranking& ranking = it->second;
                auto rank = [&](size_t prefix) {
                    std::vector<std::pair<double, size_t>> ranked;
                    ranked.reserve(g.holders[sku].size());
                    for (size_t c : g.holders[sku]) ranked.emplace_back(handling(s, c, uu), c);
                    ranking.partial = ranked.size() > prefix;
                    if (ranking.partial) {
                        std::nth_element(ranked.begin(), ranked.begin() + prefix, ranked.end());
                        ranked.resize(prefix);
                    }
                    std::sort(ranked.begin(), ranked.end());
                    ranking.prefix = prefix;
                    ranking.nodes.clear();
                    for (auto& [h, c] : ranked) ranking.nodes.push_back(c);
                };
                if (ranking.prefix == 0) rank(PREFIX);
                size_t mark = options.size();
                while (true) {
                    size_t found = 0;
                    double last = INF_D;
                    bool stopped = false;
                    for (size_t c : ranking.nodes) {
                        double h = handling(s, c, uu);
                        if (found >= kmax && h > last) {
                            stopped = true;
                            break;
                        }
                        if (!fits(s, c)) continue;
                        options.emplace_back(g.lane_part[s] + h, c);
                        last = h;
                        ++found;
                    }
                    if (stopped || !ranking.partial) break;
                    options.resize(mark);  // ran past the prefix: rank more of them
                    rank(ranking.prefix * 4);
                }
                for (size_t o = mark; o < options.size(); ++o) {  // keep the kmax cheapest
                    double cost = options[o].first;
                    if (cost >= best_costs[kmax - 1]) continue;
                    size_t at = kmax - 1;
                    while (at > 0 && best_costs[at - 1] > cost) {
                        best_costs[at] = best_costs[at - 1];
                        --at;
                    }
                    best_costs[at] = cost;
                }
            }
        }
        for (auto& options : per_load) std::sort(options.begin(), options.end());
    }

    // The cheapest plan with exactly two shipments at cap row j: load s from one node and
    // the rest from another (the two cheapest nodes of each load are known, so one of them
    // pairs with a distinct node): (cost with the split penalty, node a, load a, node b,
    // load b); cost inf when there is none.
    py::tuple best_pair(size_t j, double penalty) const {
        double best_cost = INF_D;
        i64 na = -1, sa = -1, nb = -1, sb = -1;
        if (all.empty() && j < best.size() && size > 1) {
            const auto& per_load = best[j];
            const size_t full = size - 1;
            for (size_t s = 1; s < full; ++s) {
                size_t rest = full - s;  // mixed radix without borrow: the complement
                if (s > rest) continue;  // each split once
                const auto& a = per_load[s];
                const auto& b = per_load[rest];
                for (size_t x = 0; x < a.size() && x < 2; ++x)
                    for (size_t y = 0; y < b.size() && y < 2; ++y) {
                        if (a[x].second == b[y].second) continue;
                        double cost = a[x].first + b[y].first + penalty;
                        if (cost < best_cost) {
                            best_cost = cost;
                            na = static_cast<i64>(a[x].second);
                            sa = static_cast<i64>(s);
                            nb = static_cast<i64>(b[y].second);
                            sb = static_cast<i64>(rest);
                        }
                    }
            }
        }
        return py::make_tuple(best_cost, na, sa, nb, sb);
    }

    // The cheapest plan with exactly three shipments at cap row j: three loads adding up to
    // the demand, each from one of its kmax >= 3 cheapest nodes, the three nodes distinct
    // (three cheapest per load are enough: whatever nodes the other two loads take, one of
    // a load's three is free). Each unordered triple of loads once (a <= b <= c by index),
    // skipped when its loads' cheapest costs alone reach the best so far.
    // Returns (cost with two split penalties, node a, load a, node b, load b, node c,
    // load c); cost inf when there is none, NaN when the loads were not ranked (too many
    // of them, or kmax < 3).
    py::tuple best_triple(size_t j, double penalty) const {
        double best_cost = INF_D;
        i64 nodes[3] = {-1, -1, -1}, picked[3] = {-1, -1, -1};
        if (!all.empty() || kmax < 3 || j >= best.size())
            return py::make_tuple(std::nan(""), -1, -1, -1, -1, -1, -1);
        if (size > 2) {
            py::gil_scoped_release release;
            const auto& per_load = best[j];
            const size_t m = p.m, full = size - 1;
            std::vector<i64> odometer(m), limit(m);
            double floor = INF_D;  // the cheapest cost of any load (a bound for the other two)
            for (size_t s = 1; s < size; ++s)
                if (!per_load[s].empty()) floor = std::min(floor, per_load[s][0].first);
            for (size_t a = 1; a < full; ++a) {
                const auto& la = per_load[a];
                if (la.empty() || la[0].first + 2.0 * (floor + penalty) >= best_cost) continue;
                const size_t rest = full - a;  // mixed radix without borrow
                // every sub-load b of rest (odometer over its digits), c = rest - b
                for (size_t k = 0; k < m; ++k) {
                    limit[k] = loads->vec[rest * m + k];
                    odometer[k] = 0;
                }
                size_t b = 0;
                while (true) {
                    size_t k = m;
                    while (k-- > 0) {
                        if (odometer[k] < limit[k]) {
                            ++odometer[k];
                            b += static_cast<size_t>(loads->stride[k]);
                            break;
                        }
                        b -= static_cast<size_t>(odometer[k] * loads->stride[k]);
                        odometer[k] = 0;
                    }
                    if (k == static_cast<size_t>(-1)) break;
                    const size_t c = rest - b;
                    if (b < a || c < b || c == 0) continue;
                    const auto& lb = per_load[b];
                    const auto& lc = per_load[c];
                    if (lb.empty() || lc.empty()) continue;
                    if (la[0].first + lb[0].first + lc[0].first + 2.0 * penalty >= best_cost) continue;
                    for (size_t x = 0; x < la.size() && x < 3; ++x)
                        for (size_t y = 0; y < lb.size() && y < 3; ++y) {
                            if (lb[y].second == la[x].second) continue;
                            for (size_t z = 0; z < lc.size() && z < 3; ++z) {
                                if (lc[z].second == la[x].second || lc[z].second == lb[y].second) continue;
                                const double cost = la[x].first + lb[y].first + lc[z].first + 2.0 * penalty;
                                if (cost < best_cost) {
                                    best_cost = cost;
                                    nodes[0] = static_cast<i64>(la[x].second);
                                    nodes[1] = static_cast<i64>(lb[y].second);
                                    nodes[2] = static_cast<i64>(lc[z].second);
                                    picked[0] = static_cast<i64>(a);
                                    picked[1] = static_cast<i64>(b);
                                    picked[2] = static_cast<i64>(c);
                                }
                            }
                        }
                }
            }
        }
        return py::make_tuple(best_cost, nodes[0], picked[0], nodes[1], picked[1], nodes[2], picked[2]);
    }

    // parts_bounds_of at cap row j (empty when the loads were too many to rank)
    std::vector<double> parts_bounds(size_t j, double penalty, size_t parts) const {
        if (!all.empty() || j >= best.size() || size < 2) return {};
        py::gil_scoped_release release;
        std::vector<double> cheapest(size, INF_D);
        for (size_t s = 1; s < size; ++s)
            if (!best[j][s].empty()) cheapest[s] = best[j][s][0].first;
        return parts_bounds_of(*loads, cheapest, penalty, parts);
    }

    // kept candidates when at most ks[j] shipments matter at cap j (ks[j] <= kmax)
    py::array_t<bool> kept(const std::vector<i64>& ks, const std::vector<i64>& must_keep) const {
        py::array_t<bool> out(static_cast<py::ssize_t>(n));
        bool* mask = out.mutable_data();
        std::fill(mask, mask + n, !all.empty());
        for (i64 c : must_keep)
            if (c >= 0 && static_cast<size_t>(c) < n) mask[c] = true;
        for (size_t j = 0; j < best.size() && j < ks.size(); ++j) {
            size_t keep = static_cast<size_t>(std::max<i64>(1, ks[j]));
            for (auto& options : best[j]) {
                if (options.empty()) continue;
                double threshold = options[std::min(keep, options.size()) - 1].first;
                for (auto& [cost, c] : options) {
                    if (cost > threshold + 1e-9) break;
                    mask[c] = true;
                }
            }
        }
        return out;
    }
};

// ------------------------------------------------------------------------- bounds

// The lanes in order of their days, lane order within a day (a counting sort: days are
// small whole numbers).
std::vector<size_t> lanes_by_days(const Problem& p) {
    std::vector<size_t> out(p.lanes);
    if (p.lanes == 0) return out;
    const auto [lo, hi] = std::minmax_element(p.days, p.days + p.lanes);
    const size_t span = static_cast<size_t>(*hi - *lo) + 1;
    if (span > 4096) {
        std::iota(out.begin(), out.end(), size_t(0));
        std::stable_sort(out.begin(), out.end(), [&](size_t a, size_t b) { return p.days[a] < p.days[b]; });
        return out;
    }
    std::vector<size_t> first(span + 1, 0);
    for (size_t l = 0; l < p.lanes; ++l) ++first[static_cast<size_t>(p.days[l] - *lo) + 1];
    for (size_t d = 1; d <= span; ++d) first[d] += first[d - 1];
    for (size_t l = 0; l < p.lanes; ++l) out[first[static_cast<size_t>(p.days[l] - *lo)]++] = l;
    return out;
}

// The distinct days of the lanes, ascending: the delivery-day caps of the front.
std::vector<i64> distinct_days(const Problem& p) {
    std::vector<i64> caps(p.days, p.days + p.lanes);
    std::sort(caps.begin(), caps.end());
    caps.erase(std::unique(caps.begin(), caps.end()), caps.end());
    return caps;
}

struct Bounds {
    std::vector<double> single, split;
    std::vector<i64> single_lane;
};

// Per cap: (best single-node cost, its lane; -1 none) and the split lower bound; lanes are
// taken in order of their days, so each cap extends the previous one. Called without the GIL.
Bounds compute_bounds(const Problem& p, const std::vector<i64>& caps, double penalty, i64 max_shipments) {
    const size_t nc = caps.size();
    Bounds out;
    std::vector<double>& single = out.single;
    std::vector<double>& split = out.split;
    std::vector<i64>& single_lane = out.single_lane;
    single.assign(nc, INF_D);
    split.assign(nc, INF_D);
    single_lane.assign(nc, -1);
    {
        double w_all = 0.0, units_all = 0.0;
        for (size_t k = 0; k < p.m; ++k) {
            w_all += static_cast<double>(p.demand[k]) * p.weight[k];
            units_all += static_cast<double>(p.demand[k]);
        }
        std::vector<char> holds_all(p.n, 1);
        for (size_t c = 0; c < p.n; ++c)
            for (size_t k = 0; k < p.m; ++k)
                if (p.atp[c * p.m + k] < p.demand[k]) holds_all[c] = 0;
        const std::vector<size_t> by_days = lanes_by_days(p);
        const bool none = units_all < 2 || max_shipments == 1 || p.n < 2;
        // running state over the lanes taken so far
        double best_cost = INF_D;
        i64 best_lane = -1, best_days = 0;
        std::vector<char> reach(p.n, 0);
        size_t reached = 0;
        std::vector<i64> covered(p.m, 0);
        std::vector<double> node_min(p.n, INF_D), unit_min(p.m, INF_D);
        double fixed_a = INF_D, fixed_b = INF_D;  // the two cheapest fixed parts
        size_t next = 0;
        for (size_t j = 0; j < nc; ++j) {
            for (; next < by_days.size() && p.days[by_days[next]] <= caps[j]; ++next) {
                size_t l = by_days[next];
                size_t c = static_cast<size_t>(p.lane_node[l]);
                if (holds_all[c]) {  // singles: cheapest, then fewer days, then lane order
                    double cost = p.cost(l, w_all, units_all) + p.priced(c, p.demand);
                    auto key = std::make_tuple(cost, p.days[l], static_cast<i64>(l));
                    if (best_lane < 0 || key < std::make_tuple(best_cost, best_days, best_lane)) {
                        best_cost = cost;
                        best_lane = static_cast<i64>(l);
                        best_days = p.days[l];
                    }
                }
                if (none) continue;
                if (!reach[c]) {
                    reach[c] = 1;
                    ++reached;
                    for (size_t k = 0; k < p.m; ++k) covered[k] += p.atp[c * p.m + k];
                }
                double fixed = p.base[l] + p.hs[l];
                if (fixed < fixed_a) {
                    fixed_b = fixed_a;
                    fixed_a = fixed;
                } else if (fixed < fixed_b) {
                    fixed_b = fixed;
                }
                double cheapest = INF_D;
                for (size_t k = 0; k < p.m; ++k) {
                    if (p.atp[c * p.m + k] <= 0) continue;
                    double u = p.unit(l, k);
                    unit_min[k] = std::min(unit_min[k], u);
                    cheapest = std::min(cheapest, fixed + u);
                }
                node_min[c] = std::min(node_min[c], cheapest);
            }
            single[j] = best_cost;
            single_lane[j] = best_lane;
            if (none || reached < 2) continue;
            bool short_stock = false;
            for (size_t k = 0; k < p.m; ++k)
                if (covered[k] < p.demand[k]) short_stock = true;
            if (short_stock) continue;
            double a = INF_D, b = INF_D;  // the two cheapest one-unit shipments, distinct nodes
            for (size_t c = 0; c < p.n; ++c) {
                double v = node_min[c];
                if (v < a) {
                    b = a;
                    a = v;
                } else if (v < b) {
                    b = v;
                }
            }
            double units_part = 0.0;
            for (size_t k = 0; k < p.m; ++k) units_part += static_cast<double>(p.demand[k]) * unit_min[k];
            split[j] = std::max(a + b + penalty, units_part + fixed_a + fixed_b + penalty);
        }
    }
    return out;
}

py::tuple bounds(const Problem& p, const std::vector<i64>& caps, double penalty, i64 max_shipments) {
    Bounds b;
    {
        py::gil_scoped_release release;
        b = compute_bounds(p, caps, penalty, max_shipments);
    }
    return py::make_tuple(to_array(b.single), to_array(b.single_lane), to_array(b.split));
}

// The front's caps (distinct lane days) and the bounds at each, as Python lists for the
// front's per-cap logic: (caps, single-node cost, its lane, split bound).
py::tuple front_bounds(const Problem& p, double penalty, i64 max_shipments) {
    std::vector<i64> caps;
    Bounds b;
    {
        py::gil_scoped_release release;
        caps = distinct_days(p);
        b = compute_bounds(p, caps, penalty, max_shipments);
    }
    return py::make_tuple(py::cast(caps), py::cast(b.single), py::cast(b.single_lane),
                          py::cast(b.split));
}

constexpr size_t LOWER_RANKED = 64;

// The DP's first step at one cap for an order with few nodes x loads (omniroute.optimizer
// FrontSolver._dp), in one call: each load's two cheapest nodes (every (node, load) costed
// directly, as Reduction's direct rows), the cheapest plan with two shipments from them (as
// Reduction::best_pair), and the most shipments a plan as cheap as the best so far (the single
// node's `single`, the pair, at most `target`) can have: by lower_bounds within `limit`,
// then by parts_bounds_of when that leaves more than two (`pairs`: whether a plan
// may have two shipments, so the pair may be the best so far).
// Returns (pair cost with the split penalty (inf: none), node a, load a, node b, load b, most,
// unique: with no target, the pair is the best plan, the only one this cheap and on no faster
// lanes, so that no plan at a smaller cap is as cheap).
std::vector<double> compute_lower_bounds(const Problem& p, double penalty);

py::tuple split_step(const Problem& p, i64 cap, double penalty, double single, double target,
                     i64 limit, bool pairs, size_t parts) {
    Loads loads(p.demand, p.weight, p.m);
    const size_t size = loads.size;
    double best_cost = INF_D;
    i64 na = -1, nb = -1;
    size_t sa = 0, sb = 0;
    i64 most = 1;
    bool firsts = false;  // the pair is each load's cheapest node
    bool unique = false;
    {
        py::gil_scoped_release release;
        constexpr size_t NONE = static_cast<size_t>(-1);
        // per load, its two cheapest (cost, node): nodes in order, so ties keep the first
        std::vector<std::pair<double, size_t>> first(size, {INF_D, NONE}), second(size, {INF_D, NONE});
        std::vector<double> cheapest(size, INF_D);
        for (size_t c = 0; c < p.n; ++c) {
            if (!reaches(p, c, cap)) continue;
            const i64* atp = p.atp + c * p.m;
            for (size_t s = 1; s < size; ++s) {
                bool fits = true;  // the node holds the load (as Reduction::fits)
                for (size_t k = 0; k < p.m && fits; ++k) {
                    const i64 q = loads.vec[s * p.m + k];
                    fits = q == 0 || q <= atp[k];
                }
                if (!fits) continue;
                const double cost = load_cost(p, loads, c, s, cap);
                if (cost < first[s].first) {
                    second[s] = first[s];
                    first[s] = {cost, c};
                } else if (cost < second[s].first) {
                    second[s] = {cost, c};
                }
            }
        }
        for (size_t s = 1; s < size; ++s) cheapest[s] = first[s].first;
        const size_t full = size - 1;
        for (size_t s = 1; s + 1 < size; ++s) {
            const size_t rest = full - s;  // mixed radix without borrow: the complement
            if (s > rest) continue;  // each split once
            const std::pair<double, size_t> a[2] = {first[s], second[s]};
            const std::pair<double, size_t> b[2] = {first[rest], second[rest]};
            for (size_t xi = 0; xi < 2; ++xi) {
                const auto& x = a[xi];
                if (x.second == NONE) break;
                for (size_t yi = 0; yi < 2; ++yi) {
                    const auto& y = b[yi];
                    if (y.second == NONE) break;
                    if (x.second == y.second) continue;
                    const double cost = x.first + y.first + penalty;
                    if (cost < best_cost) {
                        best_cost = cost;
                        na = static_cast<i64>(x.second);
                        sa = s;
                        nb = static_cast<i64>(y.second);
                        sb = rest;
                        firsts = xi == 0 && yi == 0;
                    }
                }
            }
        }
        // the best so far: the pair when shipments may be two and it beats the single node
        double best = single;
        if (pairs && std::isfinite(best_cost) && (!std::isfinite(single) || best_cost < single - 1e-6))
            best = best_cost;
        const double upper = std::min(best, target);
        if (!std::isfinite(upper) || limit < 1) {
            most = std::max<i64>(1, limit);
        } else {
            const std::vector<double> lower = compute_lower_bounds(p, penalty);
            const auto within = static_cast<i64>(
                std::upper_bound(lower.begin(), lower.end(), upper + 1e-6) - lower.begin());
            most = std::min(limit, std::max<i64>(1, within));
            if (most > 2) {
                std::vector<double> bounds = parts_bounds_of(loads, cheapest, penalty, parts);
                if (!bounds.empty() && bounds.back() > upper + 1e-6) {
                    i64 reach = 1;
                    for (size_t k = 0; k < bounds.size(); ++k)
                        if (bounds[k] <= upper + 1e-6) reach = static_cast<i64>(k) + 1;
                    most = std::min(most, reach);
                }
            }
        }
        // Whether the pair is the only plan this cheap (within 1e-6), on no faster lanes:
        // then no plan at a smaller cap costs as little (each is also a plan at this cap).
        if (std::isinf(target) && best == best_cost && most <= 2 && firsts && sa != sb) {
            unique = true;
            const size_t full = size - 1;
            const double within = best_cost + 1e-6;
            for (size_t s = 1; s + 1 < size && unique; ++s) {  // other splits: cheapest nodes
                const size_t rest = full - s;
                if (s > rest || s == sa) continue;
                unique = !(first[s].first + first[rest].first + penalty <= within);
            }
            // other nodes for the same split: the second cheapest of one load
            if (unique && second[sa].second != NONE && second[sa].first + first[sb].first + penalty <= within)
                unique = false;
            if (unique && second[sb].second != NONE && first[sa].first + second[sb].first + penalty <= within)
                unique = false;
            if (unique) {
                // the same shipments on faster lanes: each shipment at the plan's days has no
                // faster lane within 1e-6 of its cost (the lanes as cheapest_lanes picks them)
                struct Pick { double cost = INF_D; i64 days = 0; };
                auto lane_costs = [&](size_t c, size_t s, i64 below) {
                    double w = loads.weight[s], count = static_cast<double>(loads.units[s]);
                    Pick best_lane, faster;
                    for (size_t l = p.start[c]; l < p.start[c + 1]; ++l) {
                        if (p.days[l] > cap) continue;
                        const double cost = parcels(w, p.parcel[l]) * p.base[l] + p.per_kg[l] * w +
                                            p.hs[l] + p.hu[l] * count;
                        if (cost < best_lane.cost || (cost == best_lane.cost && p.days[l] < best_lane.days))
                            best_lane = {cost, p.days[l]};
                        if (p.days[l] < below && cost < faster.cost) faster = {cost, p.days[l]};
                    }
                    return std::make_pair(best_lane, faster);
                };
                const auto a0 = lane_costs(static_cast<size_t>(na), sa, 0).first;
                const auto b0 = lane_costs(static_cast<size_t>(nb), sb, 0).first;
                const i64 days = std::max(a0.days, b0.days);
                for (const auto& [c, s] : {std::make_pair(static_cast<size_t>(na), sa),
                                           std::make_pair(static_cast<size_t>(nb), sb)}) {
                    const auto [chosen, faster] = lane_costs(c, s, days);
                    if (chosen.days == days && faster.cost <= chosen.cost + 1e-6) unique = false;
                }
            }
        }
    }
    auto vector_of = [&](size_t s) {
        return std::vector<i64>(loads.vec.begin() + static_cast<std::ptrdiff_t>(s * p.m),
                                loads.vec.begin() + static_cast<std::ptrdiff_t>((s + 1) * p.m));
    };
    return py::make_tuple(best_cost, na, vector_of(sa), nb, vector_of(sb), most, unique);
}

// The lane of each shipment (candidate, units per SKU) that ships it cheapest within `cap`
// days (ties: fewer days, then the first), -1 when none: omniroute.plans.cheapest_lane in
// one call for a plan's shipments, costed in the same order of operations.
std::vector<i64> cheapest_lanes(const Problem& p, const std::vector<i64>& candidates,
                                const std::vector<std::vector<i64>>& units, i64 cap) {
    std::vector<i64> out;
    for (size_t i = 0; i < candidates.size() && i < units.size(); ++i) {
        const size_t c = static_cast<size_t>(candidates[i]);
        double weight = 0.0, count = 0.0;
        for (size_t k = 0; k < p.m && k < units[i].size(); ++k) {
            weight += static_cast<double>(units[i][k]) * p.weight[k];
            count += static_cast<double>(units[i][k]);
        }
        i64 best = -1, best_days = 0;
        double best_cost = INF_D;
        for (size_t l = p.start[c]; l < p.start[c + 1]; ++l) {
            if (p.days[l] > cap) continue;
            double cost = parcels(weight, p.parcel[l]) * p.base[l] + p.per_kg[l] * weight + p.hs[l] +
                          p.hu[l] * count;
            if (best < 0 || cost < best_cost || (cost == best_cost && p.days[l] < best_days)) {
                best = static_cast<i64>(l);
                best_cost = cost;
                best_days = p.days[l];
            }
        }
        out.push_back(best);
    }
    return out;
}

// lower[k - 1]: a lower bound on any plan with k shipments (omniroute.optimizer).
std::vector<double> compute_lower_bounds(const Problem& p, double penalty) {
    std::vector<double> lower(p.n, INF_D);
    {
        std::vector<double> node_unit(p.n, INF_D), node_fixed(p.n, INF_D), unit_min(p.m, INF_D);
        for (size_t l = 0; l < p.lanes; ++l) {
            size_t c = static_cast<size_t>(p.lane_node[l]);
            double fixed = p.base[l] + p.hs[l];
            double cheapest = INF_D;
            for (size_t k = 0; k < p.m; ++k) {
                if (p.atp[c * p.m + k] <= 0) continue;
                double u = p.unit(l, k);
                unit_min[k] = std::min(unit_min[k], u);
                cheapest = std::min(cheapest, u);
            }
            node_unit[c] = std::min(node_unit[c], fixed + cheapest);
            node_fixed[c] = std::min(node_fixed[c], fixed);
        }
        // Only the cheapest few nodes need ranking: past them, each further shipment adds
        // at least the split penalty (its shipment costs are >= 0), which keeps the bound.
        const size_t ranked = std::min(p.n, LOWER_RANKED);
        std::partial_sort(node_unit.begin(), node_unit.begin() + ranked, node_unit.end());
        std::partial_sort(node_fixed.begin(), node_fixed.begin() + ranked, node_fixed.end());
        double units_part = 0.0;
        for (size_t k = 0; k < p.m; ++k) units_part += static_cast<double>(p.demand[k]) * unit_min[k];
        double by_shipments = 0.0, by_fixed = 0.0;
        for (size_t c = 0; c < ranked; ++c) {
            by_shipments += node_unit[c];
            by_fixed += node_fixed[c];
            double penalties = penalty * static_cast<double>(c);
            lower[c] = std::max(by_shipments + penalties, by_fixed + penalties + units_part);
        }
        for (size_t c = ranked; c < p.n; ++c) lower[c] = lower[c - 1] + penalty;
    }
    return lower;
}

py::array_t<double> lower_bounds(const Problem& p, double penalty) {
    std::vector<double> lower;
    {
        py::gil_scoped_release release;
        lower = compute_lower_bounds(p, penalty);
    }
    return to_array(lower);
}

// The part of a problem for some SKUs (omniroute.optimizer._restrict): the candidates holding
// any of them (renumbered, in order), their ATP of those SKUs, and their lanes; ``lane_map``
// gives each part lane's lane in the whole problem.
struct Part {
    std::vector<i64> atp, demand, lane_node, days, lane_map, holders;
    std::vector<double> weight, base, per_kg, parcel, hs, hu, price;
    size_t n = 0;

    Part(const Problem& p, const std::vector<i64>& skus) {
        std::vector<i64> renumber(p.n, -1);
        for (size_t c = 0; c < p.n; ++c) {
            bool holds = false;
            for (i64 k : skus) holds |= p.atp[c * p.m + static_cast<size_t>(k)] > 0;
            if (!holds) continue;
            holders.push_back(static_cast<i64>(c));
            renumber[c] = static_cast<i64>(n++);
            for (i64 k : skus) atp.push_back(p.atp[c * p.m + static_cast<size_t>(k)]);
            if (p.price)
                for (i64 k : skus) price.push_back(p.price[c * p.m + static_cast<size_t>(k)]);
        }
        for (i64 k : skus) {
            demand.push_back(p.demand[k]);
            weight.push_back(p.weight[k]);
        }
        for (size_t l = 0; l < p.lanes; ++l) {
            const i64 c = renumber[static_cast<size_t>(p.lane_node[l])];
            if (c < 0) continue;
            lane_map.push_back(static_cast<i64>(l));
            lane_node.push_back(c);
            base.push_back(p.base[l]);
            per_kg.push_back(p.per_kg[l]);
            parcel.push_back(p.parcel[l]);
            days.push_back(p.days[l]);
            hs.push_back(p.hs[l]);
            hu.push_back(p.hu[l]);
        }
    }

    Problem view() const {
        return Problem(n, demand.size(), lane_node.size(), atp.data(), demand.data(), weight.data(),
                       lane_node.data(), base.data(), per_kg.data(), parcel.data(), days.data(),
                       hs.data(), hu.data(), price.empty() ? nullptr : price.data());
    }
};

// The part of a problem for some SKUs as omniroute.optimizer._restrict builds it: (holders,
// lane map, and the part's lane nodes, base, per kg, parcel limit, days, handling per
// shipment and per unit, ATP (holders x SKUs), demand, weights and prices (None without)).
py::tuple part_layout(const Problem& p, const std::vector<i64>& skus) {
    for (i64 k : skus)
        if (k < 0 || static_cast<size_t>(k) >= p.m) throw py::value_error("part_layout: SKU out of range");
    std::unique_ptr<Part> part;
    {
        py::gil_scoped_release release;
        part = std::make_unique<Part>(p, skus);
    }
    const auto rows = static_cast<py::ssize_t>(part->n), cols = static_cast<py::ssize_t>(skus.size());
    return py::make_tuple(
        to_array(part->holders), to_array(part->lane_map), to_array(part->lane_node),
        to_array(part->base), to_array(part->per_kg), to_array(part->parcel), to_array(part->days),
        to_array(part->hs), to_array(part->hu), to_matrix(part->atp, rows, cols),
        to_array(part->demand), to_array(part->weight),
        p.price ? py::object(to_matrix(part->price, rows, cols)) : py::object(py::none()));
}

// front_bounds of the part of a problem for some SKUs, without building the part in
// Python, and the part's lane map: (caps, single-node cost, its lane in the part, split
// bound, lane map).
py::tuple part_bounds(const Problem& p, const std::vector<i64>& skus, double penalty,
                      i64 max_shipments) {
    std::vector<i64> caps, lane_map;
    Bounds b;
    {
        py::gil_scoped_release release;
        Part part(p, skus);
        const Problem view = part.view();
        caps = distinct_days(view);
        b = compute_bounds(view, caps, penalty, max_shipments);
        lane_map = std::move(part.lane_map);
    }
    return py::make_tuple(py::cast(caps), py::cast(b.single), py::cast(b.single_lane),
                          py::cast(b.split), to_array(lane_map));
}

// The SKUs in groups that no candidate connects (SKUs are in one group when some candidate
// holds both, transitively): the groups in order of their label, SKUs ascending.
std::vector<std::vector<i64>> sku_group_lists(const Problem& p);

// A group label per SKU: SKUs in one group when some candidate holds both (transitively).
py::array_t<i64> sku_groups(const Problem& p) {
    std::vector<i64> parent(p.m);
    std::iota(parent.begin(), parent.end(), i64(0));
    auto root = [&](i64 k) {
        while (parent[k] != k) k = parent[k] = parent[parent[k]];
        return k;
    };
    for (size_t c = 0; c < p.n; ++c) {
        i64 first = -1;
        for (size_t k = 0; k < p.m; ++k) {
            if (p.atp[c * p.m + k] <= 0) continue;
            if (first < 0) first = static_cast<i64>(k);
            else parent[root(static_cast<i64>(k))] = root(first);
        }
    }
    std::vector<i64> label(p.m);
    for (size_t k = 0; k < p.m; ++k) label[k] = root(static_cast<i64>(k));
    return to_array(label);
}

std::vector<std::vector<i64>> sku_group_lists(const Problem& p) {
    py::array_t<i64> labels = sku_groups(p);
    const i64* label = labels.data();
    std::map<i64, std::vector<i64>> groups;
    for (size_t k = 0; k < p.m; ++k) groups[label[k]].push_back(static_cast<i64>(k));
    std::vector<std::vector<i64>> out;
    for (auto& [root, members] : groups) out.push_back(std::move(members));
    return out;
}

// ------------------------------------------------------------------------- the DP

// The exact DP over candidates (see omniroute.dp); one row of the table per cap.
struct Dp {
    Loads loads;
    size_t caps, layers, states, candidates;
    std::vector<i64> final_table;  // caps x states
    std::vector<std::int32_t> choice;  // candidates x caps x states: load shipped, -1 none
    std::vector<i64> candidate_ids;

    Dp(const Problem& p, const std::vector<i64>& cap_values, const std::vector<i64>& cands,
       i64 max_shipments, double penalty)
        : loads(p.demand, p.weight, p.m), caps(cap_values.size()),
          layers(static_cast<size_t>(max_shipments > 0 ? max_shipments + 1 : 1)),
          states(loads.size * layers), candidates(cands.size()), candidate_ids(cands) {
        py::gil_scoped_release release;
        const size_t size = loads.size;
        const i64 refund = static_cast<i64>(std::llround(penalty * MONEY_SCALE));
        std::vector<i64> table(caps * states, INF);
        for (size_t j = 0; j < caps; ++j) table[j * states] = 0;
        choice.assign(candidates * caps * states, -1);
        std::vector<i64> value(caps * size);
        std::vector<i64> next;
        std::vector<i64> odometer(p.m), limit(p.m);
        for (size_t ci = 0; ci < candidates; ++ci) {
            size_t c = static_cast<size_t>(cands[ci]);
            // shipment values of every load under every cap
            std::fill(value.begin(), value.end(), INF);
            for (size_t s = 1; s < size; ++s) {
                if (!loads.fits(s, p.atp + c * p.m)) continue;
                double w = loads.weight[s], u = static_cast<double>(loads.units[s]);
                double priced = p.priced(c, loads.vec.data() + s * p.m);
                for (size_t l = p.start[c]; l < p.start[c + 1]; ++l) {
                    double cost = p.cost(l, w, u) + priced;
                    i64 v = (static_cast<i64>(std::nearbyint(cost * MONEY_SCALE)) + refund) * SHIP_SCALE + 1;
                    for (size_t j = 0; j < caps; ++j)
                        if (p.days[l] <= cap_values[j] && v < value[j * size + s]) value[j * size + s] = v;
                }
            }
            next = table;
            std::int32_t* chosen = choice.data() + ci * caps * states;
            for (size_t s = 1; s < size; ++s) {
                bool any = false;
                for (size_t j = 0; j < caps; ++j) any |= value[j * size + s] < INF;
                if (!any) continue;
                // every before-state b with b + q <= demand, odometer over d_k - q_k
                size_t q_index = s;
                for (size_t k = 0; k < p.m; ++k) {
                    limit[k] = p.demand[k] - loads.vec[s * p.m + k];
                    odometer[k] = 0;
                }
                size_t b_index = 0;
                while (true) {
                    for (size_t layer = 0; layer + (layers > 1 ? 1 : 0) < layers; ++layer) {
                        size_t before = layer * size + b_index;
                        size_t after = (layers > 1 ? (layer + 1) * size : 0) + b_index + q_index;
                        for (size_t j = 0; j < caps; ++j) {
                            i64 v = value[j * size + s];
                            i64 t = table[j * states + before];
                            if (v >= INF || t >= INF) continue;
                            i64 total = t + v;
                            if (total < next[j * states + after]) {
                                next[j * states + after] = total;
                                chosen[j * states + after] = static_cast<std::int32_t>(s);
                            }
                        }
                    }
                    size_t k = p.m;
                    while (k-- > 0) {
                        if (odometer[k] < limit[k]) {
                            ++odometer[k];
                            b_index += static_cast<size_t>(loads.stride[k]);
                            break;
                        }
                        b_index -= static_cast<size_t>(odometer[k] * loads.stride[k]);
                        odometer[k] = 0;
                    }
                    if (k == static_cast<size_t>(-1)) break;
                }
            }
            table.swap(next);
        }
        final_table = std::move(table);
    }

    py::array_t<i64> final() const {
        return to_matrix(final_table, static_cast<py::ssize_t>(caps), static_cast<py::ssize_t>(states));
    }

    // (candidate, load index) shipments of the plan ending in ``state`` under cap row j
    std::vector<std::pair<i64, i64>> reconstruct(size_t j, size_t state) const {
        std::vector<std::pair<i64, i64>> shipments;
        const size_t size = loads.size;
        for (size_t ci = candidates; ci-- > 0;) {
            std::int32_t s = choice[ci * caps * states + j * states + state];
            if (s < 0) continue;
            shipments.emplace_back(candidate_ids[ci], s);
            size_t layer = layers > 1 ? state / size : 0;
            size_t index = state % size - static_cast<size_t>(s);
            state = (layers > 1 ? (layer - 1) * size : 0) + index;
        }
        return shipments;
    }

    py::array_t<i64> load_vectors() const {
        return to_matrix(loads.vec, static_cast<py::ssize_t>(loads.size), static_cast<py::ssize_t>(loads.m));
    }
};

// The arrays of OrderProblem.core_args, held for the length of a call.
struct ProblemArgs {
    Ints atp, demand;
    Doubles weight;
    Ints lane_node;
    Doubles base, per_kg, parcel;
    Ints days;
    Doubles hs, hu, price;

    explicit ProblemArgs(const py::args& args)
        : atp(array_of<Ints>(args[0])), demand(array_of<Ints>(args[1])),
          weight(array_of<Doubles>(args[2])), lane_node(array_of<Ints>(args[3])),
          base(array_of<Doubles>(args[4])), per_kg(array_of<Doubles>(args[5])),
          parcel(array_of<Doubles>(args[6])), days(array_of<Ints>(args[7])),
          hs(array_of<Doubles>(args[8])), hu(array_of<Doubles>(args[9])),
          price(array_of<Doubles>(args[10])) {
        if (!atp || !demand || !weight || !lane_node || !base || !per_kg || !parcel || !days || !hs ||
            !hu || !price)
            throw py::error_already_set();
    }

    Problem view() const {
        return Problem(atp, demand, weight, lane_node, base, per_kg, parcel, days, hs, hu, price);
    }

    // the arrays, for an object that keeps a view of them
    py::tuple held() const {
        return py::make_tuple(atp, demand, weight, lane_node, base, per_kg, parcel, days, hs, hu, price);
    }
};

constexpr py::ssize_t CORE_ARGS = 11;

// The problem arrays and the arguments after them (``args[11:]``).
std::pair<ProblemArgs, py::tuple> split_args(const py::args& args) {
    if (args.size() < static_cast<size_t>(CORE_ARGS))
        throw py::type_error("expected the 11 arrays of OrderProblem.core_args()");
    return {ProblemArgs(args), py::tuple(args[py::slice(CORE_ARGS, static_cast<py::ssize_t>(args.size()), 1)])};
}

}  // namespace

PYBIND11_MODULE(_core, module) {
    module.doc() = "omniroute's hot loops in C++ (see engine/_core.cpp)";
    py::class_<Network>(module, "Network")
        .def(py::init<Doubles, Doubles, Doubles, Doubles, Ints, Bools, Bools, Doubles, Doubles,
                      Doubles, Ints, Ints, Doubles>())
        .def("problem", &Network::problem);
    // bounds(*core_args, caps, penalty, max_shipments)
    module.def("bounds", [](const py::args& args) {
        auto [arrays, rest] = split_args(args);
        if (rest.size() != 3) throw py::type_error("bounds(*core_args, caps, penalty, max_shipments)");
        return bounds(arrays.view(), rest[0].cast<std::vector<i64>>(), rest[1].cast<double>(),
                      rest[2].cast<i64>());
    });
    // front_bounds(*core_args, penalty, max_shipments)
    module.def("front_bounds", [](const py::args& args) {
        auto [arrays, rest] = split_args(args);
        if (rest.size() != 2) throw py::type_error("front_bounds(*core_args, penalty, max_shipments)");
        return front_bounds(arrays.view(), rest[0].cast<double>(), rest[1].cast<i64>());
    });
    // lower_bounds(*core_args, penalty)
    module.def("lower_bounds", [](const py::args& args) {
        auto [arrays, rest] = split_args(args);
        if (rest.size() != 1) throw py::type_error("lower_bounds(*core_args, penalty)");
        return lower_bounds(arrays.view(), rest[0].cast<double>());
    });
    // split_step(*core_args, cap, penalty, single, target, limit, pairs, parts)
    module.def("split_step", [](const py::args& args) {
        auto [arrays, rest] = split_args(args);
        if (rest.size() != 7)
            throw py::type_error(
                "split_step(*core_args, cap, penalty, single, target, limit, pairs, parts)");
        return split_step(arrays.view(), rest[0].cast<i64>(), rest[1].cast<double>(),
                          rest[2].cast<double>(), rest[3].cast<double>(), rest[4].cast<i64>(),
                          rest[5].cast<bool>(), rest[6].cast<size_t>());
    });
    // cheapest_lanes(*core_args, candidates, units, cap)
    module.def("cheapest_lanes", [](const py::args& args) {
        auto [arrays, rest] = split_args(args);
        if (rest.size() != 3) throw py::type_error("cheapest_lanes(*core_args, candidates, units, cap)");
        return cheapest_lanes(arrays.view(), rest[0].cast<std::vector<i64>>(),
                              rest[1].cast<std::vector<std::vector<i64>>>(), rest[2].cast<i64>());
    });
    // sku_groups(*core_args)
    module.def("sku_groups", [](const py::args& args) {
        auto [arrays, rest] = split_args(args);
        if (rest.size() != 0) throw py::type_error("sku_groups(*core_args)");
        return sku_groups(arrays.view());
    });
    // sku_group_lists(*core_args)
    module.def("sku_group_lists", [](const py::args& args) {
        auto [arrays, rest] = split_args(args);
        if (rest.size() != 0) throw py::type_error("sku_group_lists(*core_args)");
        return sku_group_lists(arrays.view());
    });
    // part_layout(*core_args, skus)
    module.def("part_layout", [](const py::args& args) {
        auto [arrays, rest] = split_args(args);
        if (rest.size() != 1) throw py::type_error("part_layout(*core_args, skus)");
        return part_layout(arrays.view(), rest[0].cast<std::vector<i64>>());
    });
    // part_bounds(*core_args, skus, penalty, max_shipments)
    module.def("part_bounds", [](const py::args& args) {
        auto [arrays, rest] = split_args(args);
        if (rest.size() != 3) throw py::type_error("part_bounds(*core_args, skus, penalty, max_shipments)");
        return part_bounds(arrays.view(), rest[0].cast<std::vector<i64>>(), rest[1].cast<double>(),
                           rest[2].cast<i64>());
    });
    // Reduction(*core_args, caps, kmax, state_limit[, direct_limit]): direct_limit, the most
    // nodes x loads costed one by one rather than by groups (tests compare the two)
    py::class_<Reduction>(module, "Reduction")
        .def(py::init([](const py::args& args) {
            auto [arrays, rest] = split_args(args);
            if (rest.size() != 3 && rest.size() != 4)
                throw py::type_error("Reduction(*core_args, caps, kmax, state_limit[, direct_limit])");
            size_t direct = rest.size() == 4 ? rest[3].cast<size_t>() : DIRECT_LIMIT;
            return new Reduction(arrays.view(), arrays.held(), rest[0].cast<std::vector<i64>>(),
                                 rest[1].cast<size_t>(), rest[2].cast<size_t>(), direct);
        }))
        .def("add", &Reduction::add)
        .def("kept", &Reduction::kept)
        .def("best_pair", &Reduction::best_pair)
        .def("best_triple", &Reduction::best_triple)
        .def("parts_bounds", &Reduction::parts_bounds);
    // Dp(*core_args, caps, candidates, max_shipments, penalty)
    py::class_<Dp>(module, "Dp")
        .def(py::init([](const py::args& args) {
            auto [arrays, rest] = split_args(args);
            if (rest.size() != 4) throw py::type_error("Dp(*core_args, caps, candidates, max_shipments, penalty)");
            return new Dp(arrays.view(), rest[0].cast<std::vector<i64>>(),
                          rest[1].cast<std::vector<i64>>(), rest[2].cast<i64>(), rest[3].cast<double>());
        }))
        .def("final", &Dp::final)
        .def("reconstruct", &Dp::reconstruct)
        .def("loads", &Dp::load_vectors)
        .def_readonly("size", &Dp::states);
}
