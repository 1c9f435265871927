import Foundation
import TVGeoBrowserSupport
import TVGeoTestSupport
import Testing

/// The harness must be able to fail: each page here does one thing a self-contained report must
/// not do (or must do), and the harness has to notice. Skipped, with a message, without Chromium.
private let chromiumMissing = "no Chromium on PATH (set CHROMIUM=/path/to/chromium)"

@Suite(.serialized,
       .enabled(if: RequiredTools.enabled(found: HeadlessChromium.find() != nil, chromiumMissing, suite: "HeadlessChromiumTests"),
                "no Chromium on PATH (set CHROMIUM=/path/to/chromium)"))
struct HeadlessChromiumTests {
    static let sentinelScript = "<script>document.getElementById('sentinel').textContent = 'changed by script';</script>"
    static let strictCSP = #"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">"#

    static func page(head: String = "", body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">\(head)<title>probe</title>
        <style>body { font: 16px sans-serif; margin: 40px; } h1 { font-size: 48px; }</style></head>
        <body>\(body)</body></html>
        """
    }

    /// Writes `html` to a fresh folder, loads it once, removes the folder.
    func load(_ html: String) throws -> PageLoad {
        let directory = TemporaryDirectory("chromium")
        defer { directory.remove() }
        let chromium = try #require(HeadlessChromium.detect())
        let result = try chromium.load(directory.write("page.html", text: html))
        print("HeadlessChromium: \(String(format: "%.2f", result.seconds)) s; console: \(result.consoleMessages); failed: \(result.failedRequests)")
        return result
    }

    @Test func cleanPageLoadsWithoutErrorsAndPaints() throws {
        let result = try load(Self.page(body: "<h1>Task vector geometry</h1><p id=\"sentinel\">intact</p>"))
        #expect(result.consoleErrors.isEmpty, "\(result.consoleErrors)")
        #expect(result.text(ofElementWithID: "sentinel") == "intact")
        #expect(result.networkRequests.isEmpty, "\(result.networkRequests)")
        #expect(result.failedRequests.isEmpty, "\(result.failedRequests)")
        #expect(result.screenshot.width == 1200 && result.screenshot.height == 1600)
        #expect(result.screenshot.nonWhiteFraction > 0.001, "screenshot looks blank: \(result.screenshot.nonWhiteFraction)")
        #expect(result.dom.hasPrefix("<!DOCTYPE html>"))
        print("HeadlessChromium: non-white \(result.screenshot.nonWhiteFraction); browser log: \(result.browserLog)")
        if let printed = result.printedText {
            #expect(printed.contains("Task vector geometry"), "\(printed)")
            #expect(printed.contains("intact"))
        } else {
            print("HeadlessChromium: pdftotext not installed; printed text not checked")
        }
    }

    @Test func inlineScriptRunsWithoutCSP() throws {
        let result = try load(Self.page(body: "<p id=\"sentinel\">intact</p>" + Self.sentinelScript))
        #expect(result.text(ofElementWithID: "sentinel") == "changed by script")
        #expect(result.consoleErrors.isEmpty, "\(result.consoleErrors)")
    }

    @Test func strictCSPBlocksTheInlineScriptAndReportsIt() throws {
        let result = try load(Self.page(head: Self.strictCSP, body: "<p id=\"sentinel\">intact</p>" + Self.sentinelScript))
        #expect(result.text(ofElementWithID: "sentinel") == "intact")
        #expect(result.consoleErrors.contains { $0.contains("Content Security Policy") }, "\(result.consoleMessages)")
    }

    @Test func consoleErrorAndUncaughtExceptionAreErrors() throws {
        let result = try load(Self.page(body: """
            <p>text</p><script>console.log('just a log'); console.warn('a warning');
            console.error('report failed', 42); throw new TypeError('uncaught probe');</script>
            """))
        print("HeadlessChromium: browser log: \(result.browserLog)")
        #expect(result.consoleMessages.contains { $0.contains("just a log") })
        #expect(!result.consoleErrors.contains { $0.contains("just a log") || $0.contains("a warning") })
        #expect(result.consoleErrors.contains { $0.hasPrefix("[console.error] report failed 42") }, "\(result.consoleErrors)")
        #expect(result.consoleErrors.contains { $0.hasPrefix("[exception]") && $0.contains("TypeError: uncaught probe") },
                "\(result.consoleErrors)")
    }

    @Test func externalFetchesAreOfflineAndDetected() throws {
        let result = try load(Self.page(head: #"<link rel="stylesheet" href="https://example.com/style.css">"#,
                                        body: #"<p>x</p><img src="https://example.com/x.png" alt="x">"#))
        #expect(Set(result.networkRequests) == ["https://example.com/style.css", "https://example.com/x.png"])
        #expect(result.failedRequests.count == 2, "\(result.failedRequests)")
        #expect(result.consoleErrors.contains { $0.contains("https://example.com/x.png") }, "\(result.consoleMessages)")
    }

    @Test func blankPageIsDetected() throws {
        let result = try load("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body></body></html>")
        #expect(result.screenshot.nonWhiteFraction < 0.0001, "\(result.screenshot.nonWhiteFraction)")
        #expect(result.consoleErrors.isEmpty)
    }

    @Test func aHungPageTimesOutAndIsKilled() throws {
        let directory = TemporaryDirectory("chromium")
        defer { directory.remove() }
        var chromium = try #require(HeadlessChromium.detect())
        chromium.timeout = 3
        let page = directory.write("page.html", text: Self.page(body: "<p>x</p><script>for (;;) {}</script>"))
        let started = Date()
        #expect {
            try chromium.load(page)
        } throws: { error in
            guard case HeadlessChromiumError.timedOut = error else { return false }
            return true
        }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func aMissingFileIsANavigationError() throws {
        let directory = TemporaryDirectory("chromium")
        defer { directory.remove() }
        let chromium = try #require(HeadlessChromium.detect())
        #expect {
            try chromium.load(directory.path + "/absent.html")
        } throws: { error in
            guard case HeadlessChromiumError.navigation(let message) = error else { return false }
            return message.contains("ERR_FILE_NOT_FOUND")
        }
    }
}
