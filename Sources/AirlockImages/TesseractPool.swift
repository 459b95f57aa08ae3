import Foundation

/// The OCR workers: at most `limit` recognitions run at once, process-wide, whatever calls them; engines are kept per
/// language set and reused. A caller past the limit waits for a worker (the proxy calls from threads of its own for
/// images, so waiting never holds an event loop or the threads that inspect text).
final class TesseractPool: @unchecked Sendable {
    // @unchecked: `idle` and `busy` are only touched with `condition` locked.
    let limit: Int
    private let condition = NSCondition()
    private var idle: [String: [TesseractEngine]] = [:]
    private var busy = 0

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Loads an engine for `languages` now (kept for the first recognition), so a language that is not installed is
    /// found when a policy is loaded rather than by the first image.
    func prepare(languages: [String]) throws(TesseractEngine.Failure) {
        let key = languages.joined(separator: "+")
        condition.lock()
        let ready = idle[key]?.isEmpty == false
        condition.unlock()
        guard !ready else { return }
        let engine = try TesseractEngine(languages: languages)
        condition.lock()
        idle[key, default: []].append(engine)
        condition.unlock()
    }

    /// Runs `work` with an engine for `languages`, waiting for a free worker until `deadline`. Returns `nil` when
    /// the deadline passes before a worker is free.
    func withEngine<T>(
        languages: [String],
        deadline: ContinuousClock.Instant,
        _ work: (TesseractEngine) -> T
    ) throws(TesseractEngine.Failure) -> T? {
        let key = languages.joined(separator: "+")
        condition.lock()
        while busy >= limit {
            let seconds = (deadline - ContinuousClock.now) / .seconds(1)
            guard seconds > 0 else {
                condition.unlock()
                return nil
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
        }
        busy += 1
        var engine = idle[key]?.popLast()
        condition.unlock()
        defer {
            condition.lock()
            busy -= 1
            if let engine { idle[key, default: []].append(engine) }
            condition.signal()
            condition.unlock()
        }
        let lent: TesseractEngine
        if let engine {
            lent = engine
        } else {
            lent = try TesseractEngine(languages: languages)
        }
        engine = lent
        return work(lent)
    }
}
