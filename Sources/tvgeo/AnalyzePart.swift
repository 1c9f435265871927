import Diagnostics
import Foundation
import Study

/// `tvgeo analyze --part K/N`: one part of a split study (see docs/distributed.md).
enum PartRun {
    static func run(_ selector: PartSelector, study: StudyOptions, figures: String?, force: Bool, quiet: Bool) throws(ToolError) {
        guard figures == nil else { throw .usage("--figures does not apply to --part; tvgeo combine --report draws the figures") }
        let started = Date()
        let input = try study.input()
        try OutputFolder.checkTarget(input.folder, force: force)
        let progress = ProgressLine(enabled: !quiet)
        let outcome: PartOutcome
        do {
            outcome = try StudyPart.compute(input, part: selector, progress: progress.update)
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        for warning in outcome.warnings { printError("tvgeo: warning: \(warning.text)") }
        try OutputFolder.write(outcome.files, to: input.folder, force: force)
        if !quiet {
            let blocks = "\(outcome.blocksRead) block\(outcome.blocksRead == 1 ? "" : "s")"
            printOutput("wrote part \(selector.text) to \(input.folder): \(outcome.units) of \(outcome.unitCount) units "
                        + "(\(blocks) read) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
        }
    }
}
