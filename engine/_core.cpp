// omniroute._core: the engine's hot loops in C++, over numpy arrays, without the GIL.
//
// * Network.candidates / .lanes: one order's candidate nodes (holders of its SKUs' ATP)
//   and lanes (node, carrier service, resolved zone), the work of omniroute.candidates
//   (distances are numpy's, so that zone edges fall exactly as the cost model says);
// * bounds: per delivery-day cap, the best single-node plan and the lower bound on every
//   plan with two or more shipments (omniroute.optimizer.SplitBound);
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

double parcels(double weight, double max_parcel) {
    // max(1, ceil(W / P - tolerance)); P is inf when the service has no limit
    return std::max(1.0, std::ceil(weight / max_parcel - PARCEL_TOLERANCE));
}

// ------------------------------------------------------------------------- the network

struct Network {
    std::vector<double> lat, hs, hu;
    std::vector<i64> processing;
    std::vector<char> usable;
    std::vector<char> offers;  // n x services
    int services = 0, zones = 0;
    std::vector<double> zone_max, zone_base, zone_per_kg;  // services x zones
    std::vector<i64> zone_transit, zone_count;
    std::vector<double> max_parcel;

    Network(Doubles latitude, Doubles longitude, Doubles handling_shipment,
            Doubles handling_unit, Ints processing_days, Bools usable_nodes, Bools offered,
            Doubles zone_max_table, Doubles zone_base_table, Doubles zone_per_kg_table,
            Ints zone_transit_table, Ints zone_counts, Doubles parcel_limits) {
        auto n = latitude.size();
        lat.assign(latitude.data(), latitude.data() + n);
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

    // Candidates of one order: usable, not excluded nodes holding ATP of its SKUs (ascending),
    // their ATP (n x m) and the usable ATP per SKU.
    py::tuple candidates(const std::vector<Ints>& holders, const std::vector<Ints>& atps,
                         Ints excluded_nodes) const {
        const size_t m = holders.size();
        std::vector<i64> cand, full, atp_usable(m, 0);
        {
            py::gil_scoped_release release;
            std::vector<char> seen(lat.size(), 0);
            for (py::ssize_t x = 0; x < excluded_nodes.size(); ++x) seen[excluded_nodes.data()[x]] = 2;
            for (size_t k = 0; k < m; ++k) {
                const i64* h = holders[k].data();
                const i64* a = atps[k].data();
                for (py::ssize_t x = 0; x < holders[k].size(); ++x) {
                    if (a[x] > 0 && !seen[h[x]] && usable[h[x]]) {
                        seen[h[x]] = 1;
                        cand.push_back(h[x]);
                    }
                }
            }
            std::sort(cand.begin(), cand.end());
            const size_t n = cand.size();
            full.assign(n * m, 0);
            for (size_t k = 0; k < m; ++k) {
                const i64* h = holders[k].data();
                const i64* a = atps[k].data();
                size_t c = 0;
                for (py::ssize_t x = 0; x < holders[k].size(); ++x) {
                    if (a[x] <= 0) continue;
                    while (c < n && cand[c] < h[x]) ++c;
                    if (c < n && cand[c] == h[x]) full[c * m + k] = a[x];
                }
            }
            for (size_t c = 0; c < n; ++c)
                for (size_t k = 0; k < m; ++k) atp_usable[k] += full[c * m + k];
        }
        return py::make_tuple(to_array(cand), to_matrix(full, static_cast<py::ssize_t>(cand.size()),
                                                        static_cast<py::ssize_t>(m)),
                              to_array(atp_usable));
    }

    // The lanes of the candidates (distances given, km), the reachable and in-promise ATP,
    // and the candidates kept (those with a lane within the promise), renumbered.
    py::dict lanes(Ints candidate_nodes, Ints candidate_atp, Doubles distance, i64 pickup,
                   i64 promise_days) const {
        py::dict out;
        const size_t n = static_cast<size_t>(candidate_nodes.size());
        const size_t m = n ? static_cast<size_t>(candidate_atp.shape(1)) : 0;
        const i64* cand = candidate_nodes.data();
        const i64* full = candidate_atp.data();
        const double* dist = distance.data();
        std::vector<i64> nodes, atp, keep_index;
        std::vector<double> distances;
        std::vector<i64> lane_node, lane_service, lane_days;
        std::vector<double> lane_base, lane_per_kg, lane_parcel, lane_hs, lane_hu;
        std::vector<i64> atp_reachable(m, 0), atp_in_promise(m, 0);
        {
            py::gil_scoped_release release;
            for (size_t c = 0; c < n; ++c) {
                i64 node = cand[c];
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
                    lane_hs.push_back(hs[node]);
                    lane_hu.push_back(hu[node]);
                };
                if (node == pickup) add(HAND_OVER, 0.0, 0.0, INF_D, 0);
                else {
                    for (int s = 0; s < services; ++s) {
                        if (!offers[node * services + s]) continue;
                        int zone = 0;
                        for (int z = 0; z < zones; ++z)
                            if (zone_max[s * zones + z] < dist[c]) ++zone;
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
                    keep_index.push_back(static_cast<i64>(c));
                    distances.push_back(dist[c]);
                    for (size_t k = 0; k < m; ++k) atp.push_back(full[c * m + k]);
                }
            }
        }
        out["nodes"] = to_array(nodes);
        out["atp"] = to_matrix(atp, static_cast<py::ssize_t>(nodes.size()), static_cast<py::ssize_t>(m));
        out["distance"] = to_array(distances);
        out["lane_node"] = to_array(lane_node);
        out["lane_service"] = to_array(lane_service);
        out["lane_base"] = to_array(lane_base);
        out["lane_per_kg"] = to_array(lane_per_kg);
        out["lane_max_parcel"] = to_array(lane_parcel);
        out["lane_days"] = to_array(lane_days);
        out["lane_hs"] = to_array(lane_hs);
        out["lane_hu"] = to_array(lane_hu);
        out["atp_reachable"] = to_array(atp_reachable);
        out["atp_in_promise"] = to_array(atp_in_promise);
        return out;
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
    std::vector<size_t> start;  // lanes of candidate c: [start[c], start[c + 1])

    Problem(const Ints& atp_, const Ints& demand_, const Doubles& weight_, const Ints& lane_node_,
            const Doubles& base_, const Doubles& per_kg_, const Doubles& parcel_,
            const Ints& days_, const Doubles& hs_, const Doubles& hu_)
        : n(static_cast<size_t>(atp_.ndim() == 2 ? atp_.shape(0) : 0)),
          m(static_cast<size_t>(demand_.size())), lanes(static_cast<size_t>(lane_node_.size())),
          atp(atp_.data()), demand(demand_.data()), weight(weight_.data()),
          lane_node(lane_node_.data()), base(base_.data()), per_kg(per_kg_.data()),
          parcel(parcel_.data()), hs(hs_.data()), hu(hu_.data()), days(days_.data()) {
        start.assign(n + 1, lanes);
        for (size_t l = lanes; l-- > 0;) start[lane_node[l]] = l;
        for (size_t c = n; c-- > 0;)
            if (start[c] > start[c + 1]) start[c] = start[c + 1];
    }

    double cost(size_t lane, double w, double units) const {
        return parcels(w, parcel[lane]) * base[lane] + per_kg[lane] * w + hs[lane] + hu[lane] * units;
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
// group: a load costs the same lane part at each of them, plus the node's handling, so each
// group is ranked once per load size and walked only until it has given K nodes.
// members of a node group holding one SKU, cheapest handling first (maybe a prefix only)
struct Ranking {
    bool partial = false;
    size_t prefix = 0;
    std::vector<size_t> nodes;
};

constexpr size_t PREFIX = 64;

struct Reduction {
    py::object alive;  // the arrays p views
    Problem p;
    size_t n = 0, size = 0, kmax = 1;
    std::vector<char> all;  // the order has too many loads: keep every candidate
    std::vector<std::vector<std::vector<std::pair<double, size_t>>>> best;  // cap row, load
    // what does not depend on the cap, computed once for every row added
    std::unique_ptr<Loads> loads;
    std::vector<std::uint64_t> load_mask, node_mask, lane_type;
    std::vector<char> load_multi;
    std::vector<size_t> rarest;
    std::vector<std::tuple<double, double, double>> types;

    Reduction(Problem problem, py::object arrays, const std::vector<i64>& caps, size_t kmax_,
              size_t state_limit)
        : alive(std::move(arrays)), p(std::move(problem)), n(p.n) {
        py::gil_scoped_release release;
        loads = std::make_unique<Loads>(p.demand, p.weight, p.m);
        size = loads->size;
        if (loads->size > state_limit) {
            all.assign(1, 1);
            return;
        }
        kmax = std::max<size_t>(1, kmax_);
        std::vector<size_t> holders_of(p.m, 0);
        for (size_t c = 0; c < p.n; ++c)
            for (size_t k = 0; k < p.m; ++k) holders_of[k] += p.atp[c * p.m + k] > 0;
        // fast test of "the node holds every SKU of the load": bit masks of holdings
        load_mask = loads->masks();
        load_multi = loads->multi();
        node_mask.assign(p.n, 0);
        for (size_t c = 0; c < p.n; ++c)
            for (size_t k = 0; k < p.m && k < 64; ++k)
                if (p.atp[c * p.m + k] > 0) node_mask[c] |= std::uint64_t(1) << k;
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
        for (i64 cap : caps) add_row(cap);
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

    void add_row(i64 cap) {
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
            std::map<std::pair<i64, size_t>, Ranking> order;  // (units, SKU) -> ranking
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
                auto key = std::make_pair(u, sku);
                auto it = g.order.find(key);
                if (it == g.order.end()) it = g.order.emplace(key, Ranking{}).first;
                Ranking& ranking = it->second;
                auto rank = [&](size_t prefix) {
                    std::vector<std::pair<double, size_t>> ranked;
                    ranked.reserve(g.holders[sku].size());
                    for (size_t c : g.holders[sku]) ranked.emplace_back(p.hs[p.start[c]] + p.hu[p.start[c]] * uu, c);
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
                        double handling = p.hs[p.start[c]] + p.hu[p.start[c]] * uu;
                        if (found >= kmax && handling > last) {
                            stopped = true;
                            break;
                        }
                        if (!fits(s, c)) continue;
                        options.emplace_back(g.lane_part[s] + handling, c);
                        last = handling;
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

// Per cap: (best single-node cost, its lane; -1 none) and the split lower bound; lanes are
// taken in order of their days, so each cap extends the previous one.
py::tuple bounds(const Problem& p, const std::vector<i64>& caps, double penalty, i64 max_shipments) {
    const size_t nc = caps.size();
    std::vector<double> single(nc, INF_D), split(nc, INF_D);
    std::vector<i64> single_lane(nc, -1);
    {
        py::gil_scoped_release release;
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
                    double cost = p.cost(l, w_all, units_all);
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
                    double u = p.per_kg[l] * p.weight[k] + p.hu[l];
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
    return py::make_tuple(to_array(single), to_array(single_lane), to_array(split));
}

constexpr size_t LOWER_RANKED = 64;

// lower[k - 1]: a lower bound on any plan with k shipments (omniroute.optimizer).
py::array_t<double> lower_bounds(const Problem& p, double penalty) {
    std::vector<double> lower(p.n, INF_D);
    {
        py::gil_scoped_release release;
        std::vector<double> node_unit(p.n, INF_D), node_fixed(p.n, INF_D), unit_min(p.m, INF_D);
        for (size_t l = 0; l < p.lanes; ++l) {
            size_t c = static_cast<size_t>(p.lane_node[l]);
            double fixed = p.base[l] + p.hs[l];
            double cheapest = INF_D;
            for (size_t k = 0; k < p.m; ++k) {
                if (p.atp[c * p.m + k] <= 0) continue;
                double u = p.per_kg[l] * p.weight[k] + p.hu[l];
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
    return to_array(lower);
}

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
                for (size_t l = p.start[c]; l < p.start[c + 1]; ++l) {
                    i64 v = (static_cast<i64>(std::nearbyint(p.cost(l, w, u) * MONEY_SCALE)) + refund) * SHIP_SCALE + 1;
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

Problem view(const Ints& atp, const Ints& demand, const Doubles& weight, const Ints& lane_node,
             const Doubles& base, const Doubles& per_kg, const Doubles& parcel, const Ints& days,
             const Doubles& hs, const Doubles& hu) {
    return Problem(atp, demand, weight, lane_node, base, per_kg, parcel, days, hs, hu);
}

}  // namespace

PYBIND11_MODULE(_core, module) {
    module.doc() = "omniroute's hot loops in C++ (see engine/_core.cpp)";
    py::class_<Network>(module, "Network")
        .def(py::init<Doubles, Doubles, Doubles, Doubles, Ints, Bools, Bools, Doubles, Doubles,
                      Doubles, Ints, Ints, Doubles>())
        .def("candidates", &Network::candidates)
        .def("lanes", &Network::lanes);
    module.def(
        "bounds",
        [](Ints atp, Ints demand, Doubles weight, Ints lane_node, Doubles base, Doubles per_kg,
           Doubles parcel, Ints days, Doubles hs, Doubles hu, std::vector<i64> caps, double penalty,
           i64 max_shipments) {
            return bounds(view(atp, demand, weight, lane_node, base, per_kg, parcel, days, hs, hu),
                          caps, penalty, max_shipments);
        });
    module.def(
        "lower_bounds",
        [](Ints atp, Ints demand, Doubles weight, Ints lane_node, Doubles base, Doubles per_kg,
           Doubles parcel, Ints days, Doubles hs, Doubles hu, double penalty) {
            return lower_bounds(view(atp, demand, weight, lane_node, base, per_kg, parcel, days, hs, hu),
                                penalty);
        });
    module.def(
        "sku_groups",
        [](Ints atp, Ints demand, Doubles weight, Ints lane_node, Doubles base, Doubles per_kg,
           Doubles parcel, Ints days, Doubles hs, Doubles hu) {
            return sku_groups(view(atp, demand, weight, lane_node, base, per_kg, parcel, days, hs, hu));
        });
    py::class_<Reduction>(module, "Reduction")
        .def(py::init([](Ints atp, Ints demand, Doubles weight, Ints lane_node, Doubles base,
                         Doubles per_kg, Doubles parcel, Ints days, Doubles hs, Doubles hu,
                         std::vector<i64> caps, size_t kmax, size_t state_limit) {
            return new Reduction(view(atp, demand, weight, lane_node, base, per_kg, parcel, days, hs, hu),
                                 py::make_tuple(atp, demand, weight, lane_node, base, per_kg, parcel,
                                                days, hs, hu),
                                 caps, kmax, state_limit);
        }))
        .def("add", &Reduction::add)
        .def("kept", &Reduction::kept)
        .def("best_pair", &Reduction::best_pair);
    py::class_<Dp>(module, "Dp")
        .def(py::init([](Ints atp, Ints demand, Doubles weight, Ints lane_node, Doubles base,
                         Doubles per_kg, Doubles parcel, Ints days, Doubles hs, Doubles hu,
                         std::vector<i64> caps, std::vector<i64> candidates, i64 max_shipments,
                         double penalty) {
            return new Dp(view(atp, demand, weight, lane_node, base, per_kg, parcel, days, hs, hu),
                          caps, candidates, max_shipments, penalty);
        }))
        .def("final", &Dp::final)
        .def("reconstruct", &Dp::reconstruct)
        .def("loads", &Dp::load_vectors)
        .def_readonly("size", &Dp::states);
}
