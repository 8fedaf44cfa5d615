// Command-line parsing: QEMU-style flags (-m -bios -kernel ...) plus lift86's own long options.
#pragma once
#include <string>
#include <vector>

#include "machine/machine.hpp"

namespace lift86 {

struct CliError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses argv into a MachineConfig. Throws CliError with a one-line message on bad input.
// Returns false when the run should end successfully without booting (--help, --version).
bool parse_cli(int argc, char** argv, MachineConfig& cfg);

}  // namespace lift86
