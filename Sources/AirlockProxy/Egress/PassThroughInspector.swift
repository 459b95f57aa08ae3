/// Forwards every request and response unchanged. The default until a policy engine is configured; the proxy
/// recognises it when it starts and then skips inspection altogether (no request id, no client, no hop).
public struct PassThroughInspector: EgressInspector {
    public init() {}

    public func inspect(_ request: EgressRequest) -> EgressDecision {
        .forward(request)
    }
}
