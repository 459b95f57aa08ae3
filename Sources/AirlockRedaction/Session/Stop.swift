/// Why processing of a body stopped early.
enum Stop: Error {
    case blocked(rule: String, reason: String)
    case uninspectable(String)
    /// An embedded payload the policy cannot inspect, in a body that is otherwise readable (`EmbeddedPayload`):
    /// refused as uninspectable, but never taken for a parse failure (a JSON-in-a-string attempt is not abandoned
    /// over it).
    case uninspectablePayload(String)
}
