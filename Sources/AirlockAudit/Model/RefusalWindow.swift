import AirlockSupport
import Foundation

/// Several refusals of one kind written as one record: their number and the window they fell in (RFC 3339 times as
/// the log writes them). Written as `"refusals":{"count":N,"first":"…","last":"…"}`.
public struct RefusalWindow: Sendable, Codable, Hashable {
    public var count: Int
    public var first: String
    public var last: String

    public init(count: Int, first: String, last: String) {
        self.count = count
        self.first = first
        self.last = last
    }

    /// A window from two instants, in the log's time format.
    public init(count: Int, first: Date, last: Date) {
        self.init(count: count, first: RFC3339.format(first), last: RFC3339.format(last))
    }
}
