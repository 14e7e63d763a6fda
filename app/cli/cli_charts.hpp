#pragma once
// Charts from the command line: the GUI's own chart code, rendered offscreen.
#include <string>

#include "study/chart_spec.hpp"
#include "study/table.hpp"

namespace ks::cli {

/// Whether this build can draw charts (it cannot when built without the GUI library).
bool chartsAvailable();
/// Write `table` drawn as `spec` to `path` (PNG). Throws std::runtime_error when charts are
/// unavailable or the file cannot be written.
void writeChartPng(const study::Table& table, const study::ChartSpec& spec, const std::string& path);

/// Create DIR if needed; std::runtime_error naming it otherwise.
void ensureDirectory(const std::string& dir);
/// A one-line progress bar on stderr (only when stderr is a terminal), for long studies.
class TerminalProgress {
public:
    explicit TerminalProgress(std::string label);
    ~TerminalProgress();
    void operator()(double fraction);

private:
    std::string label_;
    bool enabled_;
    int last_ = -1;
};

}  // namespace ks::cli
