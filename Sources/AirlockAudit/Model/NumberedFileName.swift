import Foundation

/// File names numbered with at least six digits between a fixed prefix and suffix (`audit-000001.jsonl`,
/// `pack-000001.gz`), so they sort by name in creation order.
struct NumberedFileName {
    let prefix: String
    let suffix: String

    func name(index: Int) -> String {
        let digits = String(index)
        return prefix + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + suffix
    }

    func index(of name: String) -> Int? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.count >= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }
}
