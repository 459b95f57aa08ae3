import AirlockPolicy

/// Narrow entry points for the libFuzzer targets under `Fuzz/`, which are built in release mode where
/// `@testable import` is unavailable. Not part of the engine's API: only `@_spi(Fuzzing) import` sees them.
extension Redactor {
    /// A redactor whose JSON strings are walked by the Swift reference instead of the C kernel (`stringKernel:
    /// false`), the other side of the differential JSON target.
    @_spi(Fuzzing)
    public static func reference(policy: Policy, keys: PseudonymKeys) throws(RedactionError) -> Redactor {
        try Redactor(policy: policy, keys: keys, limits: DecompressionLimits(), useFastForms: true, stringKernel: false)
    }

    /// Whether the whole-document C walk finishes `document` itself for vendor "fuzz" (a block rule matching counts:
    /// the walk finished; any other stop does not), rather than handing it to the Swift walker.
    @_spi(Fuzzing)
    public func kernelWalkFinishes(_ document: [UInt8]) -> Bool {
        guard !document.isEmpty else { return false }
        let text = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: document.count + 17)
        defer { text.deallocate() }
        let scratch = scratchPool.take()
        defer { scratchPool.give(scratch) }
        let session = RedactionSession(
            rules: rules,
            keys: keys,
            vendor: vendors.state(for: "fuzz"),
            scratch: scratch,
            unknownContent: unknownContent,
            limits: limits,
            termFingerprints: termFingerprints
        )
        return document.withUnsafeBufferPointer { buffer in
            do throws(Stop) {
                if case .done = try JSONKernelWalk.redact(buffer, session: session, text: text) { return true }
            } catch .blocked {
                return true
            } catch {
                // Any other stop is not "the walk finished": nothing is asserted of it.
                return false
            }
            return false
        }
    }

    /// `Compression.decompress` for `gzip: true` (gzip) or `false` (HTTP deflate), `nil` on any failure.
    @_spi(Fuzzing)
    public static func decompress(_ input: [UInt8], gzip: Bool, limits: DecompressionLimits) -> [UInt8]? {
        input.withUnsafeBufferPointer { buffer in
            try? Compression.decompress(buffer, coding: gzip ? .gzip : .deflate, limits: limits)
        }
    }

    /// `Compression.compress` for `gzip: true` (gzip) or `false` (HTTP deflate, a zlib stream).
    @_spi(Fuzzing)
    public static func compress(_ input: [UInt8], gzip: Bool) -> [UInt8] {
        Compression.compress(input, coding: gzip ? .gzip : .deflate)
    }
}
