#pragma once
// The column of controls on the left of every page: scrolls vertically, never horizontally, and
// keeps one width across pages so switching pages does not make the charts jump.
class QLayout;
class QScrollArea;

namespace ks::ui {

/// A scroll area holding `layout` (ownership passes to the returned widget).
QScrollArea* makeControlPanel(QLayout* layout);

}  // namespace ks::ui
