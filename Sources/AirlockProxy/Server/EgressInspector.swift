/// THE SEAM where content inspection plugs into the proxy (the redaction engine implements it).
///
/// Called once per request after it has been routed, allowed and fully buffered, and before anything is sent to the
/// vendor. Runs off the event loop (it is async); the proxy waits for it. Fails closed: a thrown error refuses the
/// request with 500 `inspection_failed` and nothing is forwarded.
public protocol EgressInspector: Sendable {
    /// Decide whether (and in which form) the request leaves.
    func inspect(_ request: EgressRequest) async throws -> EgressDecision

    /// Rewrite the vendor's response before the lab sees it (e.g. restore pseudonyms). A thrown error turns into
    /// 502 `response_inspection_failed`.
    func transformResponse(_ response: EgressResponse, for request: EgressRequest) async throws -> EgressResponse

    /// True only for an inspector that never changes anything; lets the proxy skip the async hop entirely.
    var isPassThrough: Bool { get }
}

extension EgressInspector {
    public func transformResponse(
        _ response: EgressResponse,
        for request: EgressRequest
    ) async throws
        -> EgressResponse
    {
        response
    }

    public var isPassThrough: Bool { false }
}

/// Forwards every request and response unchanged. The default until a policy engine is configured.
public struct PassThroughInspector: EgressInspector {
    public init() {}

    public func inspect(_ request: EgressRequest) async throws -> EgressDecision {
        .forward(request)
    }

    public var isPassThrough: Bool { true }
}
