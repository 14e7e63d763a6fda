#pragma once
// How charts are written as images: the pixel size and resolution the user chose (remembered across
// sessions), independent of the window, so a figure exported from a small window or from a page never
// opened is the same figure. The dialog edits them; File ▸ Export all also asks for its folder there.
#include <QDialog>
#include <QSize>

class QLineEdit;
class QSpinBox;

namespace ks::ui {

struct ExportImageOptions {
    QSize pixels{1600, 1000};  ///< the PNG's width and height in pixels
    int dpi = 192;             ///< written into the PNG; text and lines scale by dpi / 96

    qreal scale() const { return dpi / 96.0; }
    /// The chart's layout size in device-independent pixels (text keeps its point size within it).
    QSizeF logicalSize() const { return QSizeF(pixels) / scale(); }
    /// What the user chose last (QSettings "export/…"), or the defaults above; out-of-range values clamped.
    static ExportImageOptions load();
    void save() const;

    static constexpr int kMinPixels = 200, kMaxPixels = 8000, kMinDpi = 48, kMaxDpi = 600;
};

class ExportOptionsDialog : public QDialog {
    Q_OBJECT
public:
    /// With `folder` non-null, the dialog also asks for a folder (File ▸ Export all charts).
    ExportOptionsDialog(const ExportImageOptions& options, const QString* folder, QWidget* parent = nullptr);
    ExportImageOptions options() const;
    QString folder() const;

private:
    QSpinBox *width_, *height_, *dpi_;
    QLineEdit* folder_ = nullptr;
};

}  // namespace ks::ui
