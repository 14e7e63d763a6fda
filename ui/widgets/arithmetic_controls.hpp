#pragma once
// The arithmetic choices the Precision and Network pages share: a format family, a format-describing
// label, where sums are kept and the rounding mode (their items carry the core enums as data).
#include <string>

class QComboBox;
class QLabel;

namespace ks::numeric {
class FormatFamily;
}

namespace ks::ui {

/// Items: the families' labels, their ids as data; with `blockScaled`, the block-scaled families too (MX, NVFP4:
/// their slider walks the block size).
void fillFamilyBox(QComboBox* box, bool blockScaled = false);
/// Items: everything in the format / accumulate in fp32, study::Accumulation as data.
void fillAccumulationBox(QComboBox* box);
/// Items: the five rounding modes, numeric::Rounding as data.
void fillRoundingBox(QComboBox* box);
/// "<b>e5m10 = fp16</b><br>describe(format)" for the format at a position of a family.
void showFormat(QLabel* label, const numeric::FormatFamily& family, int position);
/// The same for any of study::precisionFamilyChoices() (block-scaled ones included).
void showFamilyPosition(QLabel* label, const std::string& familyId, int position);

}  // namespace ks::ui
