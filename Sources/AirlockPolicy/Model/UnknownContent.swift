/// What to do with bodies Airlock cannot inspect (binary uploads, unknown content types).
public enum UnknownContent: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Refuse the request (the default: fail closed).
    case block
    /// Forward the body unchanged.
    case pass

    public var description: String { rawValue }
}
