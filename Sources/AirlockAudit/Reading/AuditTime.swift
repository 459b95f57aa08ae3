import AirlockSupport
import Foundation

/// A time bound a reviewer types: an RFC 3339 time or date, or a time relative to now (`30m`, `24h`, `7d`: that long
/// ago). Shared by `airlock log` and the review console so both read `--since 24h` the same way.
public enum AuditTime {
    /// Seconds per unit of a relative time.
    private static let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// The time `text` stands for, relative times counted back from `now`; nil when it is neither form.
    public static func parse(_ text: String, now: Date = Date()) -> Date? {
        if let ago = relative(text) { return now.addingTimeInterval(-ago) }
        return RFC3339.parse(text)
    }

    /// `30s`, `30m`, `24h`, `7d` or `2w` as seconds; nil for anything else (no sign, no fraction, no spaces).
    public static func relative(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let seconds = units[unit] else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let count = Int(digits)
        else { return nil }
        return Double(count) * seconds
    }

    /// What a reviewer may type, for error messages.
    public static let accepted =
        "an RFC 3339 time (2026-11-26T09:00:00Z), a date (2026-11-26) or a time ago (30m, 24h, 7d, 2w)"
}
