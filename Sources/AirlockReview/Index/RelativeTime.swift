import AirlockSupport
import Foundation

/// Times a reviewer types: relative (`30m`, `24h`, `7d`, `2w` before now) or absolute (RFC 3339 or a date).
public enum RelativeTime {
    /// The largest relative amount accepted, in seconds (ten years): a larger one is not a time.
    static let longest: Double = 10 * 366 * 86_400

    public static func date(from text: String, now: Date) -> Date? {
        if let absolute = RFC3339.parse(text) { return absolute }
        guard let unit = text.last, let amount = Double(text.dropLast()), amount >= 0, amount.isFinite else {
            return nil
        }
        let seconds: Double
        switch unit {
        case "m": seconds = amount * 60
        case "h": seconds = amount * 3600
        case "d": seconds = amount * 86_400
        case "w": seconds = amount * 7 * 86_400
        default: return nil
        }
        guard seconds <= longest else { return nil }
        return now.addingTimeInterval(-seconds)
    }
}
