// File: an open file of the host kernel (struct file), reference counted.
//
// A file is created with one reference, held by whoever created it (usually
// handed straight to Process::install).  get()/put() count references as
// fget/fput do; the last put() runs release() -- the file_operations
// release hook, where the owner tears down what the file stood for -- and
// then destroys the object.  kind() names the file's type for messages;
// type checks use file_cast<T>() (Linux compares f_op, e.g. "is this a VFIO
// device file?"), so each layer declares its own File subclasses and no list
// of kinds lives here.  Files touch nothing but themselves.
#pragma once

#include <fwdsim/host/ref.h>

#include <cassert>
#include <string_view>

namespace fwdsim::host {

class File {
public:
    File() = default;
    File(const File&) = delete;
    File& operator=(const File&) = delete;

    void get() { ++refcount_; }
    void put()
    {
        assert(refcount_ > 0);
        if (--refcount_ == 0) {
            release();
            delete this;
        }
    }
    unsigned refcount() const { return refcount_; }

    /// A short name of the file's type ("eventfd", "vfio-device", "kvm-vm").
    virtual std::string_view kind() const = 0;

protected:
    virtual ~File() = default;
    /// Runs once, on the last put().
    virtual void release() {}

private:
    unsigned refcount_ = 1;
};

using FileRef = Ref<File>;

/// The file as a T, or null when it is of another type.
template <class T>
T* file_cast(File* f)
{
    return dynamic_cast<T*>(f);
}

/// Makes a file with its creation reference owned by the returned Ref.
template <class T, class... Args>
Ref<T> make_file(Args&&... args)
{
    return Ref<T>::adopt(new T(std::forward<Args>(args)...));
}

} // namespace fwdsim::host
