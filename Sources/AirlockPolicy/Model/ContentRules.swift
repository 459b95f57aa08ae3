/// The `content:` section of a policy.
public struct ContentRules: Sendable, Hashable {
    /// Default `.block`.
    public var unknown: UnknownContent

    public init(unknown: UnknownContent = .block) {
        self.unknown = unknown
    }
}
