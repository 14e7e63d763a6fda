#include "charts/export_options.hpp"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>

#include <algorithm>

namespace ks::ui {

ExportImageOptions ExportImageOptions::load() {
    QSettings settings;
    ExportImageOptions o;
    const int w = settings.value(QStringLiteral("export/width"), o.pixels.width()).toInt();
    const int h = settings.value(QStringLiteral("export/height"), o.pixels.height()).toInt();
    o.pixels = QSize(std::clamp(w, kMinPixels, kMaxPixels), std::clamp(h, kMinPixels, kMaxPixels));
    o.dpi = std::clamp(settings.value(QStringLiteral("export/dpi"), o.dpi).toInt(), kMinDpi, kMaxDpi);
    return o;
}

void ExportImageOptions::save() const {
    QSettings settings;
    settings.setValue(QStringLiteral("export/width"), pixels.width());
    settings.setValue(QStringLiteral("export/height"), pixels.height());
    settings.setValue(QStringLiteral("export/dpi"), dpi);
}

ExportOptionsDialog::ExportOptionsDialog(const ExportImageOptions& options, const QString* folder, QWidget* parent)
    : QDialog(parent), width_(new QSpinBox), height_(new QSpinBox), dpi_(new QSpinBox) {
    setWindowTitle(folder ? tr("Export all charts") : tr("Chart image size"));
    for (QSpinBox* box : {width_, height_}) {
        box->setRange(ExportImageOptions::kMinPixels, ExportImageOptions::kMaxPixels);
        box->setSuffix(tr(" px"));
    }
    width_->setValue(options.pixels.width());
    height_->setValue(options.pixels.height());
    dpi_->setRange(ExportImageOptions::kMinDpi, ExportImageOptions::kMaxDpi);
    dpi_->setValue(options.dpi);
    dpi_->setToolTip(tr("Resolution written into the PNG. Text and lines scale with it (96 dpi: screen size; "
                        "192: twice as sharp; 300: print)."));
    auto* form = new QFormLayout(this);
    if (folder) {
        folder_ = new QLineEdit(*folder);
        auto* browse = new QPushButton(tr("Browse…"));
        connect(browse, &QPushButton::clicked, this, [this] {
            const QString dir = QFileDialog::getExistingDirectory(this, tr("Export all charts into"), folder_->text());
            if (!dir.isEmpty()) folder_->setText(dir);
        });
        auto* row = new QHBoxLayout;
        row->addWidget(folder_, 1);
        row->addWidget(browse);
        form->addRow(tr("Folder"), row);
    }
    form->addRow(tr("Width"), width_);
    form->addRow(tr("Height"), height_);
    form->addRow(tr("Resolution"), dpi_);
    auto* note = new QLabel(tr("Every chart is drawn at this size, whatever the window's size, and whether or not its "
                               "page was opened. Remembered for next time."));
    note->setWordWrap(true);
    form->addRow(note);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);
}

ExportImageOptions ExportOptionsDialog::options() const {
    ExportImageOptions o;
    o.pixels = QSize(width_->value(), height_->value());
    o.dpi = dpi_->value();
    return o;
}

QString ExportOptionsDialog::folder() const { return folder_ ? folder_->text() : QString(); }

}  // namespace ks::ui
