/// Limits that keep a small compressed body from expanding into an unbounded one (a "zip bomb").
public struct DecompressionLimits: Sendable, Hashable {
    /// The largest decompressed body accepted, in bytes: the proxy passes its `limits.max_body_bytes`, so a body
    /// may not expand past what it would accept uncompressed.
    public var maxBytes: Int
    /// The largest accepted ratio of decompressed to compressed size, checked once the output passes `ratioFloor`.
    public var maxRatio: Int
    /// Output below this size is never refused for its ratio (tiny bodies of repeated JSON compress very well).
    public var ratioFloor: Int

    /// The setting `maxBytes` comes from (`limits.max_body_bytes`), named when a body exceeds it.
    public var setting: String?

    public init(maxBytes: Int = 64 << 20, maxRatio: Int = 200, ratioFloor: Int = 1 << 20, setting: String? = nil) {
        self.setting = setting
        self.maxBytes = maxBytes
        self.maxRatio = maxRatio
        self.ratioFloor = ratioFloor
    }
}
