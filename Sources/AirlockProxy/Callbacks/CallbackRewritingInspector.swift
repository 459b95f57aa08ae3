import NIOCore

/// Wraps the proxy's inspector so callback URLs are handled before and after it (see ``OutgoingCallbacks``).
///
/// Before: internal callback URLs are emptied, or the request is refused. The wrapped inspector (the policy) then
/// redacts what is left; after it, the public callback URLs are written back, so no policy rule can mangle them.
/// Responses are passed to the wrapped inspector unchanged. `inner` is nil when the proxy inspects nothing else.
struct CallbackRewritingInspector: EgressInspector {
    let inner: (any EgressInspector)?
    let callbacks: OutgoingCallbacks

    init(wrapping inner: (any EgressInspector)?, callbacks: OutgoingCallbacks) {
        self.inner = inner
        self.callbacks = callbacks
    }

    func inspect(_ request: EgressRequest) throws -> EgressDecision {
        switch self.callbacks.prepare(request, finalURLs: self.inner == nil) {
        case .untouched:
            return try self.inner?.inspect(request) ?? .forward(request)
        case .refuse(let refusal):
            return .refuse(refusal)
        case .rewritten(let body, let plan):
            var prepared = request
            prepared.body = body
            return self.finish(try self.inner?.inspect(prepared) ?? .forward(prepared), plan: plan)
        }
    }

    func readsImages(_ request: EgressRequest) -> Bool {
        self.inner?.readsImages(request) ?? false
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

    func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
        try self.inner?.transformResponse(response, for: request) ?? response
    }
}
