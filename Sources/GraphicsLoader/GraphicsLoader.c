// Cairo and Pango, loaded on first use (see include/GraphicsLoader.h).
#include "GraphicsLoader.h"

#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <dlfcn.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// Every Cairo, Pango and GObject function tvgeo calls, with its prototype from the library's
// header: VALUE(library, return type, name, (parameters), (arguments)), VOID(...) for void.
// A function missing here is linked straight to its library, which then loads at start-up
// again (StartupLibrariesTests checks the executable's load list).
#define TVGEO_GRAPHICS_FUNCTIONS(VALUE, VOID) \
    VOID(CAIRO, void, cairo_clip, (cairo_t *cr), (cr)) \
    VOID(CAIRO, void, cairo_close_path, (cairo_t *cr), (cr)) \
    VALUE(CAIRO, cairo_t *, cairo_create, (cairo_surface_t *target), (target)) \
    VOID(CAIRO, void, cairo_curve_to, (cairo_t *cr, double x1, double y1, double x2, double y2, double x3, double y3), (cr, x1, y1, x2, y2, x3, y3)) \
    VOID(CAIRO, void, cairo_destroy, (cairo_t *cr), (cr)) \
    VOID(CAIRO, void, cairo_fill, (cairo_t *cr), (cr)) \
    VOID(CAIRO, void, cairo_fill_extents, (cairo_t *cr, double *x1, double *y1, double *x2, double *y2), (cr, x1, y1, x2, y2)) \
    VOID(CAIRO, void, cairo_fill_preserve, (cairo_t *cr), (cr)) \
    VALUE(CAIRO, cairo_font_options_t *, cairo_font_options_create, (void), ()) \
    VOID(CAIRO, void, cairo_font_options_destroy, (cairo_font_options_t *options), (options)) \
    VOID(CAIRO, void, cairo_font_options_set_antialias, (cairo_font_options_t *options, cairo_antialias_t antialias), (options, antialias)) \
    VOID(CAIRO, void, cairo_font_options_set_hint_metrics, (cairo_font_options_t *options, cairo_hint_metrics_t hint_metrics), (options, hint_metrics)) \
    VOID(CAIRO, void, cairo_font_options_set_hint_style, (cairo_font_options_t *options, cairo_hint_style_t hint_style), (options, hint_style)) \
    VALUE(CAIRO, cairo_surface_t *, cairo_image_surface_create, (cairo_format_t format, int width, int height), (format, width, height)) \
    VALUE(CAIRO, cairo_surface_t *, cairo_image_surface_create_from_png, (const char *filename), (filename)) \
    VALUE(CAIRO, cairo_surface_t *, cairo_image_surface_create_from_png_stream, (cairo_read_func_t read_func, void *closure), (read_func, closure)) \
    VALUE(CAIRO, unsigned char *, cairo_image_surface_get_data, (cairo_surface_t *surface), (surface)) \
    VALUE(CAIRO, cairo_format_t, cairo_image_surface_get_format, (cairo_surface_t *surface), (surface)) \
    VALUE(CAIRO, int, cairo_image_surface_get_height, (cairo_surface_t *surface), (surface)) \
    VALUE(CAIRO, int, cairo_image_surface_get_stride, (cairo_surface_t *surface), (surface)) \
    VALUE(CAIRO, int, cairo_image_surface_get_width, (cairo_surface_t *surface), (surface)) \
    VOID(CAIRO, void, cairo_line_to, (cairo_t *cr, double x, double y), (cr, x, y)) \
    VOID(CAIRO, void, cairo_move_to, (cairo_t *cr, double x, double y), (cr, x, y)) \
    VOID(CAIRO, void, cairo_paint, (cairo_t *cr), (cr)) \
    VOID(CAIRO, void, cairo_pattern_add_color_stop_rgba, (cairo_pattern_t *pattern, double offset, double red, double green, double blue, double alpha), (pattern, offset, red, green, blue, alpha)) \
    VALUE(CAIRO, cairo_pattern_t *, cairo_pattern_create_for_surface, (cairo_surface_t *surface), (surface)) \
    VALUE(CAIRO, cairo_pattern_t *, cairo_pattern_create_linear, (double x0, double y0, double x1, double y1), (x0, y0, x1, y1)) \
    VOID(CAIRO, void, cairo_pattern_destroy, (cairo_pattern_t *pattern), (pattern)) \
    VOID(CAIRO, void, cairo_pattern_set_extend, (cairo_pattern_t *pattern, cairo_extend_t extend), (pattern, extend)) \
    VOID(CAIRO, void, cairo_pattern_set_filter, (cairo_pattern_t *pattern, cairo_filter_t filter), (pattern, filter)) \
    VALUE(CAIRO, cairo_surface_t *, cairo_pdf_surface_create_for_stream, (cairo_write_func_t write_func, void *closure, double width_in_points, double height_in_points), (write_func, closure, width_in_points, height_in_points)) \
    VOID(CAIRO, void, cairo_pdf_surface_restrict_to_version, (cairo_surface_t *surface, cairo_pdf_version_t version), (surface, version)) \
    VOID(CAIRO, void, cairo_pdf_surface_set_metadata, (cairo_surface_t *surface, cairo_pdf_metadata_t metadata, const char *utf8), (surface, metadata, utf8)) \
    VOID(CAIRO, void, cairo_pdf_surface_set_size, (cairo_surface_t *surface, double width_in_points, double height_in_points), (surface, width_in_points, height_in_points)) \
    VOID(CAIRO, void, cairo_rectangle, (cairo_t *cr, double x, double y, double width, double height), (cr, x, y, width, height)) \
    VOID(CAIRO, void, cairo_restore, (cairo_t *cr), (cr)) \
    VOID(CAIRO, void, cairo_rotate, (cairo_t *cr, double angle), (cr, angle)) \
    VOID(CAIRO, void, cairo_save, (cairo_t *cr), (cr)) \
    VOID(CAIRO, void, cairo_scale, (cairo_t *cr, double sx, double sy), (cr, sx, sy)) \
    VOID(CAIRO, void, cairo_set_dash, (cairo_t *cr, const double *dashes, int num_dashes, double offset), (cr, dashes, num_dashes, offset)) \
    VOID(CAIRO, void, cairo_set_line_cap, (cairo_t *cr, cairo_line_cap_t line_cap), (cr, line_cap)) \
    VOID(CAIRO, void, cairo_set_line_join, (cairo_t *cr, cairo_line_join_t line_join), (cr, line_join)) \
    VOID(CAIRO, void, cairo_set_line_width, (cairo_t *cr, double width), (cr, width)) \
    VOID(CAIRO, void, cairo_set_source, (cairo_t *cr, cairo_pattern_t *source), (cr, source)) \
    VOID(CAIRO, void, cairo_set_source_rgb, (cairo_t *cr, double red, double green, double blue), (cr, red, green, blue)) \
    VOID(CAIRO, void, cairo_set_source_rgba, (cairo_t *cr, double red, double green, double blue, double alpha), (cr, red, green, blue, alpha)) \
    VOID(CAIRO, void, cairo_set_source_surface, (cairo_t *cr, cairo_surface_t *surface, double x, double y), (cr, surface, x, y)) \
    VOID(CAIRO, void, cairo_show_page, (cairo_t *cr), (cr)) \
    VALUE(CAIRO, cairo_status_t, cairo_status, (cairo_t *cr), (cr)) \
    VALUE(CAIRO, const char *, cairo_status_to_string, (cairo_status_t status), (status)) \
    VOID(CAIRO, void, cairo_stroke, (cairo_t *cr), (cr)) \
    VOID(CAIRO, void, cairo_surface_destroy, (cairo_surface_t *surface), (surface)) \
    VOID(CAIRO, void, cairo_surface_finish, (cairo_surface_t *surface), (surface)) \
    VOID(CAIRO, void, cairo_surface_flush, (cairo_surface_t *surface), (surface)) \
    VOID(CAIRO, void, cairo_surface_mark_dirty, (cairo_surface_t *surface), (surface)) \
    VALUE(CAIRO, cairo_surface_t *, cairo_surface_reference, (cairo_surface_t *surface), (surface)) \
    VALUE(CAIRO, cairo_status_t, cairo_surface_status, (cairo_surface_t *surface), (surface)) \
    VALUE(CAIRO, cairo_surface_t *, cairo_svg_surface_create_for_stream, (cairo_write_func_t write_func, void *closure, double width_in_points, double height_in_points), (write_func, closure, width_in_points, height_in_points)) \
    VOID(CAIRO, void, cairo_svg_surface_restrict_to_version, (cairo_surface_t *surface, cairo_svg_version_t version), (surface, version)) \
    VOID(CAIRO, void, cairo_translate, (cairo_t *cr, double tx, double ty), (cr, tx, ty)) \
    VOID(PANGO, void, pango_context_set_round_glyph_positions, (PangoContext *context, gboolean round_positions), (context, round_positions)) \
    VOID(PANGO, void, pango_font_description_free, (PangoFontDescription *desc), (desc)) \
    VALUE(PANGO, PangoFontDescription *, pango_font_description_new, (void), ()) \
    VOID(PANGO, void, pango_font_description_set_absolute_size, (PangoFontDescription *desc, double size), (desc, size)) \
    VOID(PANGO, void, pango_font_description_set_family, (PangoFontDescription *desc, const char *family), (desc, family)) \
    VOID(PANGO, void, pango_font_description_set_style, (PangoFontDescription *desc, PangoStyle style), (desc, style)) \
    VOID(PANGO, void, pango_font_description_set_weight, (PangoFontDescription *desc, PangoWeight weight), (desc, weight)) \
    VOID(PANGO, void, pango_layout_context_changed, (PangoLayout *layout), (layout)) \
    VALUE(PANGO, int, pango_layout_get_baseline, (PangoLayout *layout), (layout)) \
    VALUE(PANGO, PangoContext *, pango_layout_get_context, (PangoLayout *layout), (layout)) \
    VOID(PANGO, void, pango_layout_get_extents, (PangoLayout *layout, PangoRectangle *ink_rect, PangoRectangle *logical_rect), (layout, ink_rect, logical_rect)) \
    VALUE(PANGO, PangoLayoutIter *, pango_layout_get_iter, (PangoLayout *layout), (layout)) \
    VALUE(PANGO, const char *, pango_layout_get_text, (PangoLayout *layout), (layout)) \
    VOID(PANGO, void, pango_layout_iter_free, (PangoLayoutIter *iter), (iter)) \
    VALUE(PANGO, int, pango_layout_iter_get_baseline, (PangoLayoutIter *iter), (iter)) \
    VOID(PANGO, void, pango_layout_iter_get_line_extents, (PangoLayoutIter *iter, PangoRectangle *ink_rect, PangoRectangle *logical_rect), \
         (iter, ink_rect, logical_rect)) \
    VALUE(PANGO, PangoLayoutLine *, pango_layout_iter_get_line_readonly, (PangoLayoutIter *iter), (iter)) \
    VALUE(PANGO, gboolean, pango_layout_iter_next_line, (PangoLayoutIter *iter), (iter)) \
    VOID(PANGO, void, pango_layout_set_alignment, (PangoLayout *layout, PangoAlignment alignment), (layout, alignment)) \
    VOID(PANGO, void, pango_layout_set_font_description, (PangoLayout *layout, const PangoFontDescription *desc), (layout, desc)) \
    VOID(PANGO, void, pango_layout_set_text, (PangoLayout *layout, const char *text, int length), (layout, text, length)) \
    VOID(PANGOCAIRO, void, pango_cairo_context_set_font_options, (PangoContext *context, const cairo_font_options_t *options), (context, options)) \
    VALUE(PANGOCAIRO, PangoLayout *, pango_cairo_create_layout, (cairo_t *cr), (cr)) \
    VOID(PANGOCAIRO, void, pango_cairo_show_layout, (cairo_t *cr, PangoLayout *layout), (cr, layout)) \
    VALUE(PANGOCAIRO, PangoFontMap *, pango_cairo_font_map_get_default, (void), ()) \
    VOID(PANGO, void, pango_font_map_list_families, (PangoFontMap *fontmap, PangoFontFamily ***families, int *n_families), (fontmap, families, n_families)) \
    VALUE(PANGO, const char *, pango_font_family_get_name, (PangoFontFamily *family), (family)) \
    VOID(GOBJECT, void, g_free, (gpointer mem), (mem)) \
    VOID(GOBJECT, void, g_object_unref, (gpointer object), (object))

enum { CAIRO, PANGO, PANGOCAIRO, GOBJECT, LIBRARY_COUNT };
enum { CANDIDATE_COUNT = 3 };
// Where each library is looked for, in order, up to CANDIDATE_COUNT names (NULL ends a list
// early). The first name is the one the error message gives.
#if defined(__APPLE__)
// Homebrew's names. dlopen finds a bare name through DYLD_LIBRARY_PATH and the fallback path
// (/usr/local/lib is there, Apple silicon's /opt/homebrew/lib is not), hence the full paths.
#define LIBRARY_CANDIDATES(file) {file, "/opt/homebrew/lib/" file, "/usr/local/lib/" file}
static const char *const library_files[LIBRARY_COUNT][CANDIDATE_COUNT] = {
    LIBRARY_CANDIDATES("libcairo.2.dylib"), LIBRARY_CANDIDATES("libpango-1.0.0.dylib"),
    LIBRARY_CANDIDATES("libpangocairo-1.0.0.dylib"), LIBRARY_CANDIDATES("libgobject-2.0.0.dylib"),
};
static const char *const install_hint = "Homebrew: brew install cairo pango";
#else
// The sonames: the dynamic loader's search path (ld.so.cache, LD_LIBRARY_PATH) finds them.
static const char *const library_files[LIBRARY_COUNT][CANDIDATE_COUNT] = {
    {"libcairo.so.2"}, {"libpango-1.0.so.0"}, {"libpangocairo-1.0.so.0"}, {"libgobject-2.0.so.0"},
};
static const char *const install_hint =
    "Debian: apt-get install libcairo2 libpango-1.0-0 libpangocairo-1.0-0; Fedora: dnf install cairo pango";
#endif

#define DECLARE_POINTER(library, type, name, parameters, arguments) static type (*real_##name) parameters;
#define DECLARE_VOID_POINTER(library, type, name, parameters, arguments) static void (*real_##name) parameters;
TVGEO_GRAPHICS_FUNCTIONS(DECLARE_POINTER, DECLARE_VOID_POINTER)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_failure[512];

static int fail(const char *what, const char *detail) {
    snprintf(load_failure, sizeof load_failure, "cannot load %s (%s); drawing needs Cairo and Pango (%s)",
             what, detail ? detail : "unknown reason", install_hint);
    return 0;
}

// The first candidate that loads; NULL (and the first candidate's failure in `first_error`)
// when none does.
static void *open_library(const char *const candidates[CANDIDATE_COUNT], char *first_error, size_t size) {
    for (int index = 0; index < CANDIDATE_COUNT && candidates[index]; index++) {
        void *handle = dlopen(candidates[index], RTLD_NOW | RTLD_LOCAL);
        if (handle) return handle;
        const char *error = dlerror();
        if (index == 0) snprintf(first_error, size, "%s", error ? error : "unknown reason");
    }
    return NULL;
}

static int load_libraries_or_fail(void) {
    void *libraries[LIBRARY_COUNT];
    char error[sizeof load_failure / 2];
    for (int index = 0; index < LIBRARY_COUNT; index++) {
        libraries[index] = open_library(library_files[index], error, sizeof error);
        if (!libraries[index]) return fail(library_files[index][0], error);
    }
#define RESOLVE(library, type, name, parameters, arguments) \
    if (!(real_##name = (type (*) parameters)dlsym(libraries[library], #name))) return fail(library_files[library][0], dlerror());
#define RESOLVE_VOID(library, type, name, parameters, arguments) \
    if (!(real_##name = (void (*) parameters)dlsym(libraries[library], #name))) return fail(library_files[library][0], dlerror());
    TVGEO_GRAPHICS_FUNCTIONS(RESOLVE, RESOLVE_VOID)
    return 1;
}

static void load_libraries(void) {
    (void)load_libraries_or_fail();
}

const char *tvgeo_graphics_load_error(void) {
    pthread_once(&load_once, load_libraries);
    return load_failure[0] ? load_failure : NULL;
}

// Callers check tvgeo_graphics_load_error() before drawing; reaching a function without the
// libraries is a bug, reported on stderr with the internal-error exit code.
static void tvgeo_load_graphics_libraries(void) {
    if (tvgeo_graphics_load_error()) {
        fprintf(stderr, "tvgeo: error: %s\n", load_failure);
        exit(70);
    }
}

// Each function of the list, defined here under its own name: it loads the libraries once,
// then calls the library's function. Hidden: an executable linked with --export-dynamic (the
// release build with the static Swift runtime) would otherwise export these names, and the
// libraries being loaded would bind their own calls to them (GObject's constructor calls g_free
// inside dlopen, which re-entered the load and deadlocked in pthread_once).
#define DEFINE_FORWARD(library, type, name, parameters, arguments) \
    __attribute__((visibility("hidden"))) type name parameters { tvgeo_load_graphics_libraries(); return real_##name arguments; }
#define DEFINE_VOID_FORWARD(library, type, name, parameters, arguments) \
    __attribute__((visibility("hidden"))) void name parameters { tvgeo_load_graphics_libraries(); real_##name arguments; }
TVGEO_GRAPHICS_FUNCTIONS(DEFINE_FORWARD, DEFINE_VOID_FORWARD)
