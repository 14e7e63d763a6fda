#include "widgets/control_panel.hpp"

#include <QLayout>
#include <QScrollArea>

namespace ks::ui {

QScrollArea* makeControlPanel(QLayout* layout) {
    auto* controls = new QWidget;
    controls->setLayout(layout);
    auto* scroll = new QScrollArea;
    scroll->setWidget(controls);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setMinimumWidth(300);
    scroll->setMaximumWidth(380);
    return scroll;
}

}  // namespace ks::ui
