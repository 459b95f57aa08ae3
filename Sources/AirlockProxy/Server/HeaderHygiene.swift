import NIOHTTP1

/// Which headers cross Airlock, per RFC 9110 §7.6.1 (hop-by-hop) plus the headers that would reveal the lab.
enum HeaderHygiene {
    /// Hop-by-hop headers: meaningful for one connection only, never forwarded in either direction.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// Headers that describe the lab's network or its proxies; Airlock strips them and never adds them.
    static let revealing: Set<String> = [
        "via", "forwarded", "x-real-ip", "x-client-ip", "x-cluster-client-ip", "true-client-ip", "cf-connecting-ip",
        "fastly-client-ip", "x-originating-ip", "x-remote-ip", "x-remote-addr", "client-ip",
        // A browser's page and origin would name internal hosts; API clients have no need to send them onwards.
        "referer", "origin",
    ]

    /// Framing and routing headers Airlock recomputes itself for the vendor.
    static let recomputed: Set<String> = ["host", "content-length", "expect"]

    /// Header names are short, so lowercasing stays in a small string (no allocation); the prefix checks run on
    /// bytes so Foundation's locale-aware `hasPrefix` is never picked up on this per-header path.
    private static func isDropped(_ lowercasedName: String) -> Bool {
        if hopByHop.contains(lowercasedName) || revealing.contains(lowercasedName) { return true }
        return lowercasedName.utf8.starts(with: "proxy-".utf8) || lowercasedName.utf8.starts(with: "x-forwarded-".utf8)
    }

    /// Names listed in `Connection` header values (they are hop-by-hop for this message), lower-cased.
    private static func connectionNominated(_ headers: HTTPHeaders) -> [String] {
        var names: [String] = []
        // Almost every message has at most `Connection: keep-alive` or none: skip the canonical-form split (an
        // array per message) unless a value could nominate something.
        var mayNominate = false
        for (name, value) in headers where name.utf8.count == 10 && name.lowercased() == "connection" {
            let lower = value.lowercased()
            if lower != "keep-alive" && lower != "close" {
                mayNominate = true
                break
            }
        }
        guard mayNominate else { return names }
        for value in headers[canonicalForm: "connection"] {
            let name = value.lowercased()
            if name != "close" && name != "keep-alive" { names.append(String(name)) }
        }
        return names
    }

    /// The lab's headers as the vendor may see them: hop-by-hop, revealing and framing headers removed.
    /// `Host` and `Content-Length` are added by `frameForVendor`.
    static func requestHeadersForVendor(_ headers: HTTPHeaders, allowed: Set<String>? = nil) -> HTTPHeaders {
        let nominated = Self.connectionNominated(headers)
        var result = HTTPHeaders()
        result.reserveCapacity(headers.count + 2)
        for (name, value) in headers {
            let lower = name.lowercased()
            if let allowed, !allowed.contains(lower) { continue }
            if Self.isDropped(lower) || Self.recomputed.contains(lower) { continue }
            if !nominated.isEmpty && nominated.contains(lower) { continue }
            result.add(name: name, value: value)
        }
        return result
    }

    /// Sets the framing the vendor needs after inspection: its `Host`, a fixed `Content-Length`, no chunking, and
    /// once more drops anything hop-by-hop an inspector may have added.
    /// `alreadyClean`: the headers are exactly what the handler built (`requestHeadersForVendor` plus the vendor's
    /// `Host`) and no inspector touched them, so the scrub scan and the `Host` replacement can be skipped.
    static func frameForVendor(
        _ headers: inout HTTPHeaders,
        host: String,
        method: HTTPMethod,
        bodyLength: Int,
        alreadyClean: Bool = false
    ) {
        var needsScrub = false
        for (name, _) in headers where !alreadyClean {
            let lower = name.lowercased()
            // `Host` is replaced below anyway; anything else Airlock owns means the inspector added it.
            if Self.isDropped(lower) || lower == "content-length" || lower == "expect" {
                needsScrub = true
                break
            }
        }
        if needsScrub {
            headers = Self.requestHeadersForVendor(headers)
        }
        if !alreadyClean {
            // Clean headers carry the vendor's `Host` already: the handler adds it right after the scrub.
            headers.replaceOrAdd(name: "Host", value: host)
        }
        if bodyLength > 0 || Self.methodExpectsBody(method) {
            headers.add(name: "Content-Length", value: String(bodyLength))
        }
    }

    /// Why the lab's headers leave it open how the request is framed, decoded or routed, or nil when they do not.
    ///
    /// Airlock frames the body by one `Content-Length` or `Transfer-Encoding`, inspects it by one `Content-Type` and
    /// `Content-Encoding`, and a vendor (or a proxy in front of it) that reads another copy of any of them would see
    /// a message Airlock did not inspect as such. So each may appear once, `Content-Length` and `Transfer-Encoding`
    /// not together, `Transfer-Encoding` only as `chunked` (the only coding Airlock removes), and `Host` and
    /// `Content-Length` with a single value. One pass; header names are only lower-cased when their length fits.
    static func ambiguity(_ headers: HTTPHeaders) -> String? {
        var seen: UInt8 = 0
        for (name, value) in headers {
            let field: DecisiveHeader
            switch name.utf8.count {
            case 4 where name.lowercased() == "host": field = .host
            case 12 where name.lowercased() == "content-type": field = .contentType
            case 14 where name.lowercased() == "content-length": field = .contentLength
            case 16 where name.lowercased() == "content-encoding": field = .contentEncoding
            case 17 where name.lowercased() == "transfer-encoding": field = .transferEncoding
            default: continue
            }
            guard seen & field.rawValue == 0 else { return "the request has more than one \(field.name) header" }
            seen |= field.rawValue
            switch field {
            case .host, .contentLength:
                if value.utf8.contains(UInt8(ascii: ",")) { return "the \(field.name) header has more than one value" }
            case .transferEncoding:
                if value.lowercased() != "chunked" { return "Transfer-Encoding other than chunked is not accepted" }
            case .contentType, .contentEncoding:
                break  // a list or an unknown coding is the inspector's to refuse (uninspectable)
            }
        }
        if seen & DecisiveHeader.contentLength.rawValue != 0 && seen & DecisiveHeader.transferEncoding.rawValue != 0 {
            return "Content-Length and Transfer-Encoding must not both be present"
        }
        return nil
    }

    private enum DecisiveHeader: UInt8 {
        case host = 1
        case contentType = 2
        case contentLength = 4
        case contentEncoding = 8
        case transferEncoding = 16

        var name: String {
            switch self {
            case .host: "Host"
            case .contentType: "Content-Type"
            case .contentLength: "Content-Length"
            case .contentEncoding: "Content-Encoding"
            case .transferEncoding: "Transfer-Encoding"
            }
        }
    }

    static func methodExpectsBody(_ method: HTTPMethod) -> Bool {
        switch method {
        case .POST, .PUT, .PATCH: return true
        default: return false
        }
    }

    /// The vendor's response headers as the lab may see them; `Content-Length` is set by the caller.
    static func responseHeadersForLab(_ headers: HTTPHeaders) -> HTTPHeaders {
        let nominated = Self.connectionNominated(headers)
        var result = HTTPHeaders()
        result.reserveCapacity(headers.count + 1)
        for (name, value) in headers {
            let lower = name.lowercased()
            if Self.hopByHop.contains(lower) || lower == "content-length" || lower.utf8.starts(with: "proxy-".utf8) {
                continue
            }
            if !nominated.isEmpty && nominated.contains(lower) { continue }
            result.add(name: name, value: value)
        }
        return result
    }
}
