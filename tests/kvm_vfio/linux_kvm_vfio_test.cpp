// The kvm-vfio device's file list as Linux 6.18 answers it: virt/kvm/vfio.c
// (kvm_vfio_set_file, kvm_vfio_file_add, kvm_vfio_file_del) with
// drivers/vfio's vfio_file_is_valid taking group and (6.5+) device files,
// and virt/kvm/kvm_main.c kvm_device_ioctl_attr for the missing get_attr
// op.  The forwarding group (KVM_DEV_VFIO_DEVICE) is the seed series'
// proposal, in no Linux release; it is exercised only where the file list
// decides what may be forwarded.  docs/linux-conformance.md §4.
#include "kvm_vfio_fixture.h"

#include <cerrno>

using namespace fwdsim;
using namespace fwdsim::test;
namespace kv = fwdsim::kvm_vfio;

TEST_CASE("virt/kvm/vfio.c kvm_vfio_file_add: a VFIO device file is accepted (6.5+), once; other files are EINVAL")
{
    KvmVfioWorld w;
    const int efd = host::eventfd_create(w.vmm);
    CHECK(w.add_group(efd) == -EINVAL);
    CHECK(w.add_group(w.cfd) == -EINVAL); // a container is no group or device file
    CHECK(w.add_group(w.pfd) == 0);
    CHECK(w.dev().device_files().size() == 1);
    CHECK(w.dev().groups().empty());
    CHECK(w.add_group(w.pfd) == -EEXIST);
    // Its group file is a second, separate entry.
    CHECK(w.add_group(w.gfd) == 0);
    CHECK(w.dev().groups().size() == 1);
}

TEST_CASE("virt/kvm/vfio.c kvm_vfio_file_del: no kind check -- a file not in the list is ENOENT whatever it is")
{
    KvmVfioWorld w;
    const int efd = host::eventfd_create(w.vmm);
    CHECK(w.del_group(99) == -EBADF); // fdget first
    CHECK(w.del_group(efd) == -ENOENT);
    CHECK(w.del_group(w.vm_fd) == -ENOENT);
    CHECK(w.del_group(w.pfd) == -ENOENT);
    REQUIRE(w.add_group(w.pfd) == 0);
    CHECK(w.del_group(w.gfd) == -ENOENT); // the group file was never added
    CHECK(w.del_group(w.pfd) == 0);
    CHECK(w.dev().device_files().empty());
}

TEST_CASE("the forwarding proposal: a device known to KVM through its device file may be forwarded; deleting that file unforwards")
{
    KvmVfioWorld w;
    REQUIRE(w.vm().ensure_vgic() == 0);
    CHECK(w.forward(w.pfd, 0, 0, 16) == -EINVAL); // unknown to KVM yet
    REQUIRE(w.add_group(w.pfd) == 0);
    CHECK(w.forward(w.pfd, 0, 0, 16) == 0);
    CHECK(w.dev().forwarded().size() == 1);
    // Adding and deleting the group file leaves it: the device file still holds it.
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.del_group(w.gfd) == 0);
    CHECK(w.dev().forwarded().size() == 1);
    REQUIRE(w.del_group(w.pfd) == 0);
    CHECK(w.dev().forwarded().empty());
}

TEST_CASE("kvm_main.c kvm_device_ioctl_attr: KVM_GET_DEVICE_ATTR on kvm-vfio, which has no get_attr op, is EPERM")
{
    KvmVfioWorld w;
    std::int32_t fd = 0;
    CHECK(w.kvm->get_device_attr(w.vmm, w.kv_fd, kvm::DeviceAttr{0, kv::kDevVfioGroup, kv::kDevVfioGroupAdd,
                                                                    {reinterpret_cast<std::uint8_t*>(&fd), sizeof fd}}) == -EPERM);
}
