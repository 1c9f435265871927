/// Where a figure switches to its large-N form (one threshold for every chart, so they switch together).
public enum FigureDensity {
    /// The most tasks drawn in the small-N form: one label per task, one line per task.
    public static let largeTaskCount = 40

    /// True when `taskCount` tasks take the large-N form (maps coloured by cluster with labels only
    /// where they fit, layer profiles as quantile bands, pair scatters as binned densities).
    public static func isLarge(taskCount: Int) -> Bool { taskCount > largeTaskCount }
}
