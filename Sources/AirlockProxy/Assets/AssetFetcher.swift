import AirlockPolicy
import AirlockTLS
import NIOCore
import NIOHTTP1
import NIOPosix

/// Fetches an asset from inside the lab: one GET over a fresh, verified TLS connection.
///
/// Against server-side request forgery: the host is resolved here, once, and the connection goes to that address
/// only when `assets.addresses` allows it (by default anything but loopback, link-local, unspecified and mapped
/// addresses), so a source name that resolves to Airlock's own host, a metadata service or (after a DNS change) a
/// second answer is never reached; the certificate is checked for the source's name; a redirect is never followed
/// (it is a failure like any non-200 answer); the body is cut at `assets.max_bytes`, the exchange at
/// `assets.timeout_seconds`.
struct AssetFetcher: Sendable {
    let tls: TLSClientContext
    let addresses: [CIDRRange]
    let maxBytes: Int
    let timeout: TimeAmount

    /// Never fetched from without an explicit `assets.addresses` entry covering them.
    static let deniedByDefault: [CIDRRange] = [
        "127.0.0.0/8", "0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32", "::1/128", "::/128",
        "fe80::/10", "::ffff:0:0/96", "ff00::/8",
    ].map { try! CIDRRange(parsing: $0) }

    /// Why a fetch failed; the code the vendor is answered with and the audit log records.
    enum Failure: Error, Equatable {
        case addressNotAllowed
        case unresolvable
        case status(Int)
        case tooLarge
        case unreachable(String)

        var code: String {
            switch self {
            case .addressNotAllowed: "asset_source_address_not_allowed"
            case .unresolvable: "asset_source_unresolvable"
            case .status(let status): (300..<400).contains(status) ? "asset_source_redirect" : "asset_source_status"
            case .tooLarge: "asset_too_large"
            case .unreachable(let reason): "asset_source_\(reason)"
            }
        }
    }

    struct Fetched {
        var contentType: String?
        var body: ByteBuffer
    }

    func fetch(_ target: AssetSources.Target, on eventLoop: any EventLoop) -> EventLoopFuture<Fetched> {
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
        }.flatMapErrorThrowing { _ in
            throw Failure.unresolvable
        }.flatMap { address -> EventLoopFuture<Fetched> in
            guard let ip = address.ipAddress, self.allows(ip) else {
                return eventLoop.makeFailedFuture(Failure.addressNotAllowed)
            }
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: hostHeaderValue(host: target.host, port: target.port, defaultPort: 443))
            headers.add(name: "Accept-Encoding", value: "identity")
            headers.add(name: "User-Agent", value: "airlock-asset-gateway")
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.pathAndQuery, headers: headers)
            return CallbackDelivery.exchange(
                head: head,
                body: ByteBuffer(),
                host: target.host,
                connectTo: address,
                port: target.port,
                tls: self.tls,
                timeout: self.timeout,
                maxResponseBytes: self.maxBytes,
                keepsBody: true,
                on: eventLoop
            ).flatMapErrorThrowing { error in
                switch error as? UpstreamError {
                case .responseTooLarge?: throw Failure.tooLarge
                case .tls?: throw Failure.unreachable("tls")
                case .timeout?: throw Failure.unreachable("timeout")
                default: throw Failure.unreachable("unreachable")
                }
            }.flatMapThrowing { response in
                guard response.head.status == .ok else { throw Failure.status(Int(response.head.status.code)) }
                if let encoding = response.head.headers.first(name: "content-encoding"),
                    encoding.lowercased() != "identity"
                {
                    // Asked for identity: anything else would be inspected as the wrong bytes.
                    throw Failure.unreachable("encoded")
                }
                return Fetched(contentType: response.head.headers.first(name: "content-type"), body: response.body)
            }
        }
    }

    func allows(_ ip: String) -> Bool {
        guard self.addresses.isEmpty else { return self.addresses.contains { $0.contains(address: ip) } }
        return !Self.deniedByDefault.contains { $0.contains(address: ip) }
    }
}
