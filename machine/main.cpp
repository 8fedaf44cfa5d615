// lift86's command-line entry point.
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "machine/cli.hpp"
#include "machine/loaders.hpp"
#include "machine/machine.hpp"

int main(int argc, char** argv) {
    using namespace lift86;
    MachineConfig cfg;
    try {
        if (!parse_cli(argc, argv, cfg)) return 0;
        Machine m(cfg);
        return m.run();
    } catch (const CliError& e) {
        fmt::print(stderr, "lift86: {}\n", e.what());
        return exit_status::kUsage;
    } catch (const LoadError& e) {
        fmt::print(stderr, "lift86: {}\n", e.what());
        return exit_status::kUsage;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "lift86: out of host memory (is -m too large?)\n");
        return exit_status::kUsage;
    } catch (const std::exception& e) {
        // Anything else that escapes is a lift86 bug, but it still gets one line, not an abort.
        fmt::print(stderr, "lift86: internal error: {}\n", e.what());
        return 70;
    }
}
