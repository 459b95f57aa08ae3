import NIOCore

/// Wraps the proxy's inspector so callback URLs are handled before and after it (see ``OutgoingCallbacks``).
///
/// Before: internal callback URLs are emptied, or the request is refused. The wrapped inspector (the policy) then
/// redacts what is left; after it, the public callback URLs are written back, so no policy rule can mangle them.
/// Responses are passed to the wrapped inspector unchanged.
struct CallbackRewritingInspector: EgressInspector {
    let inner: any EgressInspector
    let callbacks: OutgoingCallbacks

    init(wrapping inner: any EgressInspector, callbacks: OutgoingCallbacks) {
        self.inner = inner
        self.callbacks = callbacks
    }

    /// Same limit as the policy inspector's: larger bodies are scanned off the event loop.
    static let eventLoopBodyLimit = PolicyInspector.eventLoopBodyLimit

    func inspect(_ request: EgressRequest) async throws -> EgressDecision {
        switch self.callbacks.prepare(request, finalURLs: self.inner.isPassThrough) {
        case .untouched:
            return try await self.inner.inspect(request)
        case .refuse(let refusal):
            return .refuse(refusal)
        case .rewritten(let body, let plan):
            var prepared = request
            prepared.body = body
            return self.finish(try await self.inner.inspect(prepared), plan: plan)
        }
    }

    func inspectOnEventLoop(_ request: EgressRequest) throws -> EgressDecision? {
        guard request.body.readableBytes <= Self.eventLoopBodyLimit else { return nil }
        switch self.callbacks.prepare(request, finalURLs: self.inner.isPassThrough) {
        case .untouched:
            if self.inner.isPassThrough { return .forward(request) }
            return try self.inner.inspectOnEventLoop(request)
        case .refuse(let refusal):
            return .refuse(refusal)
        case .rewritten(let body, let plan):
            var prepared = request
            prepared.body = body
            if self.inner.isPassThrough { return .forward(prepared) }
            // nil: the proxy calls `inspect`, which prepares again off the loop.
            return try self.inner.inspectOnEventLoop(prepared).map { self.finish($0, plan: plan) }
        }
    }

    private func finish(_ decision: EgressDecision, plan: OutgoingCallbacks.Plan?) -> EgressDecision {
        guard case .forward(var request) = decision, let plan else { return decision }
        switch self.callbacks.reinstate(request.body, plan: plan) {
        case .success(let body):
            request.body = body
            return .forward(request)
        case .failure(var refusal):
            refusal.inspection = request.inspection
            return .refuse(refusal)
        }
    }

    func transformResponse(_ response: EgressResponse, for request: EgressRequest) async throws -> EgressResponse {
        try await self.inner.transformResponse(response, for: request)
    }

    func transformResponseOnEventLoop(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse?
    {
        if self.inner.isPassThrough { return response }
        return try self.inner.transformResponseOnEventLoop(response, for: request)
    }
}
