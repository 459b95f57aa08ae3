#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The id a replica writes into its audit records (`replica_id`): the host name unless the configuration sets one.
/// Several replicas behind one load balancer share a configuration, so the default must differ per machine (or per
/// pod: a Kubernetes pod's host name is its name).
public enum ReplicaID {
    /// What `replica_id` may be: 1 to 64 letters, digits, `.`, `-` or `_` (a host name fits).
    static let rule = "replica_id must be 1 to 64 letters, digits, '.', '-' or '_'"

    static func isValid(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }

    /// This machine's host name, or `airlock` when it has none usable as an id.
    public static let hostName: String = {
        // gethostname(2), not Foundation's host name, which may wait for DNS.
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "airlock" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Self.isValid(name) ? name : "airlock"
    }()
}
