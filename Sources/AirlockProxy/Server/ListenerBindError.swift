import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A listener that could not be bound: which one (its configuration key), on what address, and why, so the
/// operator knows which port to free or change.
public struct ListenerBindError: Error, Sendable, CustomStringConvertible {
    /// `listen.address`, `callbacks.listen.address` or `admin.address`.
    public var listener: String
    public var address: HostAndPort
    public var reason: String

    init(listener: String, address: HostAndPort, error: any Error) {
        self.listener = listener
        self.address = address
        switch (error as? IOError)?.errnoCode {
        case EADDRINUSE?:
            self.reason = "port \(address.port) is already in use (another process listens on it)"
        case EACCES?:
            self.reason = "permission denied (a port below 1024 needs CAP_NET_BIND_SERVICE)"
        case EADDRNOTAVAIL?:
            self.reason = "\(address.host) is not an address of this machine"
        default:
            self.reason = "\(error)"
        }
    }

    public var description: String {
        "cannot listen on \(self.address) (\(self.listener)): \(self.reason)"
    }

    /// Runs `bind`, turning its failure into a ``ListenerBindError`` for `listener` on `address`.
    static func binding<Result>(
        _ listener: String,
        _ address: HostAndPort,
        _ bind: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await bind()
        } catch {
            throw ListenerBindError(listener: listener, address: address, error: error)
        }
    }
}
