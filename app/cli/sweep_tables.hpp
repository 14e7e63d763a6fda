#pragma once
// Where a command's result tables come from. Three runs, one code path:
//   - whole: the usual run; each table is computed and rendered;
//   - a shard (--shard I/N): each sliceable table is computed for the shard's slice of its points and written to
//     the output folder with a manifest (kernelscope-shard.txt); nothing is rendered;
//   - a merge (`kernelscope-cli merge DIR... --out DIR`): the command runs again with the arguments its shards
//     recorded, and each table is the shards' slices joined in shard order, so its CSVs, charts and report are
//     those of one unsharded run (apart from timings).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "command.hpp"
#include "study/shard.hpp"
#include "study/table.hpp"

namespace ks::cli {

/// The --shard option of the commands that can be sharded.
Option shardOption();

/// The tables a merge hands to the command it runs again, by key.
struct MergedTables {
    std::map<std::string, study::Table> tables;
};

class SweepTables {
public:
    /// The mode of this run: a merge in progress (MergeScope), else --shard in args, else whole.
    SweepTables(std::string command, const Args& args);

    bool sharding() const { return sharding_; }
    bool merging() const { return merged_ != nullptr; }

    /// A table whose points can be sliced: compute(shard) runs the given slice (the whole sweep: Shard{}).
    /// `finish` is applied to the whole table (computed or joined), e.g. to mark a Pareto front across all rows.
    study::Table sliced(const std::string& key, const std::function<study::Table(const study::Shard&)>& compute,
                        const std::function<void(study::Table&)>& finish = {});
    /// A table that cannot be sliced: computed by shard 1 alone (the other shards skip it); merged: shard 1's.
    /// Sharding: an empty table for the shards that skip it.
    study::Table whole(const std::string& key, const std::function<study::Table()>& compute);

    /// Sharding: writes the manifest once every table is computed, says what was written; returns 0.
    int finishShard();

private:
    study::Table take(const std::string& key);
    void keep(const std::string& key, const study::Table& table, const std::string& kind);

    std::string command_;
    std::vector<std::string> arguments_;  ///< the command line without --shard and --out
    std::string dir_;
    bool sharding_ = false;
    study::Shard shard_;
    const MergedTables* merged_ = nullptr;
    std::vector<std::string> manifestTables_;
    std::vector<std::string> keys_;
};

/// While alive, SweepTables objects take their tables from `tables` (the merge command's run of the recorded one).
class MergeScope {
public:
    explicit MergeScope(const MergedTables& tables);
    ~MergeScope();
    MergeScope(const MergeScope&) = delete;
    MergeScope& operator=(const MergeScope&) = delete;
};

/// The name of a shard's manifest in its output folder.
inline constexpr const char* kShardManifest = "kernelscope-shard.txt";

/// What a set of shard folders holds, checked: one sweep (same command and arguments), shards 1…N each once.
struct ShardSet {
    std::string command;
    std::vector<std::string> arguments;
    MergedTables tables;
};
/// std::runtime_error naming the folder and what is wrong: no manifest, a missing or duplicated shard, shards of
/// different sweeps, a CSV that does not hold the rows its manifest says.
ShardSet readShards(const std::vector<std::string>& dirs);

}  // namespace ks::cli
