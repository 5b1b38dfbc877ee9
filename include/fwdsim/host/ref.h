// Ref<T>: a counted reference to a kernel object (a File, an EventfdCtx, a
// vfio::Device), the RAII form of Linux's get/put pairs.
//
// T provides get() and put(); Ref takes a reference when it is made from a
// raw pointer with Ref::acquire (or adopts one with Ref::adopt) and drops it
// exactly once when it goes away.  It touches nothing but T's get/put.
#pragma once

#include <type_traits>
#include <utility>

namespace fwdsim::host {

template <class T>
class Ref {
public:
    Ref() = default;
    /// Takes a new reference on `p` (p->get()); null stays null.
    static Ref acquire(T* p)
    {
        if (p) p->get();
        return Ref(p);
    }
    /// Adopts a reference the caller already holds (no get()).
    static Ref adopt(T* p) { return Ref(p); }

    Ref(const Ref& o) : p_(o.p_) { if (p_) p_->get(); }
    Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    /// A reference to a derived object converts to one to its base.
    template <class U>
        requires std::is_convertible_v<U*, T*>
    Ref(Ref<U>&& o) noexcept : p_(o.release()) {}
    Ref& operator=(Ref o) noexcept { std::swap(p_, o.p_); return *this; }
    ~Ref() { reset(); }

    /// Drops the reference now (p->put()).
    void reset()
    {
        if (T* p = std::exchange(p_, nullptr)) p->put();
    }
    /// Gives the reference up to the caller without dropping it.
    T* release() { return std::exchange(p_, nullptr); }

    T* get() const { return p_; }
    T& operator*() const { return *p_; }
    T* operator->() const { return p_; }
    explicit operator bool() const { return p_ != nullptr; }
    friend bool operator==(const Ref& a, const Ref& b) { return a.p_ == b.p_; }

private:
    explicit Ref(T* p) : p_(p) {}
    T* p_ = nullptr;
};

} // namespace fwdsim::host
