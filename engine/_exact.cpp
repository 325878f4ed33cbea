// omniroute._exact: an exact branch and bound for orders with few candidate nodes and many
// units (too many for the DP's state space), with the parcel steps of the cost model.
//
// A plan is a set of lanes on distinct nodes (a *combination*) and the units each carries.
// For a combination and a number of parcels p_i per shipment, the cheapest allocation is an
// integer transportation problem: each SKU's demand is split over the shipments (at most
// their ATP), each shipment's weight must fit in its p_i parcels (W_i <= (p_i + 1e-9) P_i,
// the parcel rule of docs/cost-model.md), and the cost is linear in the units plus the fixed
// parts (p_i base costs, handling per shipment and the split penalty). Every plan belongs to
// some (combination, p) with p its own parcel counts, so the best over all of them is the
// optimum.
//
// * Bounds. A (combination, p) first gets the bound of its fixed parts plus every SKU at its
//   cheapest prices within the combination (capacity ignored); when it comes first in the
//   queue, the bound is tightened by Lagrangian relaxation of the weight limits: for any
//   multipliers lambda_i >= 0, sum_k fill_k(c + lambda w) - sum_i lambda_i C_i is a lower
//   bound, where fill_k is the greedy (exact) cheapest split of SKU k at prices c_ik +
//   lambda_i w_k. The multipliers come from coordinate ascent over the breakpoints.
// * Search. Best first over (combination, p): a depth-first search assigns each SKU's units
//   (heaviest SKUs first, most units to the shipment cheapest at the multipliers' prices),
//   pruned by the Lagrangian bound of the SKUs left and the capacity left, with multipliers
//   refitted at every depth (a good first plan, and few nodes). It stops when the next bound
//   cannot beat the best plan (lowest cost, then fewest shipments), which proves it optimal.
// * Limits. Too many combinations: nothing is searched (status 2). Too many search nodes:
//   the best plan so far comes back unproven (status 1) with a lower bound.
//
// Plans are re-costed exactly by the caller (omniroute.optimizer), which falls back to
// CP-SAT when the search gives up or its cost disagrees with the cost model.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <queue>
#include <vector>

namespace py = pybind11;
using i64 = std::int64_t;
using Ints = py::array_t<i64, py::array::c_style | py::array::forcecast>;
using Doubles = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Bools = py::array_t<bool, py::array::c_style | py::array::forcecast>;

namespace {

constexpr double PARCEL_TOLERANCE = 1e-9;
constexpr double CAP_MARGIN = 4e-9;  // weight limits a little generous: bounds stay valid
constexpr double INF_D = std::numeric_limits<double>::infinity();
constexpr double EPS = 1e-7;  // currency units: costs closer than this tie
constexpr int MAX_SHIPS = 6;

double parcels(double weight, double max_parcel) {
    return std::max(1.0, std::ceil(weight / max_parcel - PARCEL_TOLERANCE));
}

// idx[0..s) (a permutation) ordered by price, stably: an insertion sort for these few entries.
void by_price(int* idx, const double* price, int s) {
    for (int r = 1; r < s; ++r) {
        int i = idx[r];
        int q = r;
        for (; q > 0 && price[idx[q - 1]] > price[i]; --q) idx[q] = idx[q - 1];
        idx[q] = i;
    }
}

struct Lane {
    i64 id;  // lane index in the problem
    int node;
    double base, per_kg, max_parcel, hs, hu;
    std::vector<double> price;  // per unit of each SKU: per_kg * w_k + hu + the node's price
    std::vector<double> extra;  // the node's price per unit of each SKU (look-ahead), or none
};

struct Item {
    double bound;
    int ships;
    int combo;
    std::vector<int> p;
    std::vector<double> lambda;  // empty until refined
    bool operator>(const Item& other) const {
        return bound != other.bound ? bound > other.bound : ships > other.ships;
    }
};

struct Result {
    int status = 2;  // 0 proven, 1 gave up (best so far, unproven), 2 not searched
    double cost = INF_D;
    double bound = -INF_D;
    std::vector<i64> lanes;
    std::vector<i64> units;  // ships x m
    i64 nodes = 0;
    bool edge = false;  // a shipment's weight is within 1e-7 parcels of a parcel edge
};

class Search {
  public:
    Search(int m, std::vector<i64> demand, std::vector<double> weight, std::vector<Lane> lanes,
           std::vector<std::vector<i64>> held, double penalty, int most, double upper,
           i64 combo_limit, i64 node_limit)
        : m_(m), demand_(std::move(demand)), weight_(std::move(weight)), lanes_(std::move(lanes)),
          held_(std::move(held)), penalty_(penalty), most_(most), upper_(upper),
          combo_limit_(combo_limit), node_limit_(node_limit) {}

    Result run() {
        Result result;
        if (!combinations()) return result;  // too many: not searched
        total_weight_ = 0;
        for (int k = 0; k < m_; ++k) total_weight_ += double(demand_[k]) * weight_[k];
        order_.resize(m_);
        std::iota(order_.begin(), order_.end(), 0);
        std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) {
            return double(demand_[a]) * weight_[a] > double(demand_[b]) * weight_[b];
        });
        best_cost_ = upper_;
        std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
        for (int c = 0; c < int(combos_.size()); ++c) seed(c, queue);
        double lower = INF_D;
        bool gave_up = false;
        while (!queue.empty()) {
            Item item = queue.top();
            queue.pop();
            if (!promising(item.bound, item.ships)) {
                if (item.bound > best_cost_ + EPS) break;  // every later bound is higher
                continue;
            }
            if (item.lambda.empty()) {
                refine(item);
                if (std::isfinite(item.bound)) queue.push(std::move(item));
                continue;
            }
            if (!solve(item)) {
                gave_up = true;
                lower = item.bound;
                break;
            }
        }
        result.nodes = nodes_;
        if (best_lanes_.empty()) {
            result.status = gave_up ? 1 : 0;
            result.bound = gave_up ? lower : best_cost_;
            return result;
        }
        result.status = gave_up ? 1 : 0;
        result.cost = best_cost_;
        result.bound = gave_up ? std::min(lower, best_cost_) : best_cost_;
        result.lanes = best_lanes_;
        result.units = best_units_;
        result.edge = best_edge_;
        return result;
    }

  private:
    int m_;
    std::vector<i64> demand_;
    std::vector<double> weight_;
    std::vector<Lane> lanes_;
    std::vector<std::vector<i64>> held_;  // per lane: min(ATP, demand) of each SKU
    double penalty_;
    int most_;
    double upper_;
    i64 combo_limit_, node_limit_;
    std::vector<std::vector<int>> combos_;  // lane positions, on distinct nodes
    std::vector<int> order_;                // SKUs, heaviest load first
    double total_weight_ = 0;
    double best_cost_ = INF_D;
    int best_ships_ = std::numeric_limits<int>::max();
    std::vector<i64> best_lanes_, best_units_;
    bool best_edge_ = false;
    i64 nodes_ = 0;

    // The current (combination, p) of the depth-first search.
    int s_ = 0;
    std::vector<int> cur_;           // lane positions
    std::vector<double> cap_;        // weight limit of each shipment (inf: none)
    std::vector<double> load_;       // weight so far
    std::vector<i64> x_;             // s x m units
    std::vector<std::vector<double>> lam_;     // multipliers fitted at each depth
    std::vector<std::vector<double>> suffix_;  // their Lagrangian fill of the SKUs from t on
    std::vector<int> active_;                  // the depth whose multipliers a depth uses
    double fixed_ = 0;               // handling, penalty and p_i base costs
    bool stop_ = false;

    bool promising(double bound, int ships) const {
        if (bound > best_cost_ + EPS) return false;
        if (bound >= best_cost_ - EPS && ships >= best_ships_) return false;
        return true;
    }

    bool combinations() {
        // nodes in order of first lane; lanes grouped by node
        std::vector<int> nodes;
        std::vector<std::vector<int>> by_node;
        for (int l = 0; l < int(lanes_.size()); ++l) {
            auto it = std::find(nodes.begin(), nodes.end(), lanes_[l].node);
            if (it == nodes.end()) {
                nodes.push_back(lanes_[l].node);
                by_node.push_back({l});
            } else {
                by_node[it - nodes.begin()].push_back(l);
            }
        }
        int n = int(nodes.size());
        int most = std::min(most_, n);
        if (most > MAX_SHIPS) return false;
        // count first: sum over subsets of size <= most of the product of their lane counts
        std::vector<double> ways(most + 1, 0.0);  // by size
        ways[0] = 1;
        for (int i = 0; i < n; ++i)
            for (int s = most; s >= 1; --s) ways[s] += ways[s - 1] * double(by_node[i].size());
        double total = 0;
        for (int s = 1; s <= most; ++s) total += ways[s];
        if (total > double(combo_limit_)) return false;
        std::vector<int> chosen;
        std::function<void(int)> walk = [&](int i) {
            if (!chosen.empty()) combos_.push_back(chosen);
            if (int(chosen.size()) == most) return;
            for (int j = i; j < n; ++j)
                for (int l : by_node[j]) {
                    chosen.push_back(l);
                    walk(j + 1);
                    chosen.pop_back();
                }
        };
        walk(0);
        return true;
    }

    // Greedy (exact) cheapest split of SKU k over the current shipments at prices
    // price + lambda * w; fills `take` when given.
    double fill(int k, const std::vector<double>& lam, std::vector<double>* take) const {
        int s = s_;
        int idx[MAX_SHIPS] = {};
        double price[MAX_SHIPS] = {};
        for (int i = 0; i < s; ++i) {
            idx[i] = i;
            price[i] = lanes_[cur_[i]].price[k] + lam[i] * weight_[k];
        }
        by_price(idx, price, s);
        i64 left = demand_[k];
        double cost = 0;
        for (int r = 0; r < s && left > 0; ++r) {
            int i = idx[r];
            i64 q = std::min(left, held_[cur_[i]][k]);
            if (q <= 0) continue;
            cost += double(q) * price[i];
            if (take) (*take)[i] += double(q) * weight_[k];
            left -= q;
        }
        return left > 0 ? INF_D : cost;
    }

    void set_current(int combo, const std::vector<int>& p) {
        cur_ = combos_[combo];
        s_ = int(cur_.size());
        cap_.assign(s_, INF_D);
        load_.assign(s_, 0.0);
        fixed_ = penalty_ * double(s_ - 1);
        for (int i = 0; i < s_; ++i) {
            const Lane& lane = lanes_[cur_[i]];
            fixed_ += lane.hs + lane.base * double(p[i]);
            if (std::isfinite(lane.max_parcel)) cap_[i] = (double(p[i]) + CAP_MARGIN) * lane.max_parcel;
        }
    }

    void seed(int combo, std::priority_queue<Item, std::vector<Item>, std::greater<Item>>& queue) {
        const std::vector<int>& lanes = combos_[combo];
        int s = int(lanes.size());
        // parcel counts up to what the heaviest load the lane can carry needs
        std::vector<int> most(s, 1);
        for (int i = 0; i < s; ++i) {
            const Lane& lane = lanes_[lanes[i]];
            if (!std::isfinite(lane.max_parcel)) continue;
            double heaviest = 0;
            for (int k = 0; k < m_; ++k) heaviest += double(held_[lanes[i]][k]) * weight_[k];
            most[i] = int(parcels(std::min(heaviest, total_weight_), lane.max_parcel));
        }
        std::vector<int> p(s, 1);
        std::vector<double> zero(s, 0.0);
        while (true) {
            set_current(combo, p);
            double capacity = 0;
            for (int i = 0; i < s; ++i) capacity += cap_[i];
            if (capacity >= total_weight_ * (1 - 1e-12)) {
                double bound = fixed_ + rest_dual(0, zero);
                if (std::isfinite(bound) && bound <= upper_ + EPS)
                    queue.push(Item{bound, s, combo, p, {}});
            }
            int i = 0;
            while (i < s && p[i] == most[i]) p[i++] = 1;
            if (i == s) break;
            ++p[i];
        }
    }

    // The Lagrangian bound of the SKUs from position t on, with the capacity left.
    double rest_dual(int t, const std::vector<double>& lam) const {
        double value = 0;
        for (int pos = t; pos < m_; ++pos) value += fill(order_[pos], lam, nullptr);
        for (int i = 0; i < s_; ++i)
            if (std::isfinite(cap_[i])) value -= lam[i] * (cap_[i] - load_[i]);
        return value;
    }

    // Coordinate ascent on the multipliers of the weight limits for the SKUs from position t
    // on: each multiplier in turn moves to the best of 0 and the breakpoints where a SKU's
    // price order changes. Returns the bound reached; `lam` holds the multipliers.
    double ascend(int t, std::vector<double>& lam) const {
        double best = rest_dual(t, lam);
        bool limited = false;
        for (int i = 0; i < s_; ++i) limited |= std::isfinite(cap_[i]);
        std::vector<double> points;
        for (int sweep = 0; limited && sweep < 3; ++sweep) {
            bool moved = false;
            for (int i = 0; i < s_; ++i) {
                if (!std::isfinite(cap_[i])) continue;
                double keep = lam[i];
                double chosen = keep;
                points.assign(1, 0.0);
                for (int pos = t; pos < m_; ++pos) {
                    int k = order_[pos];
                    if (weight_[k] <= 0 || held_[cur_[i]][k] <= 0) continue;
                    for (int j = 0; j < s_; ++j) {
                        if (j == i) continue;
                        double b = (lanes_[cur_[j]].price[k] + lam[j] * weight_[k] -
                                    lanes_[cur_[i]].price[k]) / weight_[k];
                        if (b > 0) points.push_back(b);
                    }
                }
                for (double b : points) {
                    lam[i] = b;
                    double value = rest_dual(t, lam);
                    if (value > best + 1e-12) {
                        best = value;
                        chosen = b;
                    }
                }
                lam[i] = chosen;
                moved |= chosen != keep;
            }
            if (!moved) break;
        }
        return best;
    }

    void refine(Item& item) {
        set_current(item.combo, item.p);
        std::vector<double> lam(s_, 0.0);
        double best = fixed_ + ascend(0, lam);
        item.bound = std::max(item.bound, best);
        item.lambda = lam;
    }

    // The Lagrangian fill of the SKUs from each position on, at the multipliers of depth t.
    void sums(int t) {
        std::vector<double>& suffix = suffix_[t];
        suffix[m_] = 0;
        for (int pos = m_ - 1; pos >= t; --pos)
            suffix[pos] = suffix[pos + 1] + fill(order_[pos], lam_[t], nullptr);
    }

    // The exact best allocation of one (combination, p); false when the node limit is hit.
    bool solve(const Item& item) {
        set_current(item.combo, item.p);
        lam_.assign(m_ + 1, item.lambda);
        suffix_.assign(m_ + 1, std::vector<double>(m_ + 1, 0.0));
        active_.assign(m_ + 1, 0);
        load_.assign(s_, 0.0);
        sums(0);
        x_.assign(size_t(s_) * m_, 0);
        stop_ = false;
        level(0, 0.0);
        return !stop_;
    }

    void level(int t, double linear) {
        if (stop_) return;
        if (++nodes_ > node_limit_) {
            stop_ = true;
            return;
        }
        if (t == m_) {
            if (promising(fixed_ + linear, s_)) leaf();
            return;
        }
        // multipliers fitted to the SKUs and capacity left (the last SKU: the parent's)
        int src = t == 0 ? 0 : active_[t - 1];
        if (t > 0 && m_ - t > 1) {
            lam_[t] = lam_[src];
            ascend(t, lam_[t]);
            src = t;
            sums(t);
        }
        active_[t] = src;
        const std::vector<double>& lam = lam_[src];
        double bound = fixed_ + linear + suffix_[src][t];
        for (int i = 0; i < s_; ++i)
            if (std::isfinite(cap_[i])) bound -= lam[i] * (cap_[i] - load_[i]);
        if (!promising(bound, s_)) return;
        int k = order_[t];
        int idx[MAX_SHIPS] = {};
        double price[MAX_SHIPS] = {};
        for (int i = 0; i < s_; ++i) {
            idx[i] = i;
            price[i] = lanes_[cur_[i]].price[k] + lam[i] * weight_[k];
        }
        by_price(idx, price, s_);
        // the most the shipments after position r can take of this SKU
        i64 after[MAX_SHIPS + 1];
        after[s_] = 0;
        for (int r = s_ - 1; r >= 0; --r) after[r] = after[r + 1] + held_[cur_[idx[r]]][k];
        split(t, k, idx, price, after, 0, demand_[k], linear);
    }

    // Units of SKU k to the shipment at position r (by price), most first; the rest of the
    // SKU goes to the positions after it. Each choice is bounded by the Lagrangian bound with
    // the rest of the SKU filled greedily after r, which only grows as fewer units go to r.
    void split(int t, int k, const int* idx, const double* price, const i64* after, int r, i64 left,
               double linear) {
        if (stop_) return;
        int i = idx[r];
        const Lane& lane = lanes_[cur_[i]];
        i64 hi = std::min(left, held_[cur_[i]][k]);
        i64 lo = std::max<i64>(0, left - after[r + 1]);
        if (r == s_ - 1) lo = hi = left;
        if (hi < lo) return;
        for (i64 q = hi; q >= lo; --q) {
            double weight = load_[i] + double(q) * weight_[k];
            if (q > 0 && weight > cap_[i]) continue;
            load_[i] = weight;
            double cost = linear + double(q) * lane.price[k];
            const std::vector<double>& lam = lam_[active_[t]];
            double bound = fixed_ + cost + suffix_[active_[t]][t + 1];
            i64 rest = left - q;
            for (int r2 = r + 1; r2 < s_ && rest > 0; ++r2) {
                i64 take = std::min(rest, held_[cur_[idx[r2]]][k]);
                bound += double(take) * price[idx[r2]];
                rest -= take;
            }
            for (int i2 = 0; i2 < s_; ++i2)
                if (std::isfinite(cap_[i2])) bound -= lam[i2] * (cap_[i2] - load_[i2]);
            if (!promising(bound, s_)) {
                load_[i] -= double(q) * weight_[k];
                break;
            }
            x_[size_t(i) * m_ + k] = q;
            if (r == s_ - 1)
                level(t + 1, cost);
            else
                split(t, k, idx, price, after, r + 1, left - q, cost);
            load_[i] -= double(q) * weight_[k];
            x_[size_t(i) * m_ + k] = 0;
            if (stop_) return;
        }
    }

    void leaf() {
        double total = penalty_ * double(s_ - 1);
        bool edge = false;
        for (int i = 0; i < s_; ++i) {
            const Lane& lane = lanes_[cur_[i]];
            double weight = 0;
            i64 units = 0;
            double priced = 0;
            for (int k = 0; k < m_; ++k) {
                weight += double(x_[size_t(i) * m_ + k]) * weight_[k];
                units += x_[size_t(i) * m_ + k];
                if (!lane.extra.empty()) priced += double(x_[size_t(i) * m_ + k]) * lane.extra[k];
            }
            if (units == 0) return;  // a smaller combination has this plan
            double ratio = weight / lane.max_parcel;  // 0 without a limit
            edge |= lane.base != 0 && ratio > 0.5 && std::abs(ratio - std::round(ratio)) < 1e-7;
            total += parcels(weight, lane.max_parcel) * lane.base + lane.per_kg * weight + lane.hs +
                     lane.hu * double(units) + priced;
        }
        if (total < best_cost_ - EPS || (total <= best_cost_ + EPS && s_ < best_ships_)) {
            best_cost_ = total;
            best_ships_ = s_;
            best_lanes_.clear();
            for (int i = 0; i < s_; ++i) best_lanes_.push_back(lanes_[cur_[i]].id);
            best_units_ = x_;
            best_edge_ = edge;
        }
    }
};

// Lanes usable within `cap` on kept nodes holding some of the order, without those another
// lane of the same node beats on every part of the cost (parcel steps included).
std::vector<Lane> usable_lanes(const i64* atp, const i64* demand, const double* weight, int m,
                               const i64* lane_node, const double* base, const double* per_kg,
                               const double* parcel, const i64* days, const double* hs,
                               const double* hu, const double* price, py::ssize_t lanes, i64 cap,
                               const bool* keep, std::vector<std::vector<i64>>& held) {
    std::vector<Lane> out;
    for (py::ssize_t l = 0; l < lanes; ++l) {
        int node = int(lane_node[l]);
        if (days[l] > cap || !keep[node]) continue;
        bool holds = false;
        for (int k = 0; k < m; ++k) holds |= atp[size_t(node) * m + k] > 0;
        if (!holds) continue;
        Lane lane{l, node, base[l], per_kg[l], parcel[l], hs[l], hu[l], std::vector<double>(m), {}};
        for (int k = 0; k < m; ++k) lane.price[k] = per_kg[l] * weight[k] + hu[l];
        if (price) {
            lane.extra.assign(price + size_t(node) * m, price + size_t(node + 1) * m);
            for (int k = 0; k < m; ++k) lane.price[k] += lane.extra[k];
        }
        out.push_back(std::move(lane));
    }
    std::vector<char> drop(out.size(), 0);
    for (size_t a = 0; a < out.size(); ++a)
        for (size_t b = 0; b < out.size() && !drop[a]; ++b) {
            if (a == b || drop[b] || out[a].node != out[b].node) continue;
            const Lane &la = out[a], &lb = out[b];
            bool no_worse = lb.base <= la.base && lb.base + lb.hs <= la.base + la.hs &&
                            lb.max_parcel >= la.max_parcel;
            bool better = lb.base < la.base || lb.base + lb.hs < la.base + la.hs ||
                          lb.max_parcel > la.max_parcel;
            for (int k = 0; k < m && no_worse; ++k) {
                no_worse = lb.price[k] <= la.price[k];
                better |= lb.price[k] < la.price[k];
            }
            if (no_worse && (better || b < a)) drop[a] = 1;
        }
    std::vector<Lane> kept;
    for (size_t a = 0; a < out.size(); ++a) {
        if (drop[a]) continue;
        std::vector<i64> h(m);
        for (int k = 0; k < m; ++k) h[k] = std::min(atp[size_t(out[a].node) * m + k], demand[k]);
        held.push_back(std::move(h));
        kept.push_back(std::move(out[a]));
    }
    return kept;
}

py::tuple search(Ints atp, Ints demand, Doubles weight, Ints lane_node, Doubles base, Doubles per_kg,
                 Doubles parcel, Ints days, Doubles hs, Doubles hu, Doubles price, i64 cap, Bools keep,
                 double penalty, int most, double upper, i64 combo_limit, i64 node_limit) {
    int m = int(demand.size());
    if (price.size() && price.size() != atp.size())
        throw py::value_error("price: expected one entry per candidate and SKU");
    std::vector<std::vector<i64>> held;
    std::vector<Lane> lanes = usable_lanes(
        atp.data(), demand.data(), weight.data(), m, lane_node.data(), base.data(), per_kg.data(),
        parcel.data(), days.data(), hs.data(), hu.data(), price.size() ? price.data() : nullptr,
        lane_node.size(), cap, keep.data(), held);
    std::vector<i64> need(demand.data(), demand.data() + m);
    std::vector<double> w(weight.data(), weight.data() + m);
    Result result;
    {
        py::gil_scoped_release release;
        Search s(m, std::move(need), std::move(w), std::move(lanes), std::move(held), penalty, most,
                 upper, combo_limit, node_limit);
        result = s.run();
    }
    py::array_t<i64> lane_ids(py::ssize_t(result.lanes.size()));
    std::copy(result.lanes.begin(), result.lanes.end(), lane_ids.mutable_data());
    py::array_t<i64> units({py::ssize_t(result.lanes.size()), py::ssize_t(m)});
    std::copy(result.units.begin(), result.units.end(), units.mutable_data());
    return py::make_tuple(result.status, result.cost, result.bound, lane_ids, units, result.nodes,
                          result.edge);
}

}  // namespace

PYBIND11_MODULE(_exact, module) {
    module.doc() = "omniroute's exact branch and bound with parcel steps (see engine/_exact.cpp)";
    module.def("search", &search,
               "Best plan within a cap over few candidate nodes: (status, cost, bound, lanes, "
               "units, nodes searched, whether a shipment's weight is at a parcel edge); "
               "status 0 proven, 1 gave up, 2 not searched.");
}
