/// One entry of a vendor's route allowlist: `METHOD /path/glob`.
///
/// The method is matched exactly (upper case) or `*` for any method. The glob is matched against the path after the
/// vendor's prefix, without the query: `*` matches any run of characters except `/` (one path segment or part of
/// one), `**` matches anything including `/`. So `GET /v1/task/*` allows `/v1/task/42` but not `/v1/task/42/cancel`.
///
/// One trailing slash is not significant (Django-style APIs such as Label Studio end every path in `/`, other
/// clients drop it): `GET /api/projects/` allows `/api/projects` and `GET /api/projects` allows `/api/projects/`.
/// Only one: `/api/projects//` is allowed by neither.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    public let method: String?
    public let pathGlob: String
    private let tokens: [GlobToken]
    /// The glob without its trailing slash (`/api/projects/` -> `/api/projects`); nil when it has none.
    private let tokensWithoutTrailingSlash: [GlobToken]?

    /// Parses `METHOD /glob`. Returns a reason when the entry is malformed.
    public static func parse(_ text: String) -> Result<RoutePattern, RoutePatternError> {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            return .failure(RoutePatternError(reason: "expected \"METHOD /path/glob\", e.g. \"POST /v1/task/*\""))
        }
        let method = String(parts[0])
        guard method == "*" || method.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
            return .failure(RoutePatternError(reason: "method \"\(method)\" must be upper case (e.g. GET) or *"))
        }
        let glob = String(parts[1])
        guard glob.hasPrefix("/") else {
            return .failure(RoutePatternError(reason: "path \"\(glob)\" must start with /"))
        }
        if glob.contains("?") || glob.contains("#") {
            return .failure(RoutePatternError(reason: "path \"\(glob)\" must not contain a query or fragment"))
        }
        return .success(RoutePattern(method: method == "*" ? nil : method, pathGlob: glob))
    }

    public init(method: String?, pathGlob: String) {
        self.method = method
        self.pathGlob = pathGlob
        let glob = Array(pathGlob.utf8)
        self.tokens = GlobToken.compile(glob)
        self.tokensWithoutTrailingSlash =
            glob.count > 1 && glob.last == UInt8(ascii: "/") && glob[glob.count - 2] != UInt8(ascii: "/")
            ? GlobToken.compile(Array(glob.dropLast())) : nil
    }

    /// Whether `method` and `path` (the path after the vendor prefix, no query) are allowed by this entry.
    public func matches(method: String, path: Substring) -> Bool {
        if let expected = self.method, expected != method { return false }
        return self.matches(path: path)
    }

    /// Whether `path` is allowed by this entry's glob, whatever the method; one trailing slash is not significant.
    public func matches(path: Substring) -> Bool {
        if GlobToken.match(self.tokens, path.utf8) { return true }
        if let trimmed = self.tokensWithoutTrailingSlash, GlobToken.match(trimmed, path.utf8) { return true }
        let utf8 = path.utf8
        guard utf8.count > 1, utf8.last == UInt8(ascii: "/"),
            utf8[utf8.index(utf8.endIndex, offsetBy: -2)] != UInt8(ascii: "/")
        else { return false }
        return GlobToken.match(self.tokens, path.dropLast().utf8)
    }

    /// How many leading bytes of `path` this glob could still match (`/v1/task/42/x` against `/v1/task/*`: 11): how
    /// near the path came to this entry, for a refusal's record.
    public func matchedPrefixLength(of path: Substring) -> Int {
        GlobToken.livePrefixLength(self.tokens, path.utf8)
    }

    public var description: String { "\(self.method ?? "*") \(self.pathGlob)" }

    public static func == (lhs: RoutePattern, rhs: RoutePattern) -> Bool {
        lhs.method == rhs.method && lhs.pathGlob == rhs.pathGlob
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.method)
        hasher.combine(self.pathGlob)
    }
}

public struct RoutePatternError: Error, Sendable {
    public var reason: String
}

/// A compiled glob: literal bytes and stars (`**` folded into one token that may cross `/`).
struct GlobToken: Sendable {
    var byte: UInt8
    var isStar: Bool
    var crossesSlash: Bool

    static func compile(_ pattern: [UInt8]) -> [GlobToken] {
        let star = UInt8(ascii: "*")
        var tokens: [GlobToken] = []
        var i = 0
        while i < pattern.count {
            if pattern[i] == star {
                let double = i + 1 < pattern.count && pattern[i + 1] == star
                tokens.append(GlobToken(byte: star, isStar: true, crossesSlash: double))
                i += double ? 2 : 1
                while i < pattern.count && pattern[i] == star { i += 1 }
            } else {
                tokens.append(GlobToken(byte: pattern[i], isStar: false, crossesSlash: false))
                i += 1
            }
        }
        return tokens
    }

    /// Simulates the pattern as a set of positions: O(path × pattern), no backtracking blow-up on hostile paths.
    static func match(_ tokens: [GlobToken], _ text: Substring.UTF8View) -> Bool {
        Self.run(tokens, text).matched
    }

    /// The number of leading bytes of `text` that are a prefix of something the pattern matches.
    static func livePrefixLength(_ tokens: [GlobToken], _ text: Substring.UTF8View) -> Int {
        Self.run(tokens, text).consumed
    }

    /// Runs the position set over `text`: whether it ends in the final position, and how many bytes were consumed
    /// before no position was left.
    private static func run(_ tokens: [GlobToken], _ text: Substring.UTF8View) -> (matched: Bool, consumed: Int) {
        let slash = UInt8(ascii: "/")
        let n = tokens.count
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: 2 * (n + 1)) { storage in
            storage.initialize(repeating: false)
            var current = UnsafeMutableBufferPointer(rebasing: storage[0...n])
            var next = UnsafeMutableBufferPointer(rebasing: storage[(n + 1)...])
            func closeOverEmptyStars(_ states: UnsafeMutableBufferPointer<Bool>) {
                for k in 0..<n where states[k] && tokens[k].isStar { states[k + 1] = true }
            }
            current[0] = true
            closeOverEmptyStars(current)
            var consumed = 0
            for byte in text {
                var alive = false
                for k in 0...n { next[k] = false }
                for k in 0..<n where current[k] {
                    let token = tokens[k]
                    if token.isStar {
                        if token.crossesSlash || byte != slash {
                            next[k] = true
                            alive = true
                        }
                    } else if token.byte == byte {
                        next[k + 1] = true
                        alive = true
                    }
                }
                if !alive { return (false, consumed) }
                consumed += 1
                closeOverEmptyStars(next)
                swap(&current, &next)
            }
            return (current[n], consumed)
        }
    }
}
