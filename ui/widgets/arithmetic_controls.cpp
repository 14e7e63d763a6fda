#include "widgets/arithmetic_controls.hpp"

#include <QComboBox>
#include <QLabel>

#include <utility>

#include "numeric/format_family.hpp"
#include "qt_text.hpp"
#include "study/precision_study.hpp"

namespace ks::ui {

void fillFamilyBox(QComboBox* box, bool blockScaled) {
    for (const study::PrecisionFamily& f : study::precisionFamilyChoices())
        if (!f.blockScaled) box->addItem(q(f.label), q(f.id));
    if (blockScaled) {
        box->insertSeparator(box->count());
        for (const study::PrecisionFamily& f : study::precisionFamilyChoices())
            if (f.blockScaled) box->addItem(q(f.label), q(f.id));
    }
    box->setToolTip(blockScaled ? QObject::tr("The formats the slider walks through: one parameter varies (mantissa bits, "
                                              "word length, log fraction bits; for the block-scaled MX and NVFP4 formats, "
                                              "the block size), the rest stays fixed.")
                                : QObject::tr("The formats the slider walks through: one parameter varies (mantissa bits, "
                                              "word length, log fraction bits), the rest stays fixed."));
}

void fillAccumulationBox(QComboBox* box) {
    box->addItem(QObject::tr("Everything in the format"), int(study::Accumulation::InFormat));
    box->addItem(QObject::tr("Accumulate in fp32 (tensor-core style)"), int(study::Accumulation::Fp32));
    box->setToolTip(QObject::tr("Where sums are kept: in the swept format, or in fp32 while operands, transformed "
                                "tiles and products are rounded to the format (like fp16 tensor cores)."));
}

void fillRoundingBox(QComboBox* box) {
    const std::pair<const char*, numeric::Rounding> roundings[] = {
        {QT_TR_NOOP("nearest, ties to even"), numeric::Rounding::NearestEven},
        {QT_TR_NOOP("toward zero"), numeric::Rounding::TowardZero},
        {QT_TR_NOOP("up (toward +∞)"), numeric::Rounding::Up},
        {QT_TR_NOOP("down (toward −∞)"), numeric::Rounding::Down},
        {QT_TR_NOOP("stochastic"), numeric::Rounding::Stochastic}};
    for (const auto& [label, mode] : roundings) box->addItem(QObject::tr(label), int(mode));
    box->setToolTip(QObject::tr("How a result between two representable numbers is rounded. Stochastic rounding "
                                "picks up or down with probabilities that make the error zero on average."));
}

void showFormat(QLabel* label, const numeric::FormatFamily& family, int position) {
    const numeric::Format format = family.at(position);
    QString presetName;
    for (const auto& p : family.presets())
        if (p.position == position && q(p.name) != q(numeric::formatName(format))) presetName = q(p.name);
    label->setText(QStringLiteral("<b>%1%2</b><br>%3")
                       .arg(q(numeric::formatName(format)), presetName.isEmpty() ? QString() : QStringLiteral(" = ") + presetName,
                            q(numeric::describe(format)).toHtmlEscaped()));
}

void showFamilyPosition(QLabel* label, const std::string& familyId, int position) {
    const std::string text = study::describeFamilyPosition(familyId, position);
    const auto colon = text.find(": ");
    label->setText(QStringLiteral("<b>%1</b><br>%2").arg(q(text.substr(0, colon)).toHtmlEscaped(),
                                                        q(text.substr(colon + 2)).toHtmlEscaped()));
}

}  // namespace ks::ui
