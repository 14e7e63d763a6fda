#pragma once
#include <QDialog>

namespace ks::ui {

/// Versions of KernelScope, Qt, Eigen and FFTW in use, and where the embedded data comes from.
class AboutDialog : public QDialog {
    Q_OBJECT
public:
    explicit AboutDialog(QWidget* parent = nullptr);
    /// The text shown, e.g. for tests: contains "Qt 6.4.2", "Eigen 3.4.0", "FFTW 3.3.10".
    static QString versionsText();
};

}  // namespace ks::ui
