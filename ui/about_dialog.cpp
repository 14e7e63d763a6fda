#include "about_dialog.hpp"

#include <QDialogButtonBox>
#include <QLabel>
#include <QVBoxLayout>
#include <QtGlobal>

#include "base/version.hpp"
#include "qt_text.hpp"

namespace ks::ui {

QString AboutDialog::versionsText() {
    return QStringLiteral("KernelScope %1\nQt %2 (built with %3)\nEigen %4\nFFTW %5")
        .arg(q(ks::versionString()), QString::fromLatin1(qVersion()),
             QStringLiteral(QT_VERSION_STR), q(ks::eigenVersion()),
             q(ks::fftwVersion()));
}

AboutDialog::AboutDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("About KernelScope"));
    auto* layout = new QVBoxLayout(this);
    auto* title = new QLabel(tr("<h2>KernelScope</h2><p>What it costs in accuracy and speed to implement DNN "
                                "primitives in different ways, at any numerical precision.</p>"),
                             this);
    title->setWordWrap(true);
    auto* versions = new QLabel(versionsText(), this);
    versions->setObjectName(QStringLiteral("versions"));
    versions->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(title);
    layout->addWidget(versions);
    layout->addWidget(buttons);
}

}  // namespace ks::ui
