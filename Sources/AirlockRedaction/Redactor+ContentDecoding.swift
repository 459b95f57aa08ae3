extension Redactor {
    /// `body` with its Content-Encoding undone as the engine undoes it (gzip or deflate, within `limits`), for a
    /// caller that must look into a body before the policy runs (the proxy's callback-URL check).
    ///
    /// `nil` when there is nothing to undo (no coding, `identity`) and when it cannot be undone (a coding the engine
    /// does not inspect, a corrupt stream, a limit): the policy refuses those bodies itself as uninspectable.
    public static func decodedBody(
        _ body: UnsafeRawBufferPointer,
        contentEncoding: String?,
        limits: DecompressionLimits = DecompressionLimits()
    ) -> [UInt8]? {
        guard let coding = ContentCoding(header: contentEncoding), coding != .identity else { return nil }
        return try? Compression.decompress(body.assumingMemoryBound(to: UInt8.self), coding: coding, limits: limits)
    }
}
