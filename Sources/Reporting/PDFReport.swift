import Charts
import Diagnostics
import Foundation

/// The report as a multi-page A4 PDF drawn with Cairo.
public enum PDFReport {
    public static func render(_ document: ReportDocument) throws(ToolError) -> Data {
        throw .internalError("PDF report not yet built")
    }
}
