import Foundation

/// Where the default report templates are: the `html` folder of this target's resource bundle
/// (copied beside the `tvgeo` binary by the package manager).
public enum ReportTemplates {
    public static var defaultDirectory: URL? {
        Bundle.module.url(forResource: "html", withExtension: nil)
    }
}
