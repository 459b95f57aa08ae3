/// THE SEAM where content inspection plugs into the proxy (the redaction engine implements it).
///
/// Called once per request after it has been routed, allowed and fully buffered, and before anything is sent to the
/// vendor. Synchronous and CPU-bound: ``SeamRunner`` calls it on the connection's event loop when the body is small
/// and on the proxy's seam threads when it is large, so it must never block on I/O. Fails closed: a thrown error
/// refuses the request with 500 `inspection_failed` and nothing is forwarded.
public protocol EgressInspector: Sendable {
    /// Decide whether (and in which form) the request leaves.
    func inspect(_ request: EgressRequest) throws -> EgressDecision

    /// Rewrite the vendor's response before the lab sees it (e.g. restore pseudonyms). A thrown error turns into
    /// 502 `response_inspection_failed`. By default the response is returned unchanged.
    func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse

    /// Whether inspecting `request` may read images (OCR: up to `images.timeout_seconds` each): it is then inspected
    /// on the image threads (``ImageLane``), whatever its size. By default false.
    func readsImages(_ request: EgressRequest) -> Bool
}

extension EgressInspector {
    public func readsImages(_ request: EgressRequest) -> Bool { false }

    public func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
        response
    }
}
