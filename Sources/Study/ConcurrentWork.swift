import Diagnostics
import Dispatch
import Foundation

/// Called after each finished job with (done, total); used for progress display.
public typealias StudyProgress = @Sendable (Int, Int) -> Void

/// Jobs 0..<count run on all cores, each worker taking the next unclaimed index: the one way
/// tvgeo runs independent work (adapters loading, blocks of both pipelines, report files).
public enum ConcurrentWork {
    /// What happens after a job fails.
    public enum Failure: Sendable {
        /// No further job is started; the first failure (in time) is thrown.
        case stopClaiming
        /// Every job runs; the failure of the lowest index is thrown, so the error a user sees
        /// does not depend on thread timing (e.g. the first bad argument in command-line order).
        case runAllThenFirstInOrder
    }

    /// The values of `body(index, &scratch)` in index order. Each worker makes one `scratch`
    /// (e.g. buffers reused across its jobs) with `makeScratch`.
    public static func map<Value: Sendable, Scratch>(
        count: Int, onFailure: Failure, progress: StudyProgress? = nil,
        makeScratch: @Sendable () -> Scratch, _ body: @Sendable (Int, inout Scratch) throws(ToolError) -> Value
    ) throws(ToolError) -> [Value] {
        let slots = ResultSlots<Value>(count: count)
        let workers = min(count, max(1, ProcessInfo.processInfo.activeProcessorCount))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var scratch = makeScratch()
            while let index = slots.claimNext(stopAfterFailure: onFailure == .stopClaiming) {
                do throws(ToolError) {
                    slots.store(.success(try body(index, &scratch)), at: index)
                } catch {
                    slots.store(.failure(error), at: index)
                }
                progress?(slots.completed, count)
            }
        }
        return try slots.values(firstFailureInOrder: onFailure == .runAllThenFirstInOrder)
    }

    /// `map` without per-worker scratch.
    public static func map<Value: Sendable>(count: Int, onFailure: Failure, progress: StudyProgress? = nil,
                                            _ body: @Sendable (Int) throws(ToolError) -> Value) throws(ToolError) -> [Value] {
        try map(count: count, onFailure: onFailure, progress: progress, makeScratch: { () }) { (index, _: inout Void) throws(ToolError) in
            try body(index)
        }
    }
}

/// Results written by concurrent workers into fixed slots: one slot per job, a value or an error.
final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, ToolError>?]
    private var firstFailure: ToolError?
    private var done = 0
    private var next = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ result: Result<Value, ToolError>, at index: Int) {
        lock.lock(); defer { lock.unlock() }
        slots[index] = result
        done += 1
        if case .failure(let error) = result, firstFailure == nil { firstFailure = error }
    }

    /// The next unclaimed index, or nil when all are claimed (or, with `stopAfterFailure`, a job
    /// has failed).
    func claimNext(stopAfterFailure: Bool) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard !(stopAfterFailure && firstFailure != nil), next < slots.count else { return nil }
        defer { next += 1 }
        return next
    }

    var completed: Int { lock.lock(); defer { lock.unlock() }; return done }

    /// Every value in order, or a failure: the first in time, or with `firstFailureInOrder` the
    /// one of the lowest index. A slot never filled is an internal error.
    func values(firstFailureInOrder: Bool) throws(ToolError) -> [Value] {
        lock.lock(); defer { lock.unlock() }
        if !firstFailureInOrder, let firstFailure { throw firstFailure }
        var values: [Value] = []
        values.reserveCapacity(slots.count)
        for (index, slot) in slots.enumerated() {
            guard let slot else { throw .internalError("job \(index) did not run") }
            values.append(try slot.get())
        }
        return values
    }
}
