#include "pages/investigation_page.hpp"

#include <QLabel>
#include <QVBoxLayout>

namespace ks::ui {

InvestigationPage::InvestigationPage(QString title, QString summary, QWidget* parent)
    : QWidget(parent), title_(std::move(title)), summary_(std::move(summary)) {}

bool InvestigationPage::openFile(const QString& path, QString* error) {
    if (error) *error = tr("%1 opens no files (%2)").arg(title(), path);
    return false;
}

DescriptionPage::DescriptionPage(QString title, QString summary, QWidget* parent)
    : InvestigationPage(std::move(title), std::move(summary), parent) {
    auto* layout = new QVBoxLayout(this);
    auto* heading = new QLabel(QStringLiteral("<h2>%1</h2><p>%2</p>").arg(this->title().toHtmlEscaped(), this->summary().toHtmlEscaped()), this);
    heading->setWordWrap(true);
    layout->addWidget(heading);
    layout->addStretch(1);
}

}  // namespace ks::ui
