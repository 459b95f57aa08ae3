/// A shared secret a vendor sends with its callbacks. Never printed: `description` is a placeholder.
public struct CallbackSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let bytes: [UInt8]

    public init(_ value: String) {
        self.bytes = Array(value.utf8)
    }

    /// Compares in time that depends only on the lengths, never on where the values differ. An empty secret
    /// matches nothing.
    public func matches(_ candidate: String) -> Bool {
        let count = self.bytes.count
        guard count > 0 else { return false }
        var difference: UInt8 = 0
        var index = 0
        for byte in candidate.utf8 {
            difference |= byte ^ self.bytes[index % count]
            index += 1
        }
        return difference == 0 && index == count
    }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
}
