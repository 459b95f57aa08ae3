import Foundation
import NIOConcurrencyHelpers

/// The forward proxy's leaf certificates: one per intercepted host name, minted from the interception CA on first
/// use (ECDSA P-256, a fresh key each, short validity) and kept with the TLS server context that presents it.
///
/// The cache is bounded (`capacity` names; the oldest minted is dropped first) and a leaf is minted again once half
/// its validity has passed, so a client never sees one close to expiry. Safe to use from every event loop: minting
/// happens outside the lock (two loops asking for a new name at once may both mint; the last one is kept).
/// Each context accepts only its own name as SNI (see ``TLSServerContext/init(certificate:privateKey:requiredServerName:alpnProtocols:)``);
/// TLS sessions resume per context, so a client coming back to a host skips the full handshake.
public final class InterceptionCertificates: Sendable {
    /// One minted leaf and the context presenting it.
    public struct Leaf: Sendable {
        public let certificate: Certificate
        public let context: TLSServerContext
        /// After this instant the leaf is replaced on next use.
        let renewAfter: Date
    }

    private struct Cache {
        var leaves: [String: Leaf] = [:]
        /// Names in the order their current leaf was minted, oldest first.
        var order: [String] = []
        var minted = 0
    }

    public let authority: CertificateAuthority
    /// How long a minted leaf is valid (it is backdated five minutes for clock skew).
    public let validity: TimeInterval
    public let capacity: Int
    private let cache = NIOLockedValueBox(Cache())

    public init(authority: CertificateAuthority, validity: TimeInterval = 24 * 3600, capacity: Int = 256) {
        precondition(validity >= 60 && capacity > 0)
        self.authority = authority
        self.validity = validity
        self.capacity = capacity
    }

    /// Leaves minted since this object was made (cache misses, renewals included).
    public var mintedCount: Int { self.cache.withLockedValue { $0.minted } }

    /// Names with a cached leaf.
    public var cachedCount: Int { self.cache.withLockedValue { $0.leaves.count } }

    /// The leaf for `host` (a DNS name in lower case, no trailing dot), minted if it is not cached or due for renewal.
    public func leaf(for host: String, now: Date = Date()) throws(TLSError) -> Leaf {
        if let cached = self.cache.withLockedValue({ $0.leaves[host] }), now < cached.renewAfter {
            return cached
        }
        let leaf = try self.mint(host, now: now)
        self.cache.withLockedValue { cache in
            cache.minted += 1
            if cache.leaves.updateValue(leaf, forKey: host) != nil {
                cache.order.removeAll { $0 == host }
            } else if cache.leaves.count > self.capacity, !cache.order.isEmpty {
                cache.leaves[cache.order.removeFirst()] = nil
            }
            cache.order.append(host)
        }
        return leaf
    }

    private func mint(_ host: String, now: Date) throws(TLSError) -> Leaf {
        do {
            let key = try PrivateKey(generating: .ecdsaP256)
            let certificate = try self.authority.issue(
                commonName: host.utf8.count <= 64 ? host : "Airlock interception",
                dnsNames: [host],
                usage: .server,
                notBefore: now.addingTimeInterval(-300),
                notAfter: now.addingTimeInterval(self.validity),
                key: key
            )
            let context = try TLSServerContext(certificate: certificate, privateKey: key, requiredServerName: host)
            return Leaf(
                certificate: certificate,
                context: context,
                renewAfter: now.addingTimeInterval(self.validity / 2)
            )
        } catch let error as CertificateError {
            throw TLSError(code: .configuration, message: "cannot mint a certificate for \(host): \(error)")
        } catch let error as TLSError {
            throw error
        } catch {
            throw TLSError(code: .internalError, message: "cannot mint a certificate for \(host)")
        }
    }
}
