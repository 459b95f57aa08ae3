internal import CVectorscan

/// A known-answer test of the system pattern library, run once per process before any policy is compiled.
///
/// Airlock's redaction is only as good as the library's matches, and a library that silently misses some (Debian 12's
/// Vectorscan 5.4.9 misses `@[a-z]`-style matches at most buffer alignments) would let secrets leave. So the email
/// detector's expression is scanned over a canary at every offset of a 64-byte cache line and more; any miss makes
/// every `Redactor` refuse to compile, and `airlock serve`, `redact` and `check` refuse to run.
enum MatchingLibraryCheck {
    /// nil when the library found every canary; otherwise what is wrong and what to do.
    static let failure: String? = Self.run()

    private static func run() -> String? {
        let expression = VectorscanExpression(
            pattern: Detectors.expressions(for: .email)[0].regex,
            flags: UInt32(HS_FLAG_UTF8),
            id: 0
        )
        let database: VectorscanDatabase
        do {
            database = try VectorscanDatabase(expressions: [expression], som: false)
        } catch {
            return "the pattern library cannot compile its self-test (\(error.message))"
        }
        let pool = ScratchPool(databases: [database])
        let scratch = pool.take()
        defer { pool.give(scratch) }
        return Self.verdict(version: String(cString: hs_version())) { buffer in
            let sink = HitSink()
            buffer.withUnsafeBufferPointer { database.scanEnds($0, scratch: scratch, into: sink) }
            return sink.failure == nil && sink.hits.contains(where: { $0.end == buffer.count })
        }
    }

    /// The known-answer test over any scanner: `finds(buffer)` says whether the scan reported the canary's e-mail
    /// address ending at the end of `buffer`. nil when it did at every offset; otherwise the refusal.
    static func verdict(version: @autoclosure () -> String, finds: ([UInt8]) -> Bool) -> String? {
        let canary = Array(" lorem ipsum dolor sit amet ask jane.doe@lab.example.com".utf8)
        var missed: [Int] = []
        for offset in 0..<130 {
            var buffer = [UInt8](repeating: UInt8(ascii: "x"), count: offset)
            buffer.append(contentsOf: canary)
            if !finds(buffer) { missed.append(offset) }
        }
        guard missed.isEmpty else {
            return "the pattern library (libhs \(version())) misses matches on this machine (self-test failed at "
                + "\(missed.count) of 130 offsets), so redaction cannot be trusted; install Debian's "
                + "libhyperscan-dev instead of libvectorscan-dev (bash scripts/install-deps.sh does)"
        }
        return nil
    }
}
