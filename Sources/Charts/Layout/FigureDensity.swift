/// The one place that decides when a study is "large": figures and tables switch to their
/// large-N forms above this many tasks (same code path, different density).
public enum FigureDensity {
    /// Above this many tasks, per-task labels and per-task rows no longer fit a page.
    public static let largeTaskCount = 40

    public static func isLarge(taskCount: Int) -> Bool { taskCount > largeTaskCount }
}
