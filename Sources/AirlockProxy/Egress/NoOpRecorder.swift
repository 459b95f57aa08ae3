/// Records nothing. The default until an audit log is configured.
public struct NoOpRecorder: EgressRecorder {
    public init() {}
    public func recordDecision(_ record: EgressDecisionRecord) async throws {}
    public func recordOutcome(_ record: EgressOutcomeRecord) async throws {}
    public var isPassThrough: Bool { true }
}
