// Deliberately breaks the layering: the GIC may not know about KVM.
#include <fwdsim/kvm/vm.h>
