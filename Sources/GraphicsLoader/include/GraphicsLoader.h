#ifndef TVGEO_GRAPHICS_LOADER_H
#define TVGEO_GRAPHICS_LOADER_H

// Cairo and Pango (with the thirty-odd libraries they pull in: fontconfig, freetype, harfbuzz,
// glib, X11...) are loaded with dlopen the first time a figure is drawn, not when tvgeo starts:
// `tvgeo analyze` never draws, and loading them costs a third of its start-up. This target
// defines every Cairo, Pango and GObject function tvgeo calls under the library's own name;
// each loads the libraries once (thread-safe), then forwards.

/// Loads the libraries (once, thread-safe) and returns NULL, or a message saying which library
/// could not be loaded and why. Commands that draw call it before doing any work; a drawing
/// function reached without the libraries ends the process with that message and exit code 70.
const char *tvgeo_graphics_load_error(void);

#endif
