// CandidateSet: the interrupts one GICv2 CPU interface may signal, ordered
// by (priority, INTID) so that the highest-priority pending interrupt is
// found without scanning every ID.  Internal to src/gic.
//
// The least candidate is held on its own, in front of a red-black tree that
// holds the others: a CPU interface mostly has one candidate or none (a
// device's SPI between its assertion and its acknowledgement, a reschedule
// SGI), and filing or unfiling that one is a pointer move instead of a
// tree insertion and a rebalancing erase.  Nodes are intrusive and owned by
// the caller (Gic::Impl::candidate_nodes); the set never owns them.
#pragma once

#include <boost/intrusive/set.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace fwdsim::gic {

/// A (interrupt, CPU) pair that may be the highest-priority pending
/// interrupt of that CPU.
struct Candidate : boost::intrusive::set_base_hook<> {
    std::uint16_t intid = 0;
    std::uint8_t priority = 0;
    bool linked = false; ///< in its CPU's set (as the least or in the tree)
};

class CandidateSet {
public:
    CandidateSet() = default;
    CandidateSet(const CandidateSet&) = delete;
    CandidateSet& operator=(const CandidateSet&) = delete;
    CandidateSet(CandidateSet&& o) noexcept : least_(o.least_), rest_(std::move(o.rest_)) { o.least_ = nullptr; }

    bool empty() const { return least_ == nullptr; }
    /// The least (priority, INTID); the set must not be empty.
    const Candidate& front() const { return *least_; }
    std::size_t size() const { return least_ == nullptr ? 0 : 1 + rest_.size(); }

    /// Files `c`, which no set holds, with its priority already set.
    void insert(Candidate& c)
    {
        if (least_ == nullptr) {
            least_ = &c;
            return;
        }
        if (before(c, *least_)) {
            rest_.insert(*least_);
            least_ = &c;
            return;
        }
        rest_.insert(c);
    }
    /// Unfiles `c`, which this set holds.
    void erase(Candidate& c)
    {
        if (&c != least_) {
            rest_.erase(rest_.iterator_to(c));
            return;
        }
        if (rest_.empty()) {
            least_ = nullptr;
            return;
        }
        auto next = rest_.begin();
        least_ = &*next;
        rest_.erase(next);
    }
    /// Unlinks every node (before the nodes go).
    void clear()
    {
        rest_.clear();
        least_ = nullptr;
    }

private:
    static bool before(const Candidate& a, const Candidate& b)
    {
        return a.priority != b.priority ? a.priority < b.priority : a.intid < b.intid;
    }
    struct Order {
        bool operator()(const Candidate& a, const Candidate& b) const { return before(a, b); }
    };
    // (priority, INTID) is unique per CPU; a multiset inserts without
    // looking for an equal key first.
    using Tree = boost::intrusive::multiset<Candidate, boost::intrusive::compare<Order>>;

    Candidate* least_ = nullptr;
    Tree rest_; ///< every candidate but the least, all ordered after it
};

} // namespace fwdsim::gic
