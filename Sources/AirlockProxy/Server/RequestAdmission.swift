import NIOHTTP1

/// What can be judged from a request head alone, before its body is read: the target, the body's framing, the
/// vendor's route allowlist. Pure functions: no state, no I/O, so each rule is unit-tested on its own.
enum RequestAdmission {
    /// The request target, split at the first `?`.
    enum Target: Equatable {
        case accepted(path: Substring, query: Substring?)
        case refused(RefusalCause)
    }

    /// How the body is to be received, or why it is refused (the connection then closes: the client may not be at
    /// a message boundary). `recorded`: the refusal is counted with the request's method and path.
    enum Body: Equatable {
        /// `capacity`: bytes to reserve (the Content-Length); `sendContinue`: answer `100 Continue` first.
        case accepted(capacity: Int, sendContinue: Bool)
        case refused(RefusalCause, recorded: Bool)
    }

    /// Whether the connection may stay open once this request is refused. A request with `Expect: 100-continue`
    /// may have skipped its body, and an ambiguous head (see ``HeaderHygiene/ambiguity(_:)``) leaves the next
    /// message boundary in doubt: either closes the connection after the answer.
    static func mayKeepAlive(_ head: HTTPRequestHead, ambiguity: String?) -> Bool {
        head.isKeepAlive && !head.headers.contains(name: "expect") && ambiguity == nil
    }

    /// The origin-form target as path and query. Refused: longer than `maxURIBytes` (414), not starting with `/`,
    /// with a fragment (the client's own business, RFC 9110 §4.2.4), or a path the allowlist could read
    /// differently from the vendor (see ``pathProblem(_:)``).
    static func target(_ uri: String, maxURIBytes: Int) -> Target {
        if uri.utf8.count > maxURIBytes {
            return .refused(.uriTooLong(limit: maxURIBytes))
        }
        guard uri.utf8.first == UInt8(ascii: "/") else {
            return .refused(.badRequest("the request target must be an absolute path (origin-form)"))
        }
        if uri.utf8.contains(UInt8(ascii: "#")) {
            return .refused(.badRequest("the request target must not contain a fragment (#)"))
        }
        let path: Substring
        let query: Substring?
        if let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = uri[..<mark]
            query = uri[uri.index(after: mark)...]
        } else {
            path = uri[...]
            query = nil
        }
        if let problem = Self.pathProblem(path) {
            return .refused(.badRequest(problem))
        }
        return .accepted(path: path, query: query)
    }

    /// Refuses dot segments and encoded separators so the allowlist sees the same path the vendor will.
    static func pathProblem(_ path: Substring) -> String? {
        var segmentStart = path.utf8.startIndex
        let utf8 = path.utf8
        var index = utf8.startIndex
        while index <= utf8.endIndex {
            if index == utf8.endIndex || utf8[index] == UInt8(ascii: "/") {
                // Up to a `;` parameter, which some servers (Tomcat, Jetty) strip before they resolve `..`.
                let end = utf8[segmentStart..<index].firstIndex(of: UInt8(ascii: ";")) ?? index
                let segment = utf8[segmentStart..<end]
                if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) {
                    return "the path must not contain . or .. segments"
                }
                if index == utf8.endIndex { break }
                segmentStart = utf8.index(after: index)
            } else if utf8[index] == UInt8(ascii: "%") {
                let next = utf8.index(after: index)
                if next < utf8.endIndex, utf8.index(after: next) < utf8.endIndex {
                    let high = utf8[next] | 0x20
                    let low = utf8[utf8.index(after: next)] | 0x20
                    // %2e (.), %2f (/), %5c (\)
                    if (high == UInt8(ascii: "2") && (low == UInt8(ascii: "e") || low == UInt8(ascii: "f")))
                        || (high == UInt8(ascii: "5") && low == UInt8(ascii: "c"))
                    {
                        return "the path must not contain encoded dots or slashes"
                    }
                }
            } else if utf8[index] == UInt8(ascii: "\\") {
                return "the path must not contain backslashes"
            }
            index = utf8.index(after: index)
        }
        return nil
    }

    /// Whether `vendor`'s route allowlist lets `method` reach `rest` (the path after the vendor's prefix).
    static func routeAllowed(_ vendor: ProxyConfiguration.Vendor, method: HTTPMethod, rest: Substring) -> Bool {
        Self.matchedRoute(vendor, method: method, rest: rest) != nil
    }

    /// The first of `vendor`'s routes that lets `method` reach `rest`, if any (the access log names it).
    static func matchedRoute(
        _ vendor: ProxyConfiguration.Vendor,
        method: HTTPMethod,
        rest: Substring
    ) -> RoutePattern? {
        let routePath: Substring = rest.isEmpty ? "/" : rest
        let method = method.rawValue
        return vendor.routes.first { $0.matches(method: method, path: routePath) }
    }

    /// The body's framing from `Content-Length` and `Expect`: a length that is not a number (400), one over
    /// `maxBodyBytes` (413, recorded) and any expectation but `100-continue` (417) are refused.
    static func body(_ headers: HTTPHeaders, maxBodyBytes: Int) -> Body {
        var capacity = 0
        if let lengthText = headers.first(name: "content-length") {
            guard let length = Int(lengthText), length >= 0 else {
                return .refused(.badRequest("Content-Length is not a number"), recorded: false)
            }
            if length > maxBodyBytes {
                return .refused(.bodyTooLarge(limit: maxBodyBytes), recorded: true)
            }
            capacity = length
        }
        guard let expect = headers.first(name: "expect") else {
            return .accepted(capacity: capacity, sendContinue: false)
        }
        guard expect.lowercased() == "100-continue" else {
            return .refused(.expectationFailed, recorded: false)
        }
        return .accepted(capacity: capacity, sendContinue: true)
    }
}
