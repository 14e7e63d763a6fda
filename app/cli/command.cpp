#include "command.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace ks::cli {

namespace {

std::vector<Command>& registry() {
    static std::vector<Command> commands;
    return commands;
}

const Option* findOption(const Command& command, const std::string& name) {
    for (const auto& o : command.options)
        if (o.name == name) return &o;
    return nullptr;
}

}  // namespace

Registrar::Registrar(Command (*make)()) { registry().push_back(make()); }

std::vector<const Command*> commands() {
    std::vector<const Command*> out;
    for (const auto& c : registry()) out.push_back(&c);
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return out;
}

std::string Args::get(const std::string& name) const {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    if (auto it = defaults_.find(name); it != defaults_.end()) return it->second;
    return {};
}

std::optional<std::string> Args::optional(const std::string& name) const {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    return std::nullopt;
}

long long Args::getInt(const std::string& name) const {
    const std::string text = get(name);
    long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        throw UsageError("--" + name + ": expected an integer, got '" + text + "'");
    return value;
}

long long Args::getInt(const std::string& name, long long lo, long long hi) const {
    const long long v = getInt(name);
    if (v < lo || v > hi)
        throw UsageError("--" + name + ": " + std::to_string(v) + " is outside " + std::to_string(lo) +
                         "…" + std::to_string(hi));
    return v;
}

double Args::getDouble(const std::string& name) const {
    const std::string text = get(name);
    try {
        std::size_t used = 0;
        const double v = std::stod(text, &used);
        if (used == text.size()) return v;
    } catch (const std::exception&) {
    }
    throw UsageError("--" + name + ": expected a number, got '" + text + "'");
}

std::vector<long long> Args::getIntList(const std::string& name) const {
    std::vector<long long> out;
    std::stringstream ss(get(name));
    std::string item;
    while (std::getline(ss, item, ',')) {
        long long value = 0;
        auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (ec != std::errc() || end != item.data() + item.size() || item.empty())
            throw UsageError("--" + name + ": expected comma-separated integers, got '" + get(name) + "'");
        out.push_back(value);
    }
    return out;
}

std::vector<std::string> Args::getList(const std::string& name) const {
    std::vector<std::string> out;
    std::stringstream ss(get(name));
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

Args parseArgs(const Command& command, const std::vector<std::string>& arguments) {
    Args args;
    args.arguments_ = arguments;
    for (const auto& o : command.options)
        if (!o.defaultValue.empty()) args.defaults_[o.name] = o.defaultValue;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& a = arguments[i];
        if (a.rfind("--", 0) != 0 || a.size() == 2) {
            if (!command.allowPositional)
                throw UsageError(command.name + ": unexpected argument '" + a + "'");
            args.positional_.push_back(a);
            continue;
        }
        std::string name = a.substr(2);
        std::optional<std::string> inlineValue;
        if (auto eq = name.find('='); eq != std::string::npos) {
            inlineValue = name.substr(eq + 1);
            name.resize(eq);
        }
        const Option* option = findOption(command, name);
        if (!option) throw UsageError(command.name + ": unknown option '--" + name + "' (see --help)");
        if (option->valueName.empty()) {
            if (inlineValue) throw UsageError("--" + name + " takes no value");
            args.values_.insert_or_assign(name, std::string(1, '1'));  // flags are present or absent
            continue;
        }
        if (inlineValue) {
            args.values_[name] = *inlineValue;
        } else {
            if (i + 1 >= arguments.size()) throw UsageError("--" + name + " needs a value (" + option->valueName + ")");
            args.values_[name] = arguments[++i];
        }
    }
    for (const auto& o : command.options)
        if (o.required && !args.has(o.name))
            throw UsageError(command.name + ": missing required option --" + o.name);
    return args;
}

std::string commandHelp(const Command& command) {
    std::ostringstream out;
    out << "Usage: kernelscope-cli " << command.name;
    for (const auto& o : command.options)
        if (o.required) out << " --" << o.name << ' ' << o.valueName;
    out << " [options]\n\n" << command.summary << "\n";
    if (!command.details.empty()) out << '\n' << command.details << "\n";
    out << "\nOptions:\n";
    for (const auto& o : command.options) {
        std::string left = "  --" + o.name + (o.valueName.empty() ? "" : " " + o.valueName);
        if (left.size() < 28) left.resize(28, ' ');
        else left += "\n" + std::string(28, ' ');
        out << left << o.help;
        if (!o.defaultValue.empty()) out << " (default: " << o.defaultValue << ")";
        if (o.required) out << " (required)";
        out << '\n';
    }
    out << "  --help                    show this help\n";
    return out.str();
}

}  // namespace ks::cli
