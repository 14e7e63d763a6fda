#pragma once
// The status bar's progress bar and Cancel button, shared by every background task of the window.
#include <QWidget>

#include <functional>

class QLabel;
class QProgressBar;
class QPushButton;

namespace ks::ui {

class TaskProgress : public QWidget {
    Q_OBJECT
public:
    explicit TaskProgress(QWidget* parent = nullptr);

    /// Show `label` with an indeterminate bar; Cancel calls `onCancel`.
    void begin(const QString& label, std::function<void()> onCancel);
    /// fraction in [0, 1]
    void setProgress(double fraction);
    void finish();
    bool isBusy() const { return busy_; }

    QPushButton* cancelButton() const { return cancel_; }
    QProgressBar* progressBar() const { return bar_; }

private:
    QLabel* label_;
    QProgressBar* bar_;
    QPushButton* cancel_;
    std::function<void()> onCancel_;
    bool busy_ = false;
};

}  // namespace ks::ui
