#pragma once
// The network page's bit-width slider as plain data: an arithmetic picked from a format family (the
// format at a position, every stage in it or accumulating in fp32, a rounding mode), how many test
// digits such a setting classifies live, and the accuracy of a model across the family's positions
// (the accuracy-vs-bits curve).
//
// Table columns of formatAccuracySweep (stable):
//   family, format     labels (the family's id, the format's name at the position)
//   position           the slider's value (mantissa bits, word bits, LNS fraction bits, integer bits)
//   bits               the format's total width
//   accuracy           share of the classified test digits classified correctly (0..1)
//   median_ms          the one timed pass over them (emulated: compares settings only)
//   test_digits        how many were classified
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/progress.hpp"
#include "nn/model.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/format_family.hpp"
#include "study/chart_spec.hpp"
#include "study/compress_study.hpp"
#include "study/precision_study.hpp"
#include "study/table.hpp"

namespace ks::study {

struct FormatSetting {
    std::string family = "e5";  ///< numeric::standardFamily id
    int position = 10;          ///< in [first, last] of the family (fp16 for e5)
    Accumulation accumulation = Accumulation::InFormat;
    numeric::Rounding rounding = numeric::Rounding::NearestEven;

    /// std::invalid_argument / std::out_of_range naming the family or the position.
    numeric::Format format() const;
    numeric::ComputeSpec spec() const;
    std::string key() const;
};

/// The families the network's slider walks: every standard family (per-tensor integers run with
/// activation scales calibrated per layer, nn::ActivationScale).
std::vector<const numeric::FormatFamily*> networkFamilies();

/// How many test digits a live setting classifies (CompressSweep::maxTestDigits): all of them (0) when
/// the model runs at hardware speed or on the fast engine's float32 lanes (numeric::laneRefusal empty or
/// depending on the operands' range,
/// and `convAlgorithm`'s fastEmulationPath on float32 lanes if the model has conv layers: the 2,000
/// digits in tens of milliseconds for the MLP, about 0.2 s for the CNN), otherwise `subset` (the double
/// lanes and the reference take seconds for all of them).
std::size_t liveTestDigits(const nn::Model& model, const numeric::ComputeSpec& spec, const std::string& convAlgorithm,
                           std::size_t subset);

/// Accuracy of `model` (prepared at its ranks) at every position of `setting`'s family, each with
/// `setting`'s accumulation and rounding, as `options` says (test digits per position: liveTestDigits
/// with options.maxTestDigits as the subset). Progress per position; Cancelled when asked to stop.
Table formatAccuracySweep(const CompressionStudy& study, const nn::Model& model, const FormatSetting& setting,
                          const CompressSweep& options, const Progress& progress = {});
/// Accuracy (y, 0…1) vs the position (x), the family's named formats marked, the slider at `current`.
ChartSpec formatAccuracyChart(const numeric::FormatFamily& family, std::optional<double> current = std::nullopt);

/// Accuracy of `model` under each of `specs` (block-scaled formats, accumulator presets), one row each: columns
/// position (the index), bits (per element, scales included), accuracy, error_rate (1 − accuracy), median_ms, test_digits;
/// labels spec (its name).
/// Every spec classifies the same digits (options.maxTestDigits, a stratified subset; 0: all), so that they compare.
/// Progress per spec.
Table specAccuracySweep(const CompressionStudy& study, const nn::Model& model, const std::vector<numeric::ComputeSpec>& specs,
                        const CompressSweep& options, const Progress& progress = {});
/// A bar per specification, its test error (1 − accuracy), named beside it.
ChartSpec specAccuracyChart();

}  // namespace ks::study
