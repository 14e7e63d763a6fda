#pragma once
// The CLI's command framework. Each subcommand lives in its own cmd_<name>.cpp and registers itself:
//
//   KS_CLI_COMMAND(roundCommand) {
//       ks::cli::Command c;
//       c.name = "round";                       // or "bench round" for a bench sub-command
//       c.summary = "Round an array to a number format";
//       c.options = {{"format", "F", "target format, e.g. fp16, e4m3, fixed16.8", true}, ...};
//       c.run = [](const ks::cli::Args& args) { ...; return 0; };
//       return c;
//   }
//
// Exit status: 0 success, 1 a failure while working (throw anything), 2 a usage error (throw UsageError).
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ks::cli {

/// Bad command line: printed as one line, exit status 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Option {
    std::string name;         ///< without the leading "--"
    std::string valueName;    ///< empty for a flag that takes no value
    std::string help;
    bool required = false;
    std::string defaultValue;  ///< shown in --help; returned when the option is absent
};

class Args {
public:
    bool has(const std::string& name) const { return values_.count(name) > 0; }
    bool flag(const std::string& name) const { return has(name); }
    /// The value, or the option's default; a required option is checked at parse time.
    std::string get(const std::string& name) const;
    std::optional<std::string> optional(const std::string& name) const;
    long long getInt(const std::string& name) const;                 ///< UsageError if not an integer
    long long getInt(const std::string& name, long long lo, long long hi) const;  ///< and in [lo, hi]
    double getDouble(const std::string& name) const;
    /// A comma-separated list of integers, e.g. --shape 1,64,56,56,64,3
    std::vector<long long> getIntList(const std::string& name) const;
    /// A comma-separated list of words, e.g. --methods direct,fft (empty items dropped)
    std::vector<std::string> getList(const std::string& name) const;
    const std::vector<std::string>& positional() const { return positional_; }
    /// The command line after the command's name, as given.
    const std::vector<std::string>& arguments() const { return arguments_; }

private:
    friend Args parseArgs(const struct Command&, const std::vector<std::string>&);
    std::map<std::string, std::string> values_;
    std::map<std::string, std::string> defaults_;
    std::vector<std::string> positional_;
    std::vector<std::string> arguments_;
};

struct Command {
    std::string name;      ///< "round", or "bench conv"
    std::string summary;   ///< one line for the overview
    std::string details;   ///< optional paragraph for the command's --help
    std::vector<Option> options;
    bool allowPositional = false;
    std::function<int(const Args&)> run;
};

Args parseArgs(const Command& command, const std::vector<std::string>& arguments);
std::string commandHelp(const Command& command);

/// All registered commands, sorted by name.
std::vector<const Command*> commands();

struct Registrar {
    explicit Registrar(Command (*make)());
};

}  // namespace ks::cli

#define KS_CLI_COMMAND(fn)                                        \
    static ks::cli::Command fn();                                 \
    static const ks::cli::Registrar fn##_registrar{&fn};          \
    static ks::cli::Command fn()
