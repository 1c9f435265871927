/// The one place that decides when a figure has too many tasks to draw them one by one (issue 16:
/// libraries of hundreds of adapters). Builders and figure code ask here; the numbers are not
/// repeated anywhere else.
///
/// Evidence for `largeTaskCount` (measured with `Theme.paper`, DejaVu Sans, task names
/// `task_100`, `task_101`, …; `LargeHeatmapTests.testHeatmapLabelsFitUpToTheMeasuredCounts`):
/// heatmap tick labels at the minimum label size (6 pt) fit one per row up to 22 tasks at
/// single-column width (240 pt) and 60 tasks at double-column width (500 pt, the report's
/// heatmaps); longer names fit fewer. Maps and profiles turn into a cloud well before the heatmap labels give up,
/// so one switch at 40 tasks serves every figure: below it a figure looks as it always did, above
/// it the large forms take over (raster heatmap cells, clustering bands, cluster colours, quantile
/// bands). A heatmap whose labels still fit above 40 tasks keeps them; it only stops drawing its
/// cells one by one.
public enum FigureDensity {
    /// The largest task count drawn in the small-N forms.
    public static let largeTaskCount = 40

    /// Whether `taskCount` tasks call for the large-N forms of a figure (`taskCount > 40`).
    public static func isLarge(taskCount: Int) -> Bool { taskCount > largeTaskCount }

    /// Whether a heatmap with this many rows and columns draws its cells as one embedded bitmap
    /// (one pixel per cell, nearest-neighbour scaling) instead of one rectangle each: above
    /// 40 × 40 cells per axis, where 1 600 and more rectangles (each with its own tooltip in SVG)
    /// make files of megabytes (a 500-task heatmap SVG was 59 MB) and nobody reads single cells.
    public static func rastersHeatmapCells(rows: Int, columns: Int) -> Bool {
        isLarge(taskCount: max(rows, columns))
    }
}
