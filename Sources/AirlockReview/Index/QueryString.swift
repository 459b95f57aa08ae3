import Foundation

/// `application/x-www-form-urlencoded` query strings and form bodies: splitting, decoding and encoding.
enum QueryString {
    /// The most parameters read from one query or form; the rest are ignored.
    static let mostParameters = 64

    /// Name-value pairs, `+` read as a space, percent escapes decoded (an invalid escape leaves the pair out). Of a
    /// name given twice, the first wins.
    static func parse(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true).prefix(mostParameters) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { continue }
            if result[name] == nil { result[name] = value }
        }
        return result
    }

    static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Characters left as they are in a query value: unreserved ones only.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
