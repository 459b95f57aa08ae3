import Synchronization

/// The policy inspector behind a lock, so a reload can swap every vendor's compiled policy at once.
///
/// Each request reads the current inspector once and keeps it for its whole inspection; a swap never changes the
/// policy under a request in flight. Its response is restored by the policy that redacted it when a reload came in
/// between: the inspector the last reload replaced is kept for that, so a term the new policy no longer lists still
/// comes back to the lab. (After two reloads within one exchange, the current policy restores what it can.)
/// Compile the new set off the event loop before calling ``replace(_:)``.
public final class ReloadableInspector: EgressInspector {
    private struct State {
        var current: PolicyInspector
        var previous: PolicyInspector?
    }

    private let state: Mutex<State>

    public init(_ inspector: PolicyInspector) {
        self.state = Mutex(State(current: inspector))
    }

    /// Makes `inspector` the one every later request is inspected with.
    public func replace(_ inspector: PolicyInspector) {
        self.state.withLock { state in
            state.previous = state.current
            state.current = inspector
        }
    }

    private var snapshot: PolicyInspector { self.state.withLock { $0.current } }

    /// The inspector whose policy inspected `request` (its inspection names the policy), if it is the current one
    /// or the one the last reload replaced; otherwise the current one.
    private func restorer(for request: EgressRequest) -> PolicyInspector {
        self.state.withLock { state in
            guard let identity = request.inspection?.policy, let previous = state.previous,
                state.current.policy(vendor: request.vendor, identity: identity) == nil,
                previous.policy(vendor: request.vendor, identity: identity) != nil
            else { return state.current }
            return previous
        }
    }

    /// `name@sha256:…` of the policy `vendor`'s requests are inspected with now (`none` without one).
    func policyIdentity(vendor: String) -> String {
        self.snapshot.policies[vendor]?.identity ?? "none"
    }

    public func inspect(_ request: EgressRequest) -> EgressDecision {
        self.snapshot.inspect(request)
    }

    public func readsImages(_ request: EgressRequest) -> Bool {
        self.snapshot.readsImages(request)
    }

    public func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
        try self.restorer(for: request).transformResponse(response, for: request)
    }
}
