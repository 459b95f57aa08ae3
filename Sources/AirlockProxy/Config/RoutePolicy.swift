/// A route entry's own policy (`routes: [{route: "POST /api/token/refresh/", policy: inherit, exempt_rules: [...]}]`):
/// the policy the vendor's other routes keep is replaced for requests whose first matching route is this one.
///
/// Chosen only for a path written plainly: a path with a percent-escape, a `;` parameter or an empty segment could
/// be read by the vendor as another endpoint than the one the pattern names, so it is inspected by the vendor's own
/// policy (see ``applies(to:)``). A route with its own policy may not use `**` (one entry must not weaken a whole
/// subtree).
public struct RoutePolicy: Sendable, Hashable {
    public enum Base: Sendable, Hashable {
        /// The vendor's policy.
        case inherit
        /// Another policy file (absolute path).
        case file(String)
    }

    public var base: Base
    /// Rule ids of the base policy that do not apply on this route (`secret` for the secret detector).
    public var exemptRules: [String]
    /// `file:line:col` of the route entry, for errors found when the policy is compiled.
    public var location: String

    public init(base: Base, exemptRules: [String] = [], location: String) {
        self.base = base
        self.exemptRules = exemptRules
        self.location = location
    }

    /// Whether a path matched by this entry's pattern may be inspected with this policy: no `%`, no `;`, no `//`.
    public static func applies(to path: Substring) -> Bool {
        var previous: UInt8 = 0
        for byte in path.utf8 {
            if byte == UInt8(ascii: "%") || byte == UInt8(ascii: ";") { return false }
            if byte == UInt8(ascii: "/") && previous == UInt8(ascii: "/") { return false }
            previous = byte
        }
        return true
    }
}
