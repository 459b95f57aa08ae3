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

    /// The fast path of `inspect`, called on the connection's event loop before any hop: returns the decision when
    /// it is cheap to make there (a small body: a few microseconds of CPU, less than two thread handoffs), or nil to
    /// have the proxy call `inspect` off the loop. Must not block. Same contract and failure handling as `inspect`.
    func inspectOnEventLoop(_ request: EgressRequest) throws -> EgressDecision?

    /// The fast path of `transformResponse`, on the event loop: the rewritten response, or nil to have the proxy call
    /// `transformResponse` off the loop. Must not block.
    func transformResponseOnEventLoop(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse?
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

    public func inspectOnEventLoop(_ request: EgressRequest) throws -> EgressDecision? { nil }

    public func transformResponseOnEventLoop(
        _ response: EgressResponse,
        for request: EgressRequest
    ) throws -> EgressResponse? {
        nil
    }
}

/// Forwards every request and response unchanged. The default until a policy engine is configured.
public struct PassThroughInspector: EgressInspector {
    public init() {}

    public func inspect(_ request: EgressRequest) async throws -> EgressDecision {
        .forward(request)
    }

    public var isPassThrough: Bool { true }
}
