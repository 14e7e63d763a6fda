#include "widgets/control_panel.hpp"

#include <QLayout>
#include <QScrollArea>
#include <QVBoxLayout>

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

QWidget* makeControlPanel(QLayout* layout, QWidget* below) {
    QScrollArea* scroll = makeControlPanel(layout);
    // The controls keep their natural height at the top: a taller column leaves the room below them, not between
    // two of them (a stacked widget among the rows took it all).
    scroll->widget()->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    scroll->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    auto* column = new QWidget;
    auto* stack = new QVBoxLayout(column);
    stack->setContentsMargins(0, 0, 0, 0);
    stack->addWidget(scroll, 1);
    stack->addWidget(below);
    column->setMinimumWidth(scroll->minimumWidth());
    column->setMaximumWidth(scroll->maximumWidth());
    return column;
}

}  // namespace ks::ui
