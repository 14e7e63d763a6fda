// kernelscope-cli: the studies and kernels of KernelScope, headless.
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "base/version.hpp"
#include "command.hpp"
#include "io/printable.hpp"

namespace {

void printOverview(std::ostream& out) {
    out << "Usage: kernelscope-cli COMMAND [options]\n\n"
           "KernelScope: what it costs in accuracy and speed to implement DNN primitives in\n"
           "different ways, at any numerical precision. Arrays are read and written as NumPy .npy.\n\n"
           "Commands:\n";
    for (const auto* c : ks::cli::commands()) {
        std::string name = "  " + c->name;
        if (name.size() < 20) name.resize(20, ' ');
        out << name << c->summary << '\n';
    }
    out << "\nOptions:\n  --help     show this help (or COMMAND --help for a command's options)\n"
           "  --version  print the version\n";
}

/// The longest registered name that the arguments start with ("bench conv" before "bench").
const ks::cli::Command* lookup(const std::vector<std::string>& args, std::size_t& used) {
    const ks::cli::Command* best = nullptr;
    for (const auto* c : ks::cli::commands()) {
        std::size_t words = 0;
        std::string joined;
        for (std::size_t i = 0; i < args.size() && joined.size() < c->name.size(); ++i) {
            joined += (i ? " " : "") + args[i];
            ++words;
        }
        if (joined == c->name && (!best || c->name.size() > best->name.size())) {
            best = c;
            used = words;
        }
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        printOverview(std::cout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::cout << "kernelscope-cli " << ks::versionString() << '\n';
        return 0;
    }
    std::size_t used = 0;
    const ks::cli::Command* command = lookup(args, used);
    if (!command) {
        std::cerr << "kernelscope-cli: unknown command '" << ks::io::printable(args[0])
                  << "' (see kernelscope-cli --help)\n";
        return 2;
    }
    std::vector<std::string> rest(args.begin() + static_cast<long>(used), args.end());
    for (const auto& a : rest)
        if (a == "--help" || a == "-h") {
            std::cout << ks::cli::commandHelp(*command);
            return 0;
        }
    try {
        const ks::cli::Args parsed = ks::cli::parseArgs(*command, rest);
        return command->run(parsed);
    } catch (const ks::cli::UsageError& e) {
        std::cerr << "kernelscope-cli: " << ks::io::printable(e.what()) << '\n';
        return 2;
    } catch (const std::bad_alloc&) {
        std::cerr << "kernelscope-cli " << command->name
                  << ": out of memory (the inputs or options ask for more than this machine, or its memory limit, "
                     "gives)\n";
        return 1;
    } catch (const std::exception& e) {
        // Messages quote names read from files (tensors, zip entries): escaped once more here, so that whatever a
        // loader forgot cannot reach the terminal as control sequences (printable() leaves escaped text as it is).
        std::cerr << "kernelscope-cli " << command->name << ": " << ks::io::printable(e.what()) << '\n';
        return 1;
    }
}
