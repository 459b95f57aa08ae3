#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network from an `ip` detector's `ranges`, e.g. `10.0.0.0/8`, `fd00::/8`. A bare address is a
/// network of one (`/32` or `/128`).
public struct CIDRRange: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, host bits zero.
    public let network: [UInt8]
    public let prefixLength: Int

    public var isIPv4: Bool { network.count == 4 }

    /// Parses `text`; throws the reason when it is not a CIDR range.
    public init(parsing text: String) throws(CIDRRangeError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw CIDRRangeError(reason: "more than one '/'") }
        guard let address = Self.parseAddress(String(parts[0])) else {
            throw CIDRRangeError(reason: "'\(parts[0])' is not an IPv4 or IPv6 address")
        }
        let maximum = address.count * 8
        var prefix = maximum
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), parsed <= maximum
            else {
                throw CIDRRangeError(reason: "prefix length must be a number from 0 to \(maximum)")
            }
            prefix = parsed
        }
        let masked = Self.mask(address, prefix)
        guard masked == address else {
            throw CIDRRangeError(
                reason: "host bits are set; did you mean \(Self.format(masked))/\(prefix)?"
            )
        }
        network = masked
        prefixLength = prefix
    }

    public var description: String { "\(Self.format(network))/\(prefixLength)" }

    /// Whether the address (4 or 16 bytes, as from `parseAddress`) lies in this network. IPv4 addresses never lie in
    /// IPv6 networks and vice versa.
    public func contains(_ address: [UInt8]) -> Bool {
        address.count == network.count && Self.mask(address, prefixLength) == network
    }

    /// Whether the textual address lies in this network; `false` when it is not an address.
    public func contains(address: String) -> Bool {
        Self.parseAddress(address).map(contains) ?? false
    }

    /// The bytes of a textual IPv4 (dotted quad) or IPv6 address, `nil` when it is neither.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    private static func mask(_ address: [UInt8], _ prefix: Int) -> [UInt8] {
        var result = address
        for index in result.indices {
            let bitsKept = max(0, min(8, prefix - index * 8))
            result[index] &= bitsKept == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsKept))
        }
        return result
    }

    private static func format(_ address: [UInt8]) -> String {
        if address.count == 4 {
            return address.map(String.init).joined(separator: ".")
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: address) }
        guard inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
