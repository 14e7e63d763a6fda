#pragma once
// One page of the main window per investigation of the assignment.
#include <QWidget>

namespace ks::ui {

class InvestigationPage : public QWidget {
    Q_OBJECT
public:
    InvestigationPage(QString title, QString summary, QWidget* parent = nullptr);
    QString title() const { return title_; }
    QString summary() const { return summary_; }

private:
    QString title_;
    QString summary_;
};

}  // namespace ks::ui
