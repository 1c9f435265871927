import CCairo
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads one HTML file in headless Chromium, isolated and offline, and reports what happened:
/// the DOM after scripts ran, console output (with its level), uncaught exceptions, Content-Security-
/// Policy violations, network requests and failures, a screenshot's non-white fraction and the text
/// of the page printed to PDF.
///
/// Why the DevTools protocol and not `--dump-dom` + `--enable-logging=stderr`: Chromium 156 prints
/// every console message of a `file://` page at INFO level (`[pid:tid:date:INFO:CONSOLE:1] "boom",
/// source: file:///…/page.html (1)`), so `console.log` and `console.error` look the same on stderr,
/// and a blocked `<img>`/stylesheet fetch prints nothing at all. Over `--remote-debugging-pipe` one
/// launch gives the levels, the failed requests, the DOM, the screenshot and the PDF.
public struct HeadlessChromium: Sendable {
    public var executable: String
    /// Hard limit for one `load`, from launch to exit; the process group is killed after it.
    public var timeout: TimeInterval
    /// Viewport (CSS pixels, device scale 1) for layout and the screenshot.
    public var windowWidth: Int
    public var windowHeight: Int
    /// Quiet time after the load event during which late console output is still collected.
    public var settle: TimeInterval

    public init(executable: String, timeout: TimeInterval = 60, windowWidth: Int = 1200, windowHeight: Int = 1600,
                settle: TimeInterval = 0.25) {
        self.executable = executable
        self.timeout = timeout
        self.windowWidth = windowWidth
        self.windowHeight = windowHeight
        self.settle = settle
    }

    /// `init(executable: find())`, or nil when no Chromium is installed.
    public static func detect() -> HeadlessChromium? { find().map { HeadlessChromium(executable: $0) } }

    /// The Chromium binary: `$CHROMIUM` when set (and executable), else the first of `chromium`,
    /// `chromium-browser`, `google-chrome`, `google-chrome-stable` on `PATH`; nil when none.
    public static func find() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["CHROMIUM"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        let folders = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: folder + "/" + name) {
                return folder + "/" + name
            }
        }
        return nil
    }

    /// Loads `htmlFile` (a path) and returns what the page did. Throws on launch failure, protocol
    /// errors, a navigation error (e.g. missing file) or the timeout.
    public func load(_ htmlFile: String) throws -> PageLoad {
        let url = URL(fileURLWithPath: htmlFile).standardizedFileURL
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tvgeo-chromium-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch + "/profile", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        let started = Date()
        let session = try DevToolsSession(executable: executable, arguments: arguments(profile: scratch + "/profile"),
                                          stderrPath: scratch + "/stderr.log", deadline: started.addingTimeInterval(timeout))
        var result: PageLoad
        do {
            result = try session.run(url: url.absoluteString, width: windowWidth, height: windowHeight, settle: settle)
            session.shutdown()
        } catch HeadlessChromiumError.protocolError(let message) {
            // Usually a crash: say what Chromium printed.
            session.terminate()
            let log = (try? String(contentsOfFile: scratch + "/stderr.log", encoding: .utf8)) ?? ""
            let tail = HeadlessChromium.meaningfulLines(log).suffix(30)
            throw HeadlessChromiumError.protocolError(message + (tail.isEmpty ? "" : "\nChromium stderr:\n" + tail.joined(separator: "\n")))
        } catch {
            session.terminate()
            throw error
        }
        let log = (try? String(contentsOfFile: scratch + "/stderr.log", encoding: .utf8)) ?? ""
        result.browserLog = HeadlessChromium.meaningfulLines(log)
        result.screenshot = try Screenshot(png: result.screenshot.png, scratch: scratch + "/shot.png")
        if let pdf = result.pdf { result.printedText = HeadlessChromium.pdfText(pdf, scratch: scratch) }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    func arguments(profile: String) -> [String] {
        [
            "--headless", "--remote-debugging-pipe",
            "--user-data-dir=" + profile,
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--disable-default-apps", "--mute-audio",
            "--disable-dev-shm-usage",
            // Offline: every host name fails to resolve and every proxied request goes to a closed port.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            "--window-size=\(windowWidth),\(windowHeight)",
            "--hide-scrollbars", "--force-color-profile=srgb",
            "--enable-logging=stderr", "--v=0",
            "about:blank",
        ]
    }

    /// stderr lines minus the noise verified (on Debian's Chromium 156, as root, no D-Bus, no GPU)
    /// to appear for every page, blank or not. Console messages are not taken from here.
    static func meaningfulLines(_ log: String) -> [String] {
        let noise = [
            "dbus/", // no system/session bus in the container
            "None of the known D-Bus ScreenSaver services", "Floss manager service not available",
            "Desktop Identity Consistency cannot be enabled", // no OAuth client configured
            "drmGetDevices2() has not found any devices", // no GPU
            "InitializeSandbox() called with multiple threads in process gpu-process",
            "SharedImageManager::ProduceMemory", // GPU compositor, seen with and without the page's content
            ": unexpected operator", // Debian's /usr/bin/chromium wrapper: `[ $shm_avail -lt … ]` in /etc/chromium.d/dev-shm
        ]
        return log.split(separator: "\n").map(String.init).filter { line in
            !line.isEmpty && !noise.contains { line.contains($0) }
        }
    }

    /// `pdftotext -layout` of the printed page, or nil when poppler-utils is absent.
    static func pdfText(_ pdf: Data, scratch: String) -> String? {
        let pdfPath = scratch + "/page.pdf", textPath = scratch + "/page.txt"
        guard (try? pdf.write(to: URL(fileURLWithPath: pdfPath))) != nil else { return nil }
        let candidates = ["/usr/bin/pdftotext", "/usr/local/bin/pdftotext", "/opt/homebrew/bin/pdftotext"]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-layout", pdfPath, textPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return try? String(contentsOfFile: textPath, encoding: .utf8)
    }
}

public enum HeadlessChromiumError: Error, CustomStringConvertible {
    case launch(String)
    case timedOut(String)
    case protocolError(String)
    case navigation(String)

    public var description: String {
        switch self {
        case .launch(let message): return "cannot launch Chromium: \(message)"
        case .timedOut(let message): return "Chromium timed out (\(message)); its process group was killed"
        case .protocolError(let message): return "DevTools protocol: \(message)"
        case .navigation(let message): return "navigation failed: \(message)"
        }
    }
}

/// One console message, uncaught exception or browser log entry (CSP violation, failed request).
public struct ConsoleEntry: Sendable, CustomStringConvertible {
    /// `console.<type>` ("log", "warning", "error", "assert", …), "exception", or "log.<source>"
    /// for browser entries ("log.security", "log.network", "log.javascript", …).
    public var kind: String
    /// "verbose", "info", "warning" or "error".
    public var level: String
    public var text: String
    public var url: String?
    public var line: Int?

    public var isError: Bool { level == "error" }
    public var description: String {
        "[\(kind)] \(text)" + (url.map { " (\($0)\(line.map { ":\($0)" } ?? ""))" } ?? "")
    }
}

public struct Screenshot: Sendable {
    public var png: Data
    public var width: Int
    public var height: Int
    /// Share of pixels with any channel below 245 of 255: ≈0 for a blank white page.
    public var nonWhiteFraction: Double

    init(png: Data, width: Int = 0, height: Int = 0, nonWhiteFraction: Double = 0) {
        self.png = png
        self.width = width
        self.height = height
        self.nonWhiteFraction = nonWhiteFraction
    }

    /// Decodes `png` with Cairo (through a file at `scratch`).
    init(png: Data, scratch: String) throws {
        try png.write(to: URL(fileURLWithPath: scratch))
        guard let surface = cairo_image_surface_create_from_png(scratch) else { throw HeadlessChromiumError.protocolError("no PNG surface") }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw HeadlessChromiumError.protocolError("screenshot is not a decodable PNG (\(png.count) bytes)")
        }
        cairo_surface_flush(surface)
        let width = Int(cairo_image_surface_get_width(surface)), height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let format = cairo_image_surface_get_format(surface)
        guard format == CAIRO_FORMAT_ARGB32 || format == CAIRO_FORMAT_RGB24, let data = cairo_image_surface_get_data(surface) else {
            throw HeadlessChromiumError.protocolError("unexpected screenshot pixel format")
        }
        var nonWhite = 0
        for y in 0..<height {
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width {
                let pixel = row[x]
                // Premultiplied ARGB: transparent pixels count as white (the page background).
                let alpha = format == CAIRO_FORMAT_ARGB32 ? (pixel >> 24) & 0xFF : 0xFF
                let r = (pixel >> 16) & 0xFF, g = (pixel >> 8) & 0xFF, b = pixel & 0xFF
                let inverse = 0xFF - alpha // compose over white
                if min(r + inverse, g + inverse, b + inverse) < 245 { nonWhite += 1 }
            }
        }
        self.init(png: png, width: width, height: height,
                  nonWhiteFraction: width * height == 0 ? 0 : Double(nonWhite) / Double(width * height))
    }
}

/// What one `HeadlessChromium.load` saw.
public struct PageLoad: Sendable {
    /// `<!DOCTYPE …>` + `document.documentElement.outerHTML` after the load event and the settle
    /// time (what `--dump-dom` prints).
    public var dom: String
    /// Everything the page logged, in order: console calls, uncaught exceptions, browser entries.
    public var console: [ConsoleEntry]
    /// Every URL the page requested (the page itself included).
    public var requests: [String]
    /// "URL: net::ERR_…" for each request that failed (offline, blocked by CSP, missing file).
    public var failedRequests: [String]
    public var screenshot: Screenshot
    /// The page printed to PDF (A4-ish default paper, backgrounds on).
    public var pdf: Data?
    /// `pdftotext -layout` of `pdf`; nil when poppler-utils is not installed.
    public var printedText: String?
    /// Chromium's stderr minus verified noise (dbus, GPU, sandbox warnings).
    public var browserLog: [String]
    /// Wall time of the whole load, launch to exit.
    public var seconds: Double
    /// "alert: 1" for each JavaScript dialog (alert, confirm, prompt, beforeunload) the page opened;
    /// each is dismissed at once so that the page goes on loading.
    public var dialogs: [String] = []

    /// `console` as text, one line per entry.
    public var consoleMessages: [String] { console.map(\.description) }
    /// Error-level entries: `console.error`/`console.assert`, uncaught exceptions, CSP violations,
    /// failed fetches.
    public var consoleErrors: [String] { console.filter(\.isError).map(\.description) }
    /// Requests that are not to `file:`, `data:`, `blob:` or `about:` URLs (i.e. network fetches).
    public var networkRequests: [String] {
        requests.filter { url in !["file:", "data:", "blob:", "about:"].contains { url.hasPrefix($0) } }
    }

    /// The text content of the element with `id`, read from `dom` (a plain scan; enough for
    /// sentinel checks on simple pages).
    public func text(ofElementWithID id: String) -> String? {
        guard let idRange = dom.range(of: "id=\"\(id)\"") ?? dom.range(of: "id='\(id)'"),
              let open = dom[idRange.upperBound...].firstIndex(of: ">") else { return nil }
        let rest = dom[dom.index(after: open)...]
        guard let close = rest.firstIndex(of: "<") else { return nil }
        return String(rest[..<close])
    }
}

// MARK: - DevTools protocol over --remote-debugging-pipe

/// Chromium reads commands on fd 3 and writes replies and events on fd 4, each a JSON message
/// ended by a NUL byte.
final class DevToolsSession {
    let pid: pid_t
    let toBrowser: Int32
    let fromBrowser: Int32
    let deadline: Date
    var buffer: [UInt8] = []
    var pending: [[String: Any]] = []
    var nextID = 1
    var exited = false

    // Collected from events.
    var console: [ConsoleEntry] = []
    var requests: [String] = []
    var requestURLs: [String: String] = [:]
    var failedRequests: [String] = []
    var dialogs: [String] = []
    var loaded = false

    static let spawnLock = NSLock()

    init(executable: String, arguments: [String], stderrPath: String, deadline: Date) throws {
        self.deadline = deadline
        var commands: [Int32] = [0, 0], replies: [Int32] = [0, 0]
        // No pipe2 in Swift's Glibc: pipe + FD_CLOEXEC under a lock, so two loads started at
        // once cannot leak their pipe ends into each other's browser (which would hide EOF).
        DevToolsSession.spawnLock.lock()
        defer { DevToolsSession.spawnLock.unlock() }
        guard pipe(&commands) == 0, pipe(&replies) == 0 else {
            throw HeadlessChromiumError.launch("pipe: \(String(cString: strerror(errno)))")
        }
        for fd in commands + replies { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // Opaque pointers on Darwin, structs in Glibc; Darwin declares no `environ`.
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        let environment = _NSGetEnviron().pointee
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        let environment = environ
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, commands[0], 3)
        posix_spawn_file_actions_adddup2(&actions, replies[1], 4)
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a timeout kills the renderer, GPU and zygote helpers too.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environment)
        Foundation.close(commands[0])
        Foundation.close(replies[1])
        guard status == 0 else {
            Foundation.close(commands[1]); Foundation.close(replies[0])
            throw HeadlessChromiumError.launch("posix_spawn \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        toBrowser = commands[1]
        fromBrowser = replies[0]
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        terminate()
        Foundation.close(toBrowser)
        Foundation.close(fromBrowser)
    }

    func run(url: String, width: Int, height: Int, settle: TimeInterval) throws -> PageLoad {
        let target = try call("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"] as? String else { throw HeadlessChromiumError.protocolError("no targetId") }
        let attached = try call("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw HeadlessChromiumError.protocolError("no sessionId") }
        for domain in ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
            _ = try call(domain, [:], session: session)
        }
        _ = try call("Emulation.setDeviceMetricsOverride",
                     ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false], session: session)
        let navigation = try call("Page.navigate", ["url": url], session: session)
        if let error = navigation["errorText"] as? String { throw HeadlessChromiumError.navigation("\(url): \(error)") }
        try waitUntil { self.loaded }
        try drain(for: settle)

        let evaluated = try call("Runtime.evaluate", [
            "expression": """
            (document.doctype ? new XMLSerializer().serializeToString(document.doctype) + "\\n" : "") + document.documentElement.outerHTML
            """,
            "returnByValue": true,
        ], session: session)
        let dom = ((evaluated["result"] as? [String: Any])?["value"] as? String) ?? ""
        let shot = try call("Page.captureScreenshot", ["format": "png"], session: session)
        guard let shotData = (shot["data"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
            throw HeadlessChromiumError.protocolError("no screenshot data")
        }
        let printed = try call("Page.printToPDF", ["printBackground": true], session: session)
        let pdf = (printed["data"] as? String).flatMap { Data(base64Encoded: $0) }
        try drain(for: 0)
        return PageLoad(dom: dom, console: console, requests: requests, failedRequests: failedRequests,
                        screenshot: Screenshot(png: shotData), pdf: pdf, printedText: nil, browserLog: [], seconds: 0, dialogs: dialogs)
    }

    /// Asks the browser to quit; kills the group if it has not exited within 5 s (or the deadline).
    func shutdown() {
        _ = try? send("Browser.close", [:], session: nil)
        let limit = min(deadline, Date().addingTimeInterval(5))
        while !exited && Date() < limit {
            if reap(block: false) { break }
            usleep(20_000)
        }
        terminate()
    }

    /// SIGKILL to the whole process group, then reap.
    func terminate() {
        if exited { return }
        Foundation.kill(-pid, SIGKILL)
        _ = reap(block: true)
    }

    @discardableResult
    func reap(block: Bool) -> Bool {
        if exited { return true }
        var status: Int32 = 0
        let result = waitpid(pid, &status, block ? 0 : WNOHANG)
        if result == pid || (result < 0 && errno == ECHILD) {
            exited = true
            Foundation.kill(-pid, SIGKILL) // helpers left behind in the group
        }
        return exited
    }

    // MARK: Messages

    func send(_ method: String, _ params: [String: Any], session: String?) throws -> Int {
        let id = nextID
        nextID += 1
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(toBrowser, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw HeadlessChromiumError.protocolError("write \(method): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        return id
    }

    func call(_ method: String, _ params: [String: Any], session: String? = nil) throws -> [String: Any] {
        let id = try send(method, params, session: session)
        var reply: [String: Any]?
        try waitUntil {
            if let index = self.pending.firstIndex(where: { ($0["id"] as? Int) == id }) {
                reply = self.pending.remove(at: index)
                return true
            }
            return false
        }
        if let error = reply?["error"] as? [String: Any] {
            throw HeadlessChromiumError.protocolError("\(method): \(error["message"] ?? error)")
        }
        return reply?["result"] as? [String: Any] ?? [:]
    }

    /// Reads messages until `condition` holds; throws at the deadline or when the browser exits.
    func waitUntil(_ condition: () -> Bool) throws {
        while !condition() {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { throw HeadlessChromiumError.timedOut("waiting for the page") }
            if try !readAvailable(timeout: remaining) {
                throw HeadlessChromiumError.protocolError("Chromium closed the DevTools pipe (crashed or exited)")
            }
        }
    }

    /// Collects events for `seconds` (or until the deadline).
    func drain(for seconds: TimeInterval) throws {
        let end = min(deadline, Date().addingTimeInterval(seconds))
        repeat {
            if try !readAvailable(timeout: max(0, end.timeIntervalSinceNow)) { return }
        } while Date() < end
    }

    /// Waits up to `timeout` for bytes; parses whole messages. False at end of file.
    func readAvailable(timeout: TimeInterval) throws -> Bool {
        var descriptor = pollfd(fd: fromBrowser, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(min(timeout, 3600) * 1000))
        if ready < 0 {
            if errno == EINTR { return true }
            throw HeadlessChromiumError.protocolError("poll: \(String(cString: strerror(errno)))")
        }
        if ready == 0 { return true }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let count = chunk.withUnsafeMutableBytes { read(fromBrowser, $0.baseAddress, $0.count) }
        if count < 0 { return errno == EINTR }
        if count == 0 { return false }
        buffer.append(contentsOf: chunk[0..<count])
        while let end = buffer.firstIndex(of: 0) {
            let data = Data(buffer[..<end])
            buffer.removeSubrange(...end)
            guard let message = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            if message["id"] != nil { pending.append(message) } else { handle(message) }
        }
        return true
    }

    func handle(_ event: [String: Any]) {
        let params = event["params"] as? [String: Any] ?? [:]
        switch event["method"] as? String {
        case "Page.loadEventFired":
            loaded = true
        case "Runtime.consoleAPICalled":
            let type = params["type"] as? String ?? "log"
            let args = params["args"] as? [[String: Any]] ?? []
            let text = args.map { arg -> String in
                if let value = arg["value"] { return value as? String ?? "\(value)" }
                return arg["description"] as? String ?? arg["type"] as? String ?? "?"
            }.joined(separator: " ")
            let frame = ((params["stackTrace"] as? [String: Any])?["callFrames"] as? [[String: Any]])?.first
            let level: String
            switch type {
            case "error", "assert": level = "error"
            case "warning": level = "warning"
            case "debug": level = "verbose"
            default: level = "info"
            }
            console.append(ConsoleEntry(kind: "console.\(type)", level: level, text: text,
                                        url: frame?["url"] as? String, line: (frame?["lineNumber"] as? Int).map { $0 + 1 }))
        case "Runtime.exceptionThrown":
            let details = params["exceptionDetails"] as? [String: Any] ?? [:]
            let exception = details["exception"] as? [String: Any]
            let text = (exception?["description"] as? String) ?? (details["text"] as? String) ?? "exception"
            console.append(ConsoleEntry(kind: "exception", level: "error", text: text,
                                        url: details["url"] as? String, line: (details["lineNumber"] as? Int).map { $0 + 1 }))
        case "Log.entryAdded":
            let entry = params["entry"] as? [String: Any] ?? [:]
            console.append(ConsoleEntry(kind: "log.\(entry["source"] as? String ?? "other")", level: entry["level"] as? String ?? "info",
                                        text: entry["text"] as? String ?? "", url: entry["url"] as? String,
                                        line: (entry["lineNumber"] as? Int).map { $0 + 1 }))
        case "Network.requestWillBeSent":
            if let request = params["request"] as? [String: Any], let url = request["url"] as? String {
                requests.append(url)
                if let id = params["requestId"] as? String { requestURLs[id] = url }
            }
        case "Page.javascriptDialogOpening":
            dialogs.append("\(params["type"] as? String ?? "dialog"): \(params["message"] as? String ?? "")")
            // A dialog blocks the page until it is answered.
            _ = try? send("Page.handleJavaScriptDialog", ["accept": false], session: event["sessionId"] as? String)
        case "Network.loadingFailed":
            let id = params["requestId"] as? String ?? ""
            var reason = params["errorText"] as? String ?? "failed"
            if let blocked = params["blockedReason"] as? String { reason += " (blocked: \(blocked))" }
            failedRequests.append("\(requestURLs[id] ?? id): \(reason)")
        default:
            break
        }
    }
}
