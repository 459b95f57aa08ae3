/// What a route refusal records in place of the path: never the path as received (it can carry the very value the
/// allowlist kept from leaving), but which configured route it came nearest to, so an operator can fix the
/// configuration. Route patterns are the operator's own text; only they and a fixed wording are recorded.
enum RouteRefusalPath {
    /// The record's path for `rest` (the path after the vendor prefix), refused by `routes`.
    static func record(routes: [RoutePattern], rest: Substring) -> String {
        let path: Substring = rest.isEmpty ? "/" : rest
        if let other = routes.first(where: { $0.matches(path: path) }) {
            return "(withheld; route \"\(other)\" matches the path, not the method)"
        }
        // The route that follows the path furthest, if it follows it past its first segment.
        var nearest: RoutePattern?
        var nearestLength = 0
        for route in routes {
            let length = route.matchedPrefixLength(of: path)
            if length > nearestLength {
                nearest = route
                nearestLength = length
            }
        }
        guard let nearest, path.utf8.prefix(nearestLength).dropFirst().contains(UInt8(ascii: "/")) else {
            return "(withheld; no route pattern is near the path)"
        }
        return "(withheld; nearest route \"\(nearest)\")"
    }
}
