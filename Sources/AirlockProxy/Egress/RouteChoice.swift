/// One entry of a vendor's route list as the inspector sees it: its pattern and, when the route has its own policy
/// (``RoutePolicy``), that policy compiled. The first entry whose pattern matches a request decides.
public struct RouteChoice: Sendable {
    public var pattern: RoutePattern
    /// Nil: the vendor's own policy.
    public var policy: VendorPolicy?

    public init(pattern: RoutePattern, policy: VendorPolicy?) {
        self.pattern = pattern
        self.policy = policy
    }

    /// The policy `routes` choose for `method` and `path` (after the vendor prefix): the first matching route's own
    /// policy, if it has one and the path is written plainly (``RoutePolicy/applies(to:)``); nil otherwise (the
    /// vendor's policy applies).
    static func ownPolicy(in routes: [RouteChoice], method: String, path: String) -> VendorPolicy? {
        let path: Substring = path.isEmpty ? "/" : path[...]
        guard RoutePolicy.applies(to: path),
            let first = routes.first(where: { $0.pattern.matches(method: method, path: path) })
        else { return nil }
        return first.policy
    }
}
