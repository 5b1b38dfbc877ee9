// The VFIO user interface (include/uapi/linux/vfio.h): constants with
// Linux's values and the argument structs of the ioctls fwdsim models, each
// with its argsz as user space fills it.
//
// A struct with a variable tail (vfio_irq_set's data[]) carries the tail as
// bytes; `data` holds what user memory actually contains, so a tail shorter
// than argsz claims is a fault (-EFAULT) rather than a read past the end.
// Nothing here has behaviour beyond packing helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

namespace fwdsim::vfio {

// ioctl numbers: _IO(VFIO_TYPE ';', VFIO_BASE 100 + n)
inline constexpr unsigned kVfioType = ';';
inline constexpr unsigned kVfioBase = 100;
inline constexpr unsigned vfio_ioctl(unsigned n) { return (kVfioType << 8) | (kVfioBase + n); }
inline constexpr unsigned VFIO_GET_API_VERSION = vfio_ioctl(0);
inline constexpr unsigned VFIO_CHECK_EXTENSION = vfio_ioctl(1);
inline constexpr unsigned VFIO_SET_IOMMU = vfio_ioctl(2);
inline constexpr unsigned VFIO_GROUP_GET_STATUS = vfio_ioctl(3);
inline constexpr unsigned VFIO_GROUP_SET_CONTAINER = vfio_ioctl(4);
inline constexpr unsigned VFIO_GROUP_UNSET_CONTAINER = vfio_ioctl(5);
inline constexpr unsigned VFIO_GROUP_GET_DEVICE_FD = vfio_ioctl(6);
inline constexpr unsigned VFIO_DEVICE_GET_INFO = vfio_ioctl(7);
inline constexpr unsigned VFIO_DEVICE_GET_REGION_INFO = vfio_ioctl(8);
inline constexpr unsigned VFIO_DEVICE_GET_IRQ_INFO = vfio_ioctl(9);
inline constexpr unsigned VFIO_DEVICE_SET_IRQS = vfio_ioctl(10);
inline constexpr unsigned VFIO_DEVICE_RESET = vfio_ioctl(11);

inline constexpr int VFIO_API_VERSION = 0;
inline constexpr unsigned VFIO_TYPE1_IOMMU = 1;
inline constexpr unsigned VFIO_TYPE1v2_IOMMU = 3;
inline constexpr unsigned VFIO_UNMAP_ALL = 9; ///< an extension type1 answers, not an IOMMU type

inline constexpr std::uint32_t VFIO_GROUP_FLAGS_VIABLE = 1u << 0;
inline constexpr std::uint32_t VFIO_GROUP_FLAGS_CONTAINER_SET = 1u << 1;

inline constexpr std::uint32_t VFIO_DEVICE_FLAGS_RESET = 1u << 0;
inline constexpr std::uint32_t VFIO_DEVICE_FLAGS_PCI = 1u << 1;
inline constexpr std::uint32_t VFIO_DEVICE_FLAGS_PLATFORM = 1u << 2;
inline constexpr std::uint32_t VFIO_DEVICE_FLAGS_AMBA = 1u << 3;

inline constexpr std::uint32_t VFIO_IRQ_INFO_EVENTFD = 1u << 0;
inline constexpr std::uint32_t VFIO_IRQ_INFO_MASKABLE = 1u << 1;
inline constexpr std::uint32_t VFIO_IRQ_INFO_AUTOMASKED = 1u << 2;
inline constexpr std::uint32_t VFIO_IRQ_INFO_NORESIZE = 1u << 3;

inline constexpr std::uint32_t VFIO_IRQ_SET_DATA_NONE = 1u << 0;
inline constexpr std::uint32_t VFIO_IRQ_SET_DATA_BOOL = 1u << 1;
inline constexpr std::uint32_t VFIO_IRQ_SET_DATA_EVENTFD = 1u << 2;
inline constexpr std::uint32_t VFIO_IRQ_SET_ACTION_MASK = 1u << 3;
inline constexpr std::uint32_t VFIO_IRQ_SET_ACTION_UNMASK = 1u << 4;
inline constexpr std::uint32_t VFIO_IRQ_SET_ACTION_TRIGGER = 1u << 5;
inline constexpr std::uint32_t VFIO_IRQ_SET_DATA_TYPE_MASK =
    VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD;
inline constexpr std::uint32_t VFIO_IRQ_SET_ACTION_TYPE_MASK =
    VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;

// vfio-pci IRQ indexes (enum in vfio.h)
inline constexpr unsigned VFIO_PCI_INTX_IRQ_INDEX = 0;
inline constexpr unsigned VFIO_PCI_MSI_IRQ_INDEX = 1;
inline constexpr unsigned VFIO_PCI_MSIX_IRQ_INDEX = 2;
inline constexpr unsigned VFIO_PCI_ERR_IRQ_INDEX = 3;
inline constexpr unsigned VFIO_PCI_REQ_IRQ_INDEX = 4;
inline constexpr unsigned VFIO_PCI_NUM_IRQS = 5;

/// struct vfio_group_status
struct VfioGroupStatus {
    std::uint32_t argsz = sizeof(std::uint32_t) * 2;
    std::uint32_t flags = 0;
};

/// struct vfio_device_info (the fields fwdsim models)
struct VfioDeviceInfo {
    static constexpr std::uint32_t kMinsz = 16; ///< argsz, flags, num_regions, num_irqs
    std::uint32_t argsz = kMinsz;
    std::uint32_t flags = 0;
    std::uint32_t num_regions = 0;
    std::uint32_t num_irqs = 0;
};

/// struct vfio_irq_info
struct VfioIrqInfo {
    static constexpr std::uint32_t kMinsz = 16; ///< argsz, flags, index, count
    std::uint32_t argsz = kMinsz;
    std::uint32_t flags = 0;
    std::uint32_t index = 0;
    std::uint32_t count = 0;
};

/// struct vfio_irq_set: 20-byte header and data[] (u8 per entry for BOOL,
/// s32 per entry for EVENTFD).
struct VfioIrqSet {
    static constexpr std::uint32_t kMinsz = 20; ///< argsz, flags, index, start, count
    std::uint32_t argsz = kMinsz;
    std::uint32_t flags = 0;
    std::uint32_t index = 0;
    std::uint32_t start = 0;
    std::uint32_t count = 0;
    std::vector<std::uint8_t> data;

    /// A request with DATA_NONE (argsz = header).
    static VfioIrqSet none(std::uint32_t action, std::uint32_t index, std::uint32_t start,
                           std::uint32_t count)
    {
        VfioIrqSet s;
        s.flags = VFIO_IRQ_SET_DATA_NONE | action;
        s.index = index;
        s.start = start;
        s.count = count;
        return s;
    }
    /// DATA_BOOL with one byte per entry; count and argsz follow the list.
    static VfioIrqSet bools(std::uint32_t action, std::uint32_t index, std::uint32_t start,
                            std::initializer_list<std::uint8_t> values)
    {
        VfioIrqSet s = none(0, index, start, static_cast<std::uint32_t>(values.size()));
        s.flags = VFIO_IRQ_SET_DATA_BOOL | action;
        s.data.assign(values.begin(), values.end());
        s.argsz = kMinsz + static_cast<std::uint32_t>(s.data.size());
        return s;
    }
    /// DATA_EVENTFD with one s32 fd (or -1) per entry.
    static VfioIrqSet eventfds(std::uint32_t action, std::uint32_t index, std::uint32_t start,
                               std::initializer_list<std::int32_t> fds)
    {
        VfioIrqSet s = none(0, index, start, static_cast<std::uint32_t>(fds.size()));
        s.flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
        s.data.resize(fds.size() * sizeof(std::int32_t));
        std::size_t i = 0;
        for (std::int32_t fd : fds) {
            std::memcpy(s.data.data() + i * sizeof fd, &fd, sizeof fd);
            ++i;
        }
        s.argsz = kMinsz + static_cast<std::uint32_t>(s.data.size());
        return s;
    }
};

} // namespace fwdsim::vfio
