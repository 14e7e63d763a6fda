#include "study/findings.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "numeric/format_family.hpp"

namespace ks::study {
namespace {

std::string number(double v, int digits = 3) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
    return buffer;
}

std::string fixed(double v, int decimals) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
    return buffer;
}

std::string percent(double share, int decimals = 1) { return fixed(100 * share, decimals) + " %"; }

/// "a", "a and b", "a, b and c".
std::string listed(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
        out += items[i];
    }
    return out;
}

bool usable(double v) { return std::isfinite(v); }

/// The rows of `table` whose label column `column` is `value`, in table order.
std::vector<std::size_t> rowsWhere(const Table& table, const std::string& column, const std::string& value) {
    std::vector<std::size_t> rows;
    const auto& labels = table.labels(column);
    for (std::size_t r = 0; r < labels.size(); ++r)
        if (labels[r] == value) rows.push_back(r);
    return rows;
}

/// The first of `rows` from which `holds` is true to the end (the longest such tail), or none.
template <class Holds>
std::optional<std::size_t> firstOfTail(const std::vector<std::size_t>& rows, Holds holds) {
    std::optional<std::size_t> first;
    for (std::size_t i = rows.size(); i-- > 0 && holds(rows[i]);) first = rows[i];
    return first;
}

/// Rows sorted by a numeric column.
void sortBy(std::vector<std::size_t>& rows, const std::vector<double>& key) {
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
}

std::string positionWord(const std::string& familyId) {
    try {
        switch (numeric::standardFamily(familyId).varies()) {
            case numeric::FormatFamily::Varies::MantissaBits: return "mantissa bits";
            case numeric::FormatFamily::Varies::LogFractionBits: return "fraction bits";
            case numeric::FormatFamily::Varies::FixedWordBits:
            case numeric::FormatFamily::Varies::IntBits: return "bits";
        }
    } catch (const std::invalid_argument&) {
    }
    return "bits";
}

/// The formats of rows sorted by position: "e5m1–e5m10" when they are every position from the first to the last
/// (three or more), else listed.
std::string formatsOf(const Table& t, const std::vector<std::size_t>& rows) {
    const auto& pos = t.numbers("position");
    const auto& format = t.labels("format");
    bool consecutive = rows.size() >= 3;
    for (std::size_t i = 1; i < rows.size() && consecutive; ++i) consecutive = pos[rows[i]] == pos[rows[i - 1]] + 1;
    if (consecutive) return "every width from " + format[rows.front()] + " to " + format[rows.back()];
    std::vector<std::string> names;
    for (std::size_t r : rows) names.push_back(format[r]);
    return listed(names);
}

// ---- precision --------------------------------------------------------------------------------------

/// One method's usable points, by position.
struct Curve {
    std::vector<std::size_t> rows;  ///< status ok and a finite, positive error; sorted by position
};

std::map<std::string, Curve> curvesOf(const Table& t) {
    std::map<std::string, Curve> curves;
    const auto& method = t.labels("method");
    const auto& status = t.labels("status");
    const auto& error = t.numbers("rel_error_median");
    for (std::size_t r = 0; r < t.rowCount(); ++r)
        if (status[r] == "ok" && usable(error[r]) && error[r] > 0) curves[method[r]].rows.push_back(r);
    for (auto& [name, curve] : curves) sortBy(curve.rows, t.numbers("position"));
    return curves;
}

/// At a named format: bits lost or gained by each method against the reference.
std::optional<Finding> atPreset(const Table& t, const std::string& reference, const std::vector<std::string>& methods,
                                int position, const std::string& presetName) {
    const auto& pos = t.numbers("position");
    const auto& method = t.labels("method");
    const auto& status = t.labels("status");
    const auto& error = t.numbers("rel_error_median");
    const auto rowOf = [&](const std::string& m) -> std::optional<std::size_t> {
        for (std::size_t r = 0; r < t.rowCount(); ++r)
            if (method[r] == m && pos[r] == position && status[r] == "ok" && usable(error[r]) && error[r] > 0) return r;
        return std::nullopt;
    };
    const auto& nonfinite = t.numbers("nonfinite");
    const auto ref = rowOf(reference);
    // An error over the finite outputs alone says nothing of a method that overflowed: it is named as overflowing.
    if (!ref || nonfinite[*ref] > 0) return std::nullopt;
    Finding f;
    f.rows.push_back(*ref);
    std::vector<std::string> same, parts;
    for (const std::string& m : methods) {
        if (m == reference) continue;
        const auto row = rowOf(m);
        if (!row) continue;
        f.rows.push_back(*row);
        if (nonfinite[*row] > 0) {
            parts.push_back(m + " overflows (" + number(nonfinite[*row], 6) + " infinite or NaN outputs)");
            continue;
        }
        const double bits = std::log2(error[*row] / error[*ref]);
        // A tenth of a bit is well inside the spread of a few random trials.
        if (std::abs(bits) < 0.1) {
            same.push_back(m);
        } else {
            parts.push_back(m + (bits > 0 ? " loses " : " gains ") + fixed(std::abs(bits), 1) + " bit" +
                            (std::abs(bits) >= 1.05 ? "s" : "") + " (" + number(error[*row]) + ")");
        }
    }
    if (f.rows.size() < 2) return std::nullopt;
    const std::string format = t.labels("format")[*ref];
    f.text = "At " + presetName + (presetName != format ? " (" + format + ")" : "") + ", against " + reference +
             "'s relative error of " + number(error[*ref]) + ": ";
    if (!parts.empty()) f.text += listed(parts);
    if (!same.empty())
        f.text += std::string(parts.empty() ? "" : "; ") + listed(same) + (same.size() == 1 ? " matches" : " match") +
                  " it within 0.1 bit";
    f.text += ".";
    return f;
}

/// The position from which a curve stops falling: the first point after which the error never again
/// drops below 0.7 of it (half a bit), with at least two more points to show it, and after the curve
/// had fallen at least fourfold (a curve that never fell has no "stops").
std::optional<Finding> plateau(const Table& t, const std::string& name, const Curve& c, const std::string& word) {
    const auto& pos = t.numbers("position");
    const auto& error = t.numbers("rel_error_median");
    const std::size_t n = c.rows.size();
    if (n < 4) return std::nullopt;
    // Positions must be consecutive for "stops falling at p" to be a statement about every width after p.
    for (std::size_t i = 1; i < n; ++i)
        if (pos[c.rows[i]] != pos[c.rows[i - 1]] + 1) return std::nullopt;
    for (std::size_t i = 1; i + 2 < n; ++i) {
        const double here = error[c.rows[i]];
        double lowestAfter = here;
        for (std::size_t j = i + 1; j < n; ++j) lowestAfter = std::min(lowestAfter, error[c.rows[j]]);
        if (lowestAfter < 0.7 * here) continue;
        if (error[c.rows.front()] < 4 * here) return std::nullopt;
        const std::size_t last = c.rows.back();
        Finding f;
        f.rows = {c.rows[i], last};
        f.text = name + "'s error stops falling at " + number(pos[c.rows[i]]) + " " + word + ": " + number(here) +
                 " there, " + number(error[last]) + " at " + number(pos[last]) + " (it fell " +
                 number(error[c.rows.front()] / here, 2) + "× from " + number(pos[c.rows.front()]) + ").";
        return f;
    }
    return std::nullopt;
}

/// The reference's error per added bit: least-squares slope of log2(error) against position, over the
/// points before any plateau.
std::optional<Finding> slope(const Table& t, const std::string& name, const Curve& c, const std::string& word,
                             std::size_t points) {
    if (points < 3) return std::nullopt;
    const auto& pos = t.numbers("position");
    const auto& error = t.numbers("rel_error_median");
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < points; ++i) {
        const double x = pos[c.rows[i]], y = std::log2(error[c.rows[i]]);
        sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    const double k = double(points);
    const double denominator = k * sxx - sx * sx;
    if (denominator <= 0) return std::nullopt;
    const double s = (k * sxy - sx * sy) / denominator;
    if (s >= 0) return std::nullopt;  // not falling: the plateau or overflow findings say what happens
    Finding f;
    f.rows = {c.rows.front(), c.rows[points - 1]};
    f.text = name + "'s error falls by " + fixed(-s, 2) + " bits per added bit (a factor " + number(std::exp2(-s), 3) +
             ", least squares over " + number(pos[c.rows.front()]) + "–" + number(pos[c.rows[points - 1]]) + " " +
             word + "; rounding error halves per bit in theory).";
    return f;
}

}  // namespace

std::string findingSource(const Finding& finding, const std::string& csvName) {
    if (finding.rows.empty()) return "";
    std::vector<std::size_t> rows = finding.rows;
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    std::string out = rows.size() == 1 ? "row " : "rows ";
    for (std::size_t i = 0; i < rows.size(); ++i) out += (i ? ", " : "") + std::to_string(rows[i] + 1);
    return out + " of " + csvName;
}

Findings citingRowsOf(const Findings& findings, const Table& source, const Table& target, const std::string& key) {
    const auto& from = source.numbers(key);
    const auto& to = target.numbers(key);
    Findings out = findings;
    for (Finding& f : out) {
        std::vector<std::size_t> rows;
        for (std::size_t r : f.rows)
            for (std::size_t t = 0; t < to.size(); ++t)
                if (to[t] == from[r]) rows.push_back(t);
        f.rows = rows;
    }
    return out;
}

Findings precisionFindings(const Table& t, const std::string& reference) {
    Findings out;
    if (t.rowCount() == 0) return out;
    const std::string familyId = t.labels("family").front();
    const std::string word = positionWord(familyId);
    const std::vector<std::string> methods = t.distinct("method");
    const auto curves = curvesOf(t);

    try {
        for (const auto& preset : numeric::standardFamily(familyId).presets())
            if (auto f = atPreset(t, reference, methods, preset.position, preset.name)) out.push_back(*f);
    } catch (const std::invalid_argument&) {
        // A family this build does not know has no named formats to quote.
    }

    std::size_t referencePoints = 0;
    if (auto it = curves.find(reference); it != curves.end()) {
        const auto flat = plateau(t, reference, it->second, word);
        referencePoints = it->second.rows.size();
        if (flat) {
            const auto& pos = t.numbers("position");
            const double start = pos[flat->rows.front()];
            referencePoints = std::size_t(std::count_if(it->second.rows.begin(), it->second.rows.end(),
                                                        [&](std::size_t r) { return pos[r] <= start; }));
        }
        if (auto f = slope(t, reference, it->second, word, referencePoints)) out.push_back(*f);
    }
    for (const std::string& m : methods)
        if (auto it = curves.find(m); it != curves.end())
            if (auto f = plateau(t, m, it->second, word)) out.push_back(*f);

    // Overflow (inf/NaN outputs) and refusals, per method.
    const auto& status = t.labels("status");
    const auto& nonfinite = t.numbers("nonfinite");
    for (const std::string& m : methods) {
        std::vector<std::size_t> rows = rowsWhere(t, "method", m);
        sortBy(rows, t.numbers("position"));
        Finding overflow, refused;
        double count = 0;
        for (std::size_t r : rows) {
            if (status[r] == "ok" && nonfinite[r] > 0) {
                overflow.rows.push_back(r), count += nonfinite[r];
            } else if (status[r] != "ok") {
                refused.rows.push_back(r);
            }
        }
        if (!overflow.rows.empty()) {
            overflow.text = m + " gave infinite or NaN outputs at " + formatsOf(t, overflow.rows) + " (" + number(count, 6) +
                            " in all, over every trial); its errors there are of the finite outputs only.";
            out.push_back(overflow);
        }
        if (!refused.rows.empty()) {
            refused.text = m + " cannot run at " + formatsOf(t, refused.rows) + ": " + status[refused.rows.front()] + ".";
            out.push_back(refused);
        }
    }
    return out;
}

Findings rankFindings(const Table& t, const std::vector<MatrixShape>& shapes) {
    Findings out;
    if (t.rowCount() == 0) return out;
    const auto& rank = t.numbers("rank");
    const auto& energy = t.numbers("energy_kept");
    struct Share {
        std::string input;
        std::size_t row;
        double share;
    };
    std::vector<Share> at90;
    for (const std::string& input : t.distinct("input")) {
        std::vector<std::size_t> rows = rowsWhere(t, "input", input);
        sortBy(rows, rank);
        const double top = rank[rows.back()];
        // "of its N": only when every rank 1…N is in the table and the last keeps everything.
        bool complete = rank[rows.front()] == 1 && energy[rows.back()] >= 1 - 1e-12;
        for (std::size_t i = 1; i < rows.size(); ++i) complete = complete && rank[rows[i]] == rank[rows[i - 1]] + 1;
        const auto reach = [&](double share) -> std::optional<std::size_t> {
            for (std::size_t r : rows)
                if (energy[r] >= share) return r;
            return std::nullopt;
        };
        const auto r90 = reach(0.9), r99 = reach(0.99);
        Finding f;
        const std::string of = complete ? " of " + number(top, 6) : "";
        if (r90 && r99) {
            f.rows = {*r90, *r99};
            f.text = input + " keeps 90 % of its energy (Σσ²) at rank " + number(rank[*r90], 6) + " and 99 % at rank " +
                     number(rank[*r99], 6) + of + ".";
        } else if (r90) {
            f.rows = {*r90, rows.back()};
            f.text = input + " keeps 90 % of its energy at rank " + number(rank[*r90], 6) + " but not 99 % up to rank " +
                     number(top, 6) + " (" + percent(energy[rows.back()]) + ").";
        } else {
            f.rows = {rows.back()};
            f.text = input + " keeps less than 90 % of its energy up to rank " + number(top, 6) + " (" +
                     percent(energy[rows.back()]) + ").";
        }
        out.push_back(f);
        if (r90 && complete) at90.push_back({input, *r90, rank[*r90] / top});

        for (const MatrixShape& s : shapes) {
            if (s.input != input || !complete) continue;
            const std::int64_t narrow = std::min(s.rows, s.cols);
            if (narrow != std::int64_t(top)) continue;
            // Only worth a sentence where the end is surprising: a handful of values from a large matrix.
            if (narrow > 16 || std::max(s.rows, s.cols) < 8 * narrow) continue;
            out.push_back({input + "'s spectrum ends at " + std::to_string(narrow) + " singular values because its matrix is " +
                               std::to_string(s.rows) + " × " + std::to_string(s.cols) +
                               ": a matrix's rank is at most its narrow side.",
                           {rows.back()}});
        }
    }
    if (at90.size() >= 2) {
        const auto [low, high] = std::minmax_element(at90.begin(), at90.end(),
                                                     [](const Share& a, const Share& b) { return a.share < b.share; });
        if (high->share > low->share)
            out.push_back({"For 90 % of the energy " + low->input + " needs the smallest share of its rank (" +
                               percent(low->share) + ") and " + high->input + " the largest (" + percent(high->share) + ").",
                           {low->row, high->row}});
    }
    return out;
}

Findings speedupFindings(const Table& t, double flopBreakEvenRank) {
    Findings out;
    std::vector<std::size_t> rows;
    const auto& rank = t.numbers("rank");
    const auto& model = t.numbers("flop_model_speedup");
    const auto& measured = t.numbers("measured_speedup");
    for (std::size_t r = 0; r < t.rowCount(); ++r)
        if (usable(measured[r]) && usable(model[r])) rows.push_back(r);
    if (rows.empty()) return out;
    sortBy(rows, rank);

    // Break-even: where the measured speed-up first falls from ≥ 1 to < 1, interpolated linearly in rank.
    Finding even;
    even.text = "The FLOP model breaks even at rank " + number(flopBreakEvenRank, 4) + " (k·n / (k + n))";
    std::optional<double> crossing;
    for (std::size_t i = 1; i < rows.size() && !crossing; ++i) {
        const std::size_t a = rows[i - 1], b = rows[i];
        if (measured[a] >= 1 && measured[b] < 1) {
            crossing = rank[a] + (measured[a] - 1) / (measured[a] - measured[b]) * (rank[b] - rank[a]);
            even.rows = {a, b};
        }
    }
    if (crossing) {
        even.text += "; measured, the factored product stops paying at rank " + number(*crossing, 3) + " (" +
                     number(measured[even.rows[0]], 3) + "× at " + number(rank[even.rows[0]], 6) + ", " +
                     number(measured[even.rows[1]], 3) + "× at " + number(rank[even.rows[1]], 6) + ").";
    } else if (measured[rows.front()] < 1) {
        even.rows = {rows.front()};
        even.text += "; measured, the factored product is slower at every rank, even at rank " + number(rank[rows.front()], 6) +
                     " (" + number(measured[rows.front()], 3) + "×).";
    } else {
        even.rows = {rows.back()};
        even.text += "; measured, the factored product is faster at every rank up to " + number(rank[rows.back()], 6) + " (" +
                     number(measured[rows.back()], 3) + "×).";
    }
    out.push_back(even);

    // The share of the model reached, where the model promises a gain.
    std::vector<std::pair<double, std::size_t>> shares;
    for (std::size_t r : rows)
        if (model[r] > 1) shares.push_back({measured[r] / model[r], r});
    if (!shares.empty()) {
        std::sort(shares.begin(), shares.end());
        const auto& median = shares[(shares.size() - 1) / 2];
        Finding f;
        f.rows = {shares.front().second, median.second, shares.back().second};
        const std::size_t best = rows.front();
        f.text = "Below the FLOP break-even the factored product reaches " + percent(shares.front().first, 0) + "–" +
                 percent(shares.back().first, 0) + " of the model's speed-up (median " + percent(median.first, 0) + ", at rank " +
                 number(rank[median.second], 6) + "); at rank " + number(rank[best], 6) + " it is " + number(measured[best], 3) +
                 "× faster where the model predicts " + number(model[best], 3) + "×.";
        if (std::find(f.rows.begin(), f.rows.end(), best) == f.rows.end()) f.rows.push_back(best);
        out.push_back(f);
    }
    return out;
}

Findings compressionFindings(const Table& t, double tolerancePoints) {
    Findings out;
    if (t.rowCount() == 0 || !t.hasColumn("setting")) return out;
    const auto& setting = t.labels("setting");
    const auto& accuracy = t.numbers("accuracy");
    const auto& ratio = t.numbers("compression_ratio");
    const auto& ms = t.numbers("median_ms");
    const auto denseRows = rowsWhere(t, "setting", "dense");
    if (denseRows.size() == 1) {
        const std::size_t dense = denseRows.front();
        std::optional<std::size_t> smallest, closest;
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            if (r == dense || !usable(accuracy[r])) continue;
            if (ratio[r] >= 1) continue;  // not a compression
            if (!closest || accuracy[r] > accuracy[*closest]) closest = r;
            // Compared in points (percent) with a hair of slack for the decimal tolerance itself.
            if (100 * (accuracy[dense] - accuracy[r]) <= tolerancePoints + 1e-9 && (!smallest || ratio[r] < ratio[*smallest]))
                smallest = r;
        }
        if (smallest) {
            const std::size_t r = *smallest;
            Finding f{"The smallest network within " + number(tolerancePoints) + " point of dense (" + percent(accuracy[dense], 2) +
                          ") is " + setting[r] + ": " + percent(ratio[r]) + " of the parameters, " + percent(accuracy[r], 2) +
                          " accurate",
                      {r, dense}};
            if (usable(ms[r]) && usable(ms[dense]) && ms[r] > 0)
                f.text += ", measured " + number(ms[dense] / ms[r], 3) + "× " + (ms[r] <= ms[dense] ? "faster" : "the speed") +
                          " than dense (" + number(ms[r], 3) + " vs " + number(ms[dense], 3) + " ms)";
            f.text += ".";
            out.push_back(f);
        } else if (closest) {
            out.push_back({"No compressed setting stays within " + number(tolerancePoints) + " point of dense (" +
                               percent(accuracy[dense], 2) + "); the most accurate, " + setting[*closest] + ", reaches " +
                               percent(accuracy[*closest], 2) + ".",
                           {*closest, dense}});
        }
    }
    if (t.hasColumn("pareto")) {
        const auto& pareto = t.numbers("pareto");
        std::vector<std::size_t> front;
        for (std::size_t r = 0; r < t.rowCount(); ++r)
            if (pareto[r] != 0 && usable(ms[r])) front.push_back(r);
        sortBy(front, ms);
        if (!front.empty() && front.size() < t.rowCount()) {
            Finding f;
            f.rows = front;
            std::vector<std::string> names;
            for (std::size_t r : front)
                names.push_back(setting[r] + " (" + number(ms[r], 3) + " ms, " + percent(accuracy[r], 2) + ")");
            f.text = "On the runtime-vs-accuracy Pareto front, fastest first: " + listed(names) + "; each other setting is " +
                     "matched or beaten in both time and accuracy by one of these.";
            out.push_back(f);
        }
    }
    return out;
}

Findings lowRankEfficiencyFindings(const Table& t) {
    Findings out;
    if (t.rowCount() == 0 || !t.hasColumn("setting")) return out;
    const auto dense = rowsWhere(t, "setting", "dense");
    if (dense.size() != 1) return out;
    const auto& setting = t.labels("setting");
    const auto& flops = t.numbers("flop_ratio");
    const auto& ms = t.numbers("median_ms");
    const double denseMs = ms[dense.front()];
    if (!usable(denseMs) || denseMs <= 0) return out;
    std::vector<std::pair<double, std::size_t>> shares;  // (measured / model speed-up, row)
    for (std::size_t r = 0; r < t.rowCount(); ++r)
        if (r != dense.front() && usable(ms[r]) && ms[r] > 0 && usable(flops[r]) && flops[r] > 0 && flops[r] < 1)
            shares.push_back({denseMs / ms[r] * flops[r], r});
    if (shares.empty()) return out;
    std::sort(shares.begin(), shares.end());
    const auto& [medianShare, r] = shares[(shares.size() - 1) / 2];
    Finding f;
    f.rows = {shares.front().second, r, shares.back().second, dense.front()};
    f.text = "The factored network reaches " +
             (shares.size() > 1 ? percent(shares.front().first, 0) + "–" + percent(shares.back().first, 0) + " (median " +
                                      percent(medianShare, 0) + ")"
                                : percent(medianShare, 0)) +
             " of the speed-up its FLOP count promises; " + setting[r] + " does " + percent(flops[r]) +
             " of dense's FLOPs in " + percent(ms[r] / denseMs) + " of its time (" + number(ms[r], 3) + " vs " +
             number(denseMs, 3) + " ms).";
    out.push_back(f);
    return out;
}

Findings runtimeFindings(const Table& t, const std::string& baseline) {
    Findings out;
    if (t.rowCount() == 0) return out;
    const auto& algorithm = t.labels("algorithm");
    const auto& status = t.labels("status");
    const auto& ms = t.numbers("median_ms");
    std::optional<std::size_t> base;
    for (std::size_t r = 0; r < t.rowCount(); ++r)
        if (algorithm[r] == baseline && status[r] == "ok" && usable(ms[r]) && ms[r] > 0) base = r;
    if (base) {
        Finding f;
        f.rows.push_back(*base);
        std::vector<std::string> parts;
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            if (r == *base || status[r] != "ok" || !usable(ms[r]) || ms[r] <= 0) continue;
            const double speedup = ms[*base] / ms[r];
            parts.push_back(algorithm[r] + " " + (speedup >= 1 ? number(speedup, 3) + "× faster" : number(1 / speedup, 3) + "× slower"));
            f.rows.push_back(r);
        }
        if (!parts.empty()) {
            f.text = "Against " + baseline + " (" + number(ms[*base], 3) + " ms): " + listed(parts) + ".";
            out.push_back(f);
        }
    }
    if (t.hasColumn("min_ms") && t.hasColumn("max_ms")) {
        const auto& lo = t.numbers("min_ms");
        const auto& hi = t.numbers("max_ms");
        Finding f;
        std::vector<std::string> names;
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            if (status[r] != "ok" || !usable(ms[r]) || !usable(lo[r]) || !usable(hi[r]) || ms[r] <= 0) continue;
            if (hi[r] - lo[r] <= 0.5 * ms[r]) continue;
            names.push_back(algorithm[r] + " (" + number(lo[r], 3) + "–" + number(hi[r], 3) + " ms around " + number(ms[r], 3) + ")");
            f.rows.push_back(r);
        }
        if (!names.empty()) {
            f.text = "The repeats of " + listed(names) + " spread by more than half their median: the order of these is " +
                     "uncertain; measure again with more repeats (kernelscope-cli bench).";
            out.push_back(f);
        }
    }
    return out;
}

Findings lnsFindings(const Table& t) {
    Findings out;
    if (t.rowCount() == 0) return out;
    const auto& bits = t.numbers("fraction_bits");
    const auto& total = t.numbers("rel_error_exact");
    const auto& accumulation = t.numbers("rel_error_quantised");
    const auto byBits = [&](const std::string& m) {
        std::map<double, std::size_t> rows;
        for (std::size_t r : rowsWhere(t, "method", m))
            if (usable(total[r]) && usable(accumulation[r])) rows[bits[r]] = r;
        return rows;
    };
    // The quantisation floor: the exact sum of the quantised products against the exact sums.
    const auto floor = byBits("quantised");
    if (floor.empty()) return out;
    std::vector<std::pair<std::string, std::string>> methods;  // (method, words)
    for (const std::string& m : t.distinct("method")) {
        if (m == "lns-binned-exact") methods.push_back({m, "binned accumulation with exact constants"});
        else if (m.rfind("lns-binned-b", 0) == 0 && m.find("convert") == std::string::npos)
            methods.push_back({m, "binned accumulation with " + m.substr(12) + "-bit constants"});
        else if (m == "lns-sequential-exact") methods.push_back({m, "sequential LNS addition"});
        else if (m == "log") methods.push_back({m, "linear float32 accumulation"});
    }
    for (const auto& [m, words] : methods) {
        struct Point {
            double bits, accumulation, floor;
            std::size_t row, floorRow;
        };
        std::vector<Point> points;
        for (const auto& [b, r] : byBits(m))
            if (auto it = floor.find(b); it != floor.end() && total[it->second] > 0)
                points.push_back({b, accumulation[r], total[it->second], r, it->second});
        if (points.empty()) continue;
        Finding f;
        for (const auto& p : points) f.rows.push_back(p.row), f.rows.push_back(p.floorRow);
        double lowest = points.front().accumulation, highest = lowest;
        for (const auto& p : points) lowest = std::min(lowest, p.accumulation), highest = std::max(highest, p.accumulation);
        const std::string range = lowest == highest ? number(lowest) : number(lowest) + "–" + number(highest);
        const std::string span = number(points.front().bits) + "–" + number(points.back().bits) + " fraction bits";
        // Relative errors of a few 1e-16 are double rounding in the reference sums: the accumulation is exact.
        if (highest < 1e-12) {
            f.text = "The error of " + words + " is the quantisation floor at every width (" + span +
                     "): its accumulation error is at most " + number(highest) + ", rounding in the reference sums.";
            out.push_back(f);
            continue;
        }
        // Where the accumulation error first exceeds the floor and stays above it.
        std::optional<std::size_t> from;
        for (std::size_t i = points.size(); i-- > 0;) {
            if (points[i].accumulation <= points[i].floor) break;
            from = i;
        }
        const auto& first = points.front();
        if (!from) {
            f.text = "The accumulation error of " + words + " (" + range + ") stays below the quantisation floor at every width (" +
                     span + ").";
        } else if (*from == 0) {
            f.text = "The accumulation error of " + words + " (" + range + ") exceeds the quantisation floor at every width (" +
                     span + "; at " + number(first.bits) + " bits " + number(first.accumulation) + " against " + number(first.floor) +
                     ").";
        } else {
            const auto& p = points[*from];
            f.text = "The accumulation error of " + words + " (" + range + ") exceeds the quantisation floor from " +
                     number(p.bits) + " fraction bits on (" + number(p.accumulation) + " against " + number(p.floor) +
                     "): from there it, not the format, limits the accuracy.";
        }
        out.push_back(f);
    }
    // Sequential addition against binned accumulation with exact constants, the best a log-domain adder does.
    const auto binned = byBits("lns-binned-exact");
    Finding f;
    double low = 0, high = 0;
    for (const auto& [b, r] : byBits("lns-sequential-exact"))
        if (auto it = binned.find(b); it != binned.end() && total[it->second] > 0) {
            const double ratio = total[r] / total[it->second];
            low = f.rows.empty() ? ratio : std::min(low, ratio), high = f.rows.empty() ? ratio : std::max(high, ratio);
            f.rows.push_back(r), f.rows.push_back(it->second);
        }
    if (!f.rows.empty()) {
        const std::string ratio = number(low, 2) == number(high, 2) ? number(low, 2) : number(low, 2) + "–" + number(high, 2);
        f.text = "Against the exact sums, sequential LNS addition's error is " + ratio +
                 "× that of binned accumulation with exact constants.";
        out.push_back(f);
    }
    return out;
}

Findings scaledFormatFindings(const Table& t, const std::string& method) {
    Findings out;
    if (t.rowCount() == 0) return out;
    const auto& bits = t.numbers("bits");
    const auto& error = t.numbers("rel_error_median");
    const auto& format = t.labels("format");
    const std::vector<std::size_t> rows = rowsWhere(t, "method", method);
    auto scaled = [&](std::size_t r) { return bits[r] != std::floor(bits[r]) || format[r].find('@') != std::string::npos; };
    std::vector<std::string> parts;
    Finding f;
    for (std::size_t r : rows) {
        if (!scaled(r) || !usable(error[r])) continue;
        std::optional<std::size_t> partner;
        for (std::size_t q : rows)
            if (!scaled(q) && bits[q] == std::floor(bits[r]) && usable(error[q]) && error[q] > 0) partner = q;
        if (!partner) continue;
        const double ratio = error[r] / error[*partner];
        parts.push_back(format[r] + " " + number(ratio, 2) + "× " + format[*partner] + " (" + number(error[r]) + " against " +
                        number(error[*partner]) + ")");
        f.rows.push_back(r);
        f.rows.push_back(*partner);
    }
    if (parts.empty()) return out;
    f.text = "For " + method + ", each block-scaled format's error as a multiple of the element-wise format of its width: " +
             listed(parts) + ".";
    out.push_back(f);
    return out;
}

Findings scalePlacementFindings(const Table& t) {
    Findings out;
    if (t.rowCount() == 0) return out;
    static const std::string kTiles = ":scales=tiles";
    const auto& error = t.numbers("rel_error_median");
    const auto& format = t.labels("format");
    const auto& method = t.labels("method");
    for (const std::string& tiled : t.distinct("format")) {
        if (tiled.size() <= kTiles.size() || tiled.compare(tiled.size() - kTiles.size(), kTiles.size(), kTiles) != 0) continue;
        const std::string base = tiled.substr(0, tiled.size() - kTiles.size());
        std::vector<std::string> parts;
        Finding f;
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            if (format[r] != tiled || !usable(error[r])) continue;
            for (std::size_t q = 0; q < t.rowCount(); ++q) {
                if (format[q] != base || method[q] != method[r] || !usable(error[q]) || !(error[q] > 0)) continue;
                if (error[q] == error[r]) continue;  // nothing transformed: the same computation
                parts.push_back(method[r] + " " + number(error[r] / error[q], 2) + "× (" + number(error[r]) + " against " +
                                number(error[q]) + ")");
                f.rows.push_back(r);
                f.rows.push_back(q);
            }
        }
        if (parts.empty()) continue;
        f.text = "With " + base + " blocks on the transformed tiles instead of the operands, the error is, as a multiple of "
                 "the operands' blocks: " + listed(parts) + ".";
        out.push_back(f);
    }
    return out;
}

Findings accumulationFindings(const Table& t, const std::string& axisLabel) {
    Findings out;
    if (t.rowCount() == 0) return out;
    const auto& x = t.numbers("x");
    const auto& error = t.numbers("rel_error_median");
    if (axisLabel == "accumulator bits") {
        constexpr double kTarget = 1e-3;
        std::vector<std::string> reach, never;
        Finding f;
        for (const std::string& model : t.distinct("model")) {
            std::vector<std::size_t> rows = rowsWhere(t, "model", model);
            sortBy(rows, x);
            // The fewest bits from which every wider accumulator stays within the target.
            const std::optional<std::size_t> from =
                firstOfTail(rows, [&](std::size_t r) { return usable(error[r]) && error[r] <= kTarget; });
            if (from) {
                reach.push_back(model + " " + number(x[*from]) + (reach.empty() ? " bits" : ""));
                f.rows.push_back(*from);
            } else if (!rows.empty()) {
                never.push_back(model);
                f.rows.push_back(rows.back());
            }
        }
        if (reach.empty() && never.empty()) return out;
        f.text = reach.empty() ? "" : "For a median error of 0.1 % the accumulator needs: " + listed(reach) + ".";
        if (!never.empty())
            f.text += std::string(f.text.empty() ? "" : " ") + "The " + listed(never) +
                      (never.size() == 1 ? " model does" : " models do") + " not reach it even at " + number(x[f.rows.back()]) + " bits.";
        out.push_back(f);
        return out;
    }
    std::vector<std::string> parts;
    Finding f;
    for (const std::string& model : t.distinct("model")) {
        std::vector<std::size_t> rows = rowsWhere(t, "model", model);
        sortBy(rows, x);
        if (rows.size() < 2 || !usable(error[rows.front()]) || !usable(error[rows.back()])) continue;
        parts.push_back(model + " from " + number(error[rows.front()]) + " to " + number(error[rows.back()]));
        f.rows.push_back(rows.front());
        f.rows.push_back(rows.back());
    }
    if (parts.empty()) return out;
    const std::vector<double> xs = [&] {
        std::vector<double> v(x.begin(), x.end());
        std::sort(v.begin(), v.end());
        return v;
    }();
    f.text = "From " + axisLabel + " " + number(xs.front()) + " to " + number(xs.back()) + ", the median error goes: " +
             listed(parts) + ".";
    out.push_back(f);
    return out;
}

Findings binnedWidthFindings(const Table& t) {
    Findings out;
    if (t.rowCount() == 0) return out;
    const auto& width = t.numbers("accumulator_bits");
    const auto& error = t.numbers("rel_error_exact");
    for (const std::string& method : t.distinct("method")) {
        std::vector<std::size_t> rows = rowsWhere(t, "method", method);
        sortBy(rows, width);
        const std::size_t widest = rows.back();
        if (!usable(error[widest]) || error[widest] <= 0) continue;
        const std::optional<std::size_t> from =
            firstOfTail(rows, [&](std::size_t r) { return usable(error[r]) && error[r] <= 1.1 * error[widest]; });
        if (!from || *from == widest) continue;
        out.push_back({method + ": " + fixed(width[*from], 0) + "-bit accumulators are as good as " + fixed(width[widest], 0) +
                           "-bit ones, within 10 % (" + number(error[*from]) + " against " + number(error[widest]) +
                           "); narrower ones drop the small products' low bits.",
                       {*from, widest}});
    }
    return out;
}

Findings swampingFindings(const Table& t) {
    Findings out;
    if (t.rowCount() == 0) return out;
    const auto& k = t.numbers("k");
    const auto& error = t.numbers("rel_error");
    for (const std::string& model : t.distinct("model")) {
        std::vector<std::size_t> rows = rowsWhere(t, "model", model);
        sortBy(rows, k);
        std::optional<std::size_t> earlyRow;
        for (std::size_t r : rows)
            if (k[r] <= 32 && usable(error[r]) && (!earlyRow || error[r] > error[*earlyRow])) earlyRow = r;
        const std::size_t last = rows.back();
        if (!earlyRow || !usable(error[last]) || error[*earlyRow] <= 0 || error[last] < 10 * error[*earlyRow]) continue;
        out.push_back({"The " + model + " running sum's error grows " + fixed(error[last] / error[*earlyRow], 0) +
                           "× from the first 32 products (at most " + number(error[*earlyRow]) + ") to all " + fixed(k[last], 0) +
                           " (" + number(error[last]) + "): as the sum grows, each product's low bits fall below its last place.",
                       {*earlyRow, last}});
    }
    return out;
}

Findings specAccuracyFindings(const Table& t) {
    Findings out;
    if (t.rowCount() < 2) return out;
    const auto& accuracy = t.numbers("accuracy");
    const auto& specs = t.labels("spec");
    std::size_t base = 0;
    for (std::size_t r = 0; r < t.rowCount(); ++r)
        if (specs[r] == "fp32" || specs[r] == "native") base = r;
    if (!usable(accuracy[base])) return out;
    std::vector<std::string> losses;
    Finding f;
    f.rows.push_back(base);
    double worst = 0;
    for (std::size_t r = 0; r < t.rowCount(); ++r) {
        if (r == base || !usable(accuracy[r])) continue;
        const double points = 100 * (accuracy[base] - accuracy[r]);
        worst = std::max(worst, std::fabs(points));
        if (points >= 0.5) {
            losses.push_back(specs[r] + " " + fixed(points, 1));
            f.rows.push_back(r);
        }
    }
    if (losses.empty())
        f.text = "Every specification stays within " + fixed(std::max(worst, 0.05), 1) + " point of " + specs[base] + "'s " +
                 percent(accuracy[base]) + " on these digits.";
    else
        f.text = "Against " + specs[base] + "'s " + percent(accuracy[base]) + ", accuracy falls by " + listed(losses) +
                 " points.";
    out.push_back(f);
    return out;
}

}  // namespace ks::study
