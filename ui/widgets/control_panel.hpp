#pragma once
// The column of controls on the left of every page: scrolls vertically, never horizontally, and
// keeps one width across pages so switching pages does not make the charts jump.
class QLayout;
class QScrollArea;
class QWidget;

namespace ks::ui {

/// A scroll area holding `layout` (ownership passes to the returned widget).
QScrollArea* makeControlPanel(QLayout* layout);
/// The same with `below` under it, outside the scrolling part (a page's "What this shows": always in sight, and
/// never squeezing the controls' wrapped labels).
QWidget* makeControlPanel(QLayout* layout, QWidget* below);

}  // namespace ks::ui
