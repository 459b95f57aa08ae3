import Foundation
import Synchronization

/// The revocation list `airlock assets revoke` appends to: one entry a line,
///
///     vendor <name> <unix-seconds>   every token of the vendor issued at or before that second
///     token <fingerprint>            one token, by its fingerprint (``AssetToken/fingerprint(_:)``)
///
/// The gateway rereads the file when its size or modification time changes (checked on each fetch, a `stat`), so a
/// revocation holds from the next fetch on without a restart. A file that exists but cannot be read or parsed
/// revokes everything (fail closed); a missing file revokes nothing.
final class AssetRevocations: Sendable {
    let path: String

    struct List: Equatable {
        var vendors: [String: UInt64] = [:]
        var tokens: Set<String> = []
        /// The file could not be read: every token counts as revoked.
        var unreadable = false

        func revokes(_ token: AssetToken, fingerprint: String) -> Bool {
            if self.unreadable || self.tokens.contains(fingerprint) { return true }
            return self.vendors[token.vendor].map { token.issued <= $0 } ?? false
        }
    }

    private struct Cached {
        var stamp: [Int]?
        var list = List()
    }

    private let cached = Mutex(Cached())

    init(path: String) {
        self.path = path
    }

    /// The list as the file says now.
    func current() -> List {
        let stamp = Self.stamp(self.path)
        return self.cached.withLock { cached in
            if cached.stamp == stamp { return cached.list }
            cached.stamp = stamp
            cached.list = stamp == nil ? List() : Self.read(self.path)
            return cached.list
        }
    }

    /// Size, modification time and inode; nil when there is no file.
    private static func stamp(_ path: String) -> [Int]? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT ? nil : [-1]
        }
        return [
            Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_ino),
        ]
    }

    static func read(_ path: String) -> List {
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)
        else { return List(unreadable: true) }
        guard let list = Self.parse(text) else { return List(unreadable: true) }
        return list
    }

    /// Nil when a line is neither form (blank lines and `#` comments are skipped).
    static func parse(_ text: String) -> List? {
        var list = List()
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let kind = words.first, !kind.hasPrefix("#") else { continue }
            switch (kind, words.count) {
            case ("vendor", 3):
                guard let time = UInt64(words[2]) else { return nil }
                let vendor = String(words[1])
                list.vendors[vendor] = max(list.vendors[vendor] ?? 0, time)
            case ("token", 2):
                list.tokens.insert(String(words[1]))
            default:
                return nil
            }
        }
        return list
    }

    /// The line that revokes every token of `vendor` issued up to `time`.
    static func vendorLine(_ vendor: String, at time: Date) -> String {
        "vendor \(vendor) \(UInt64(time.timeIntervalSince1970))\n"
    }

    /// The line that revokes one token, by its fingerprint.
    static func tokenLine(_ fingerprint: String) -> String {
        "token \(fingerprint)\n"
    }
}
