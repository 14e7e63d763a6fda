#include "sweep_tables.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "cli_charts.hpp"
#include "cli_io.hpp"
#include "io/file_util.hpp"

namespace ks::cli {

namespace {

const MergedTables* activeMerge = nullptr;

std::string joined(const std::vector<std::string>& words, const std::string& separator) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
    return out;
}

/// The command line as the manifest keeps it: without --shard and --out, which differ from shard to shard.
std::vector<std::string> recordedArguments(const std::vector<std::string>& arguments) {
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& a = arguments[i];
        if (a == "--shard" || a == "--out") {
            ++i;  // and its value
            continue;
        }
        if (a.rfind("--shard=", 0) == 0 || a.rfind("--out=", 0) == 0) continue;
        if (a.find('\n') != std::string::npos || a.find('\r') != std::string::npos)
            throw UsageError("--shard: an argument holds a line break, which a shard's manifest cannot record");
        kept.push_back(a);
    }
    return kept;
}

std::string csvName(const std::string& key) { return key + ".shard.csv"; }

}  // namespace

Option shardOption() {
    return {"shard", "I/N",
            "run the I-th of N deterministic slices of the sweep and write it, with a manifest, to --out; join the N "
            "folders with `kernelscope-cli merge`",
            false, ""};
}

SweepTables::SweepTables(std::string command, const Args& args)
    : command_(std::move(command)), dir_(args.get("out")), merged_(activeMerge) {
    if (merged_) {
        if (args.has("shard")) throw UsageError("merge: the shards' arguments hold --shard");
        return;
    }
    if (!args.has("shard")) return;
    try {
        shard_ = study::parseShard(args.get("shard"));
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--shard: ") + e.what());
    }
    sharding_ = true;
    arguments_ = recordedArguments(args.arguments());
}

study::Table SweepTables::sliced(const std::string& key, const std::function<study::Table(const study::Shard&)>& compute,
                                 const std::function<void(study::Table&)>& finish) {
    if (merged_) {
        study::Table t = take(key);
        if (finish) finish(t);
        return t;
    }
    study::Table t = compute(sharding_ ? shard_ : study::Shard{});
    if (sharding_) keep(key, t, "sliced");
    else if (finish) finish(t);
    return t;
}

study::Table SweepTables::whole(const std::string& key, const std::function<study::Table()>& compute) {
    if (merged_) return take(key);
    if (!sharding_) return compute();
    if (shard_.index != 1) {
        keep(key, {}, "whole");
        return {};
    }
    study::Table t = compute();
    keep(key, t, "whole");
    return t;
}

study::Table SweepTables::take(const std::string& key) {
    const auto found = merged_->tables.find(key);
    if (found == merged_->tables.end())
        throw std::runtime_error("merge: the shards hold no table '" + key +
                                 "' (written by another version of kernelscope-cli?)");
    return found->second;
}

void SweepTables::keep(const std::string& key, const study::Table& table, const std::string& kind) {
    if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != std::string::npos)
        throw std::logic_error("sweep table key '" + key + "' is not a plain file name");
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end())
        throw std::logic_error("sweep table key '" + key + "' used twice");
    keys_.push_back(key);
    if (table.columnCount() == 0) {  // a whole table another shard computes
        manifestTables_.push_back("table " + key + " " + kind + " absent -");
        return;
    }
    const std::vector<std::string> labels = table.labelColumnNames();
    writeText(dir_ + "/" + csvName(key), table.toCsv());
    manifestTables_.push_back("table " + key + " " + kind + " " + std::to_string(table.rowCount()) + " " +
                              (labels.empty() ? "-" : joined(labels, ",")));
}

int SweepTables::finishShard() {
    std::ostringstream manifest;
    manifest << "kernelscope-shard 1\ncommand " << command_ << "\nshard " << shard_.toString() << "\n";
    for (const auto& a : arguments_) manifest << "argument " << a << "\n";
    for (const auto& t : manifestTables_) manifest << t << "\n";
    writeText(dir_ + "/" + kShardManifest, manifest.str());
    std::cout << dir_ << "/" << kShardManifest << "\n";
    for (const auto& key : keys_)
        if (std::filesystem::exists(dir_ + "/" + csvName(key))) std::cout << dir_ << "/" << csvName(key) << "\n";
    std::cerr << "kernelscope-cli " << command_ << ": shard " << shard_.toString()
              << " written; join the shards with `kernelscope-cli merge DIR... --out DIR`\n";
    return 0;
}

MergeScope::MergeScope(const MergedTables& tables) { activeMerge = &tables; }
MergeScope::~MergeScope() { activeMerge = nullptr; }

namespace {

struct TableEntry {
    std::string key, kind;
    bool present = false;
    std::size_t rows = 0;
    std::vector<std::string> labels;
};

struct Manifest {
    std::string dir, command;
    study::Shard shard;
    std::vector<std::string> arguments;
    std::vector<TableEntry> tables;
};

Manifest readManifest(const std::string& dir) {
    const std::filesystem::path path = std::filesystem::path(dir) / kShardManifest;
    if (!std::filesystem::exists(path))
        throw std::runtime_error("" + dir + " holds no " + kShardManifest + ": not the output of a --shard run");
    const std::string text = io::readFile(path, 1 << 20);
    Manifest m;
    m.dir = dir;
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    const auto bad = [&](const std::string& why) {
        return std::runtime_error("" + path.string() + " line " + std::to_string(number) + ": " + why);
    };
    bool sawShard = false;
    while (std::getline(lines, line)) {
        ++number;
        const auto space = line.find(' ');
        const std::string word = line.substr(0, space), rest = space == std::string::npos ? "" : line.substr(space + 1);
        if (number == 1) {
            if (line != "kernelscope-shard 1") throw bad("not a shard manifest of this version (expected 'kernelscope-shard 1')");
        } else if (word == "command") {
            m.command = rest;
        } else if (word == "shard") {
            try {
                m.shard = study::parseShard(rest);
            } catch (const std::invalid_argument& e) {
                throw bad(e.what());
            }
            sawShard = true;
        } else if (word == "argument") {
            m.arguments.push_back(rest);
        } else if (word == "table") {
            std::istringstream fields(rest);
            TableEntry t;
            std::string rows, labels;
            if (!(fields >> t.key >> t.kind >> rows >> labels) || (t.kind != "sliced" && t.kind != "whole"))
                throw bad("expected 'table KEY sliced|whole ROWS|absent LABELS'");
            t.present = rows != "absent";
            if (t.present) {
                try {
                    std::size_t used = 0;
                    t.rows = std::stoul(rows, &used);
                    if (used != rows.size()) throw std::invalid_argument(rows);
                } catch (const std::exception&) {
                    throw bad("row count '" + rows + "' is not a number");
                }
            }
            if (labels != "-") {
                std::istringstream names(labels);
                for (std::string name; std::getline(names, name, ',');) t.labels.push_back(name);
            }
            if (t.key.find('/') != std::string::npos || t.key.find("..") != std::string::npos)
                throw bad("table key '" + t.key + "' is not a plain file name");
            m.tables.push_back(std::move(t));
        } else if (!line.empty()) {
            throw bad("unknown entry '" + word + "'");
        }
    }
    if (number == 0) throw bad("empty");
    if (m.command.empty() || !sawShard) throw bad("the manifest names no command or no shard");
    return m;
}

std::string commandLine(const Manifest& m) {
    return "`" + m.command + (m.arguments.empty() ? "" : " " + joined(m.arguments, " ")) + "`";
}

}  // namespace

ShardSet readShards(const std::vector<std::string>& dirs) {
    if (dirs.empty()) throw UsageError("merge: give the shards' folders");
    std::vector<Manifest> manifests;
    for (const auto& dir : dirs) manifests.push_back(readManifest(dir));
    const Manifest& first = manifests.front();
    for (const Manifest& m : manifests) {
        if (m.command != first.command || m.arguments != first.arguments)
            throw std::runtime_error("" + m.dir + " is a shard of " + commandLine(m) + ", " + first.dir + " of " +
                                     commandLine(first) + ": shards of different sweeps");
        if (m.shard.count != first.shard.count)
            throw std::runtime_error("" + m.dir + " is shard " + m.shard.toString() + ", " + first.dir + " shard " +
                                     first.shard.toString() + ": the sweep was cut into different numbers of shards");
    }
    const int count = first.shard.count;
    std::vector<const Manifest*> byIndex(std::size_t(count) + 1, nullptr);
    for (const Manifest& m : manifests) {
        const Manifest*& slot = byIndex[std::size_t(m.shard.index)];
        if (slot)
            throw std::runtime_error("shard " + m.shard.toString() + " is given twice: " + slot->dir + " and " + m.dir);
        slot = &m;
    }
    std::vector<std::string> missing;
    for (int i = 1; i <= count; ++i)
        if (!byIndex[std::size_t(i)]) missing.push_back(std::to_string(i) + "/" + std::to_string(count));
    if (!missing.empty())
        throw std::runtime_error("shard" + std::string(missing.size() > 1 ? "s " : " ") + joined(missing, ", ") +
                                 (missing.size() > 1 ? " are" : " is") + " missing (" + std::to_string(manifests.size()) +
                                 " of " + std::to_string(count) + " given)");

    ShardSet set{first.command, first.arguments, {}};
    const auto keysOf = [](const Manifest& m) {
        std::vector<std::string> keys;
        for (const auto& t : m.tables) keys.push_back(t.key + " " + t.kind);
        return keys;
    };
    for (int i = 1; i <= count; ++i) {
        const Manifest& m = *byIndex[std::size_t(i)];
        if (keysOf(m) != keysOf(*byIndex[1]))
            throw std::runtime_error("" + m.dir + " and " + byIndex[1]->dir + " hold different tables");
        for (const TableEntry& t : m.tables) {
            if (!t.present) continue;
            const std::filesystem::path csv = std::filesystem::path(m.dir) / csvName(t.key);
            study::Table part;
            try {
                part = study::Table::fromCsv(io::readFile(csv), t.labels);
            } catch (const std::invalid_argument& e) {
                throw std::runtime_error("" + csv.string() + ": " + e.what());
            }
            if (part.rowCount() != t.rows)
                throw std::runtime_error("" + csv.string() + " holds " + std::to_string(part.rowCount()) +
                                         " rows, its manifest says " + std::to_string(t.rows));
            auto [slot, fresh] = set.tables.tables.try_emplace(t.key, part);
            if (fresh) continue;
            if (t.kind == "whole")
                throw std::runtime_error("the table '" + t.key + "' is in more than one shard");
            try {
                slot->second.append(part);
            } catch (const std::invalid_argument& e) {
                throw std::runtime_error("" + csv.string() + ": " + e.what());
            }
        }
    }
    for (const TableEntry& t : first.tables)
        if (!set.tables.tables.count(t.key)) throw std::runtime_error("no shard holds the table '" + t.key + "'");
    return set;
}

}  // namespace ks::cli
