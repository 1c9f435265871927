// Pango lays out and shapes text (θ, subscripts, non-Latin task names) on Cairo surfaces.
#include <pango/pangocairo.h>
