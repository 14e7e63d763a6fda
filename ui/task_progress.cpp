#include "task_progress.hpp"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

#include <algorithm>

namespace ks::ui {

TaskProgress::TaskProgress(QWidget* parent)
    : QWidget(parent), label_(new QLabel(this)), bar_(new QProgressBar(this)), cancel_(new QPushButton(tr("Cancel"), this)) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(label_);
    layout->addWidget(bar_);
    layout->addWidget(cancel_);
    bar_->setRange(0, 1000);
    bar_->setTextVisible(false);
    bar_->setMaximumWidth(200);
    cancel_->setToolTip(tr("Stop the running computation (Esc)"));
    cancel_->setShortcut(Qt::Key_Escape);
    connect(cancel_, &QPushButton::clicked, this, [this] {
        if (onCancel_) onCancel_();
        label_->setText(tr("Cancelling…"));
        cancel_->setEnabled(false);
    });
    finish();
}

void TaskProgress::begin(const QString& label, std::function<void()> onCancel) {
    busy_ = true;
    onCancel_ = std::move(onCancel);
    label_->setText(label);
    bar_->setRange(0, 0);  // indeterminate until the first report
    cancel_->setEnabled(true);
    setVisible(true);
}

void TaskProgress::setProgress(double fraction) {
    bar_->setRange(0, 1000);
    bar_->setValue(static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 1000));
}

void TaskProgress::finish() {
    busy_ = false;
    onCancel_ = nullptr;
    setVisible(false);
}

}  // namespace ks::ui
