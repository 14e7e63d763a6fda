#pragma once
// Charts from the command line: the GUI's own chart code, rendered offscreen.
#include <string>
#include <vector>

#include "study/chart_spec.hpp"
#include "study/table.hpp"

namespace ks::cli {

/// Whether this build can draw charts (it cannot when built without the GUI library).
bool chartsAvailable();
/// Write `table` drawn as `spec` to `path` (PNG). Throws std::runtime_error when charts are
/// unavailable or the file cannot be written.
void writeChartPng(const study::Table& table, const study::ChartSpec& spec, const std::string& path);

/// A study's figure in `dir`: <spec.id>.csv (`csvTable`, headed by the title and caption) and, where charts can be drawn,
/// <spec.id>.png (`chartTable` drawn as `spec`); prints the paths written, and says on stderr when no PNG could be.
void writeFigure(const std::string& dir, const study::Table& csvTable, const study::Table& chartTable,
                 const study::ChartSpec& spec);
/// The same when the CSV holds what the chart draws.
inline void writeFigure(const std::string& dir, const study::Table& table, const study::ChartSpec& spec) {
    writeFigure(dir, table, table, spec);
}

/// Typeset `html` (ReportDocument's, images by name) as an A4 PDF at `path`, written atomically; `images` are the
/// PNG files in `dir` the HTML names. std::runtime_error when charts are unavailable or a figure is unreadable.
void writePdf(const std::string& html, const std::string& dir, const std::vector<std::string>& images, const std::string& path);

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
