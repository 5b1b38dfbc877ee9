// ScenarioConfig: a whole system and its run, as a scenario file describes it.
//
// This is the typed, validated form of a scenario file: the clock, the
// physical CPUs and GIC, the VMs and how their vCPUs are pinned, the guest
// behaviour, the devices with their interrupts, traffic and delivery modes,
// what the VMM does during the run (mode switches, a kill), and where
// results go.  Parsing checks every key and value; an unknown key or a bad
// value is a sim::ConfigError naming the file, the line and the key.  The
// YAML library stays behind this header.
#pragma once

#include <fwdsim/machine/config.h>
#include <fwdsim/scenario/comparison.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fwdsim::scenario {

// The machine's configuration types, under the names scenario code uses.
using machine::DeliveryMode;
using machine::TriggerKind;
using machine::DeviceKind;
using machine::ForwardPolicy;
using machine::TrafficConfig;
using machine::DeviceIrqConfig;
using machine::DeviceConfig;
using machine::VmConfig;
using machine::ServiceTime;
using machine::GuestConfig;
using machine::ModeSwitch;
using machine::VmmConfig;
using machine::MachineConfig;
using machine::to_string;
using machine::kMaxSpanCycles;
using machine::kMaxHandlerCycles;
using machine::kMaxMsixVectors;
using machine::us_to_cycles;
using machine::span_problem;
using machine::rate_problem;
using machine::duration_problem;
using machine::vm_irqs;

struct OutputConfig {
    std::string json, csv, trace; ///< empty: not written
};

/// A scenario: the machine it builds and runs, plus its name, where its
/// results go and the conclusions `fwdsim sensitivity` checks.
struct ScenarioConfig : MachineConfig {
    std::string name;
    OutputConfig outputs;
    std::vector<Comparison> compare; ///< conclusions `fwdsim sensitivity` checks
};

/// Parses a scenario (its `sweep` section, if any, is ignored here).
ScenarioConfig parse_scenario(const std::string& text, const std::string& origin);
ScenarioConfig load_scenario(const std::string& path);
/// The whole of the file at `path` (`what` names it in messages); a folder,
/// a missing or an unreadable file is a sim::ConfigError.
std::string read_input_file(const std::string& path, const std::string& what);

} // namespace fwdsim::scenario
