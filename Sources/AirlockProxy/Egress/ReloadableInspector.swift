import Synchronization

/// The policy inspector behind a lock, so a reload can swap every vendor's compiled policy at once.
///
/// Each request reads the current inspector once and keeps it for its whole inspection; a swap never changes the
/// policy under a request in flight. Compile the new set off the event loop before calling ``replace(_:)``.
public final class ReloadableInspector: EgressInspector {
    private let current: Mutex<PolicyInspector>

    public init(_ inspector: PolicyInspector) {
        self.current = Mutex(inspector)
    }

    /// Makes `inspector` the one every later request is inspected with.
    public func replace(_ inspector: PolicyInspector) {
        self.current.withLock { $0 = inspector }
    }

    private var snapshot: PolicyInspector { self.current.withLock { $0 } }

    public func inspect(_ request: EgressRequest) async throws -> EgressDecision {
        try await self.snapshot.inspect(request)
    }

    public func inspectOnEventLoop(_ request: EgressRequest) throws -> EgressDecision? {
        try self.snapshot.inspectOnEventLoop(request)
    }

    public func transformResponse(
        _ response: EgressResponse,
        for request: EgressRequest
    ) async throws
        -> EgressResponse
    {
        try await self.snapshot.transformResponse(response, for: request)
    }

    public func transformResponseOnEventLoop(
        _ response: EgressResponse,
        for request: EgressRequest
    ) throws -> EgressResponse? {
        try self.snapshot.transformResponseOnEventLoop(response, for: request)
    }
}
