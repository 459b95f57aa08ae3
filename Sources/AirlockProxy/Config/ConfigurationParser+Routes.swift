import Yams

extension ConfigurationParser {
    /// A vendor's `routes`: each entry `"METHOD /glob"`, or a mapping `{route, policy, exempt_rules}` giving that route
    /// its own policy (see ``RoutePolicy``).
    func routes(
        _ routesNode: Node,
        vendorHasPolicy: Bool,
        _ context: String
    ) throws(ConfigurationError) -> (routes: [RoutePattern], policies: [RoutePattern: RoutePolicy]) {
        guard let routeList = routesNode.sequence, !routeList.isEmpty else {
            throw self.error(routesNode, "\(context): routes must be a non-empty list like [\"POST /v1/task/*\"]")
        }
        var routes: [RoutePattern] = []
        var policies: [RoutePattern: RoutePolicy] = [:]
        for routeNode in routeList {
            guard routeNode.mapping != nil else {
                routes.append(try self.routePattern(routeNode, context))
                continue
            }
            let map = try self.mapping(routeNode, "\(context) route", allowed: ["route", "policy", "exempt_rules"])
            let patternNode = try self.required(map, "route", in: routeNode, "\(context) route")
            let pattern = try self.routePattern(patternNode, context)
            if pattern.pathGlob.contains("**") {
                throw self.error(
                    patternNode,
                    "\(context): route \"\(pattern)\" has its own policy and may not use ** (name the route itself)"
                )
            }
            if routes.contains(pattern) {
                throw self.error(patternNode, "\(context): route \"\(pattern)\" is listed twice")
            }
            let policyNode = try self.required(map, "policy", in: routeNode, "\(context) route \"\(pattern)\"")
            let base: RoutePolicy.Base
            if try self.string(policyNode, "\(context) route policy") == "inherit" {
                guard vendorHasPolicy else {
                    throw self.error(
                        policyNode,
                        "\(context): route \"\(pattern)\" inherits the vendor's policy, but the vendor has none"
                    )
                }
                base = .inherit
            } else {
                base = .file(try self.path(policyNode, "\(context) route policy"))
            }
            let exempt = try self.exemptRules(map["exempt_rules"], context)
            if base == .inherit && exempt.isEmpty {
                throw self.error(
                    routeNode,
                    "\(context): route \"\(pattern)\" inherits the vendor's policy and exempts no rule; "
                        + "list it as a plain route"
                )
            }
            routes.append(pattern)
            policies[pattern] = RoutePolicy(base: base, exemptRules: exempt, location: self.location(of: routeNode))
        }
        return (routes, policies)
    }

    private func routePattern(_ node: Node, _ context: String) throws(ConfigurationError) -> RoutePattern {
        switch RoutePattern.parse(try self.string(node, "\(context) route")) {
        case .success(let route): return route
        case .failure(let failure): throw self.error(node, "\(context): route \(failure.reason)")
        }
    }

    private func exemptRules(_ node: Node?, _ context: String) throws(ConfigurationError) -> [String] {
        guard let node else { return [] }
        guard let list = node.sequence else {
            throw self.error(node, "\(context): exempt_rules must be a list of rule ids, e.g. [secret]")
        }
        var ids: [String] = []
        for item in list { ids.append(try self.string(item, "\(context) exempt_rules entry")) }
        return ids
    }

    /// `file:line:col` of `node`, for errors found after parsing.
    func location(of node: Node) -> String {
        self.error(node, "").description.dropLast(2).description
    }
}
