import AirlockSupport
import Foundation

/// The reviewers' tokens, kept as SHA-256 digests only: the token file holds one digest (64 hex digits, as
/// `airlock certs token` prints for `token_sha256`) per line; `#` starts a comment. A token is accepted when its
/// digest equals one of them, compared in constant time.
public struct ReviewTokens: Sendable {
    let digests: [[UInt8]]

    public init(digests: [[UInt8]]) {
        self.digests = digests
    }

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(String)
        case badLine(Int)
        case empty

        public var description: String {
            switch self {
            case .unreadable(let path): "cannot read the token file \(path)"
            case .badLine(let line):
                "line \(line) of the token file is not a SHA-256 (64 hex digits; `airlock certs token` prints one)"
            case .empty: "the token file holds no token digest"
            }
        }
    }

    public init(file path: String) throws(LoadError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unreadable(path) }
        var digests: [[UInt8]] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: .whitespaces)
            guard !content.isEmpty else { continue }
            guard SHA256.isLowercaseHex(content.lowercased()), let digest = Hex.decode(content) else {
                throw .badLine(number + 1)
            }
            digests.append(digest)
        }
        guard !digests.isEmpty else { throw .empty }
        self.digests = digests
    }

    /// Whether `token` is one of the reviewers'. Every digest is compared, in constant time each, so neither how
    /// much of a digest matched nor which one did shows in the time taken.
    public func accepts(_ token: String) -> Bool {
        guard !token.isEmpty else { return false }
        let presented = SHA256.hash(Array(token.utf8))
        var accepted = false
        for digest in digests where ConstantTime.equal(digest, presented) {
            accepted = true
        }
        return accepted
    }
}
