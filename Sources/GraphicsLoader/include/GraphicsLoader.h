#ifndef TVGEO_GRAPHICS_LOADER_H
#define TVGEO_GRAPHICS_LOADER_H

// Cairo and Pango (with the thirty-odd libraries they pull in: fontconfig, freetype, harfbuzz,
// glib, X11...) are loaded with dlopen the first time a figure is drawn, not when tvgeo starts:
// `tvgeo analyze` never draws, and loading them costs a third of its start-up. This target
// defines every Cairo, Pango and GObject function tvgeo calls under the library's own name;
// each loads the libraries once (thread-safe), then forwards. A library that cannot be loaded
// ends the process with a message on stderr and exit code 70.

/// Loads the libraries now (idempotent, thread-safe).
void tvgeo_load_graphics_libraries(void);

#endif
