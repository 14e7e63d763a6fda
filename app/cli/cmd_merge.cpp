// `kernelscope-cli merge`: joins the folders of a sharded sweep (--shard I/N) into the outputs of one run.
#include <iostream>

#include "cli_io.hpp"
#include "command.hpp"
#include "sweep_tables.hpp"

KS_CLI_COMMAND(mergeCommand) {
    ks::cli::Command c;
    c.name = "merge";
    c.summary = "Join the folders of a sweep run as shards (--shard I/N) into the CSVs, charts and report of one run";
    c.details =
        "Each shard's folder holds its manifest (kernelscope-shard.txt: the command, its arguments, the tables) and its\n"
        "slices of the tables. The shards must be those of one sweep, 1/N…N/N, each once. The command is run again\n"
        "with the recorded arguments and --out DIR, its tables joined from the shards instead of computed: the\n"
        "outputs are those of the unsharded run, apart from timing columns. Sharded commands: precision, rank,\n"
        "compress, lns, accumulation, report.\n\n"
        "  kernelscope-cli precision --family e8 --shard 2/4 --out shards/2   # one of four jobs\n"
        "  kernelscope-cli merge shards/1 shards/2 shards/3 shards/4 --out results";
    c.options = {{"out", "DIR", "folder for the joined outputs", true, ""}};
    c.allowPositional = true;
    c.run = [](const ks::cli::Args& args) {
        using namespace ks::cli;
        const ShardSet set = readShards(args.positional());
        const Command* command = nullptr;
        for (const Command* candidate : commands())
            if (candidate->name == set.command) command = candidate;
        if (!command) throw std::runtime_error("merge: the shards were made by '" + set.command + "', which this kernelscope-cli does not have");
        std::vector<std::string> arguments = set.arguments;
        arguments.push_back("--out");
        arguments.push_back(args.get("out"));
        const Args recorded = parseArgs(*command, arguments);
        const MergeScope scope(set.tables);
        return command->run(recorded);
    };
    return c;
}
