#pragma once
// View ▸ Theme: the system's look, or a light or dark one chosen here (Fusion with a palette), remembered.
// Charts follow the palette (ChartPanel picks Qt Charts' light or dark theme and keeps its own series colours,
// none of them black), so every series reads on either background.
#include <QString>

namespace ks::ui {

enum class Theme { System, Light, Dark };

/// "system", "light", "dark".
QString themeName(Theme theme);
/// The theme a name names; System for anything else.
Theme themeFromName(const QString& name);
/// Applies `theme` to the application (style and palette); every widget gets a PaletteChange.
void applyTheme(Theme theme);
/// What was applied last (System until applyTheme is called).
Theme currentTheme();

}  // namespace ks::ui
