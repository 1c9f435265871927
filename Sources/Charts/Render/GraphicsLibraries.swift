import GraphicsLoader

/// Cairo and Pango are loaded on first use (see the GraphicsLoader target), so a command that
/// draws checks first that they can be loaded, and fails before doing any work if not.
public enum GraphicsLibraries {
    /// Loads Cairo and Pango now; nil, or a message naming the library that could not be
    /// loaded and why.
    public static func loadError() -> String? {
        tvgeo_graphics_load_error().map { String(cString: $0) }
    }
}
