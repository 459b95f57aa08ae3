import NIOHTTP1

/// Requests inside an intercepted forward-proxy tunnel, and proxy-form requests anywhere: the only places where the
/// lab listener's handler and a tunnel's differ. Everything else (routes, policy, audit, restoration, callbacks)
/// is the same code for both.
extension ProxyHTTPHandler {
    /// What a tunnel fixes for every request in it: the vendor (by the CONNECT host, its path prefix empty so the
    /// request path is the vendor's own), the host the lab asked for, and the client `Proxy-Authorization` named.
    struct Tunnel {
        var vendor: VendorRuntime
        var host: String
        var clientIndex: Int
    }

    /// A CONNECT or absolute-form request (`GET https://api.scale.com/...`): on the lab listener, an answer saying
    /// where the forward listener is (a user who sets `HTTPS_PROXY` to it would otherwise see a bare 400); inside a
    /// tunnel, refused. Nil for an ordinary origin-form request.
    func proxyFormRefusal(_ head: HTTPRequestHead) -> EgressRefusal? {
        let uri = head.uri.utf8
        guard head.method == .CONNECT || (!uri.isEmpty && uri.first != UInt8(ascii: "/") && head.uri.contains("://"))
        else { return nil }
        if self.tunnel != nil { return EgressRefusal(.proxyRequestInTunnel) }
        return EgressRefusal(.notAForwardProxy(forward: self.core.configuration.forward.map { "\($0.address)" }))
    }

    /// The vendor and vendor path of a request: in a tunnel, the tunnel's vendor and the whole path; otherwise the
    /// vendor whose prefix starts the path.
    func route(_ path: Substring) -> (vendor: VendorRuntime, rest: Substring)? {
        guard let tunnel = self.tunnel else { return self.core.route(path) }
        return (tunnel.vendor, path)
    }

    /// In a tunnel, the `Host` must name the tunnel's host (port 443 or none): a client cannot open a tunnel to one
    /// vendor host and address another through it.
    func tunnelHostRefusal(_ head: HTTPRequestHead) -> EgressRefusal? {
        guard let tunnel = self.tunnel else { return nil }
        let hosts = head.headers["host"]
        guard hosts.count == 1 else { return EgressRefusal(.tunnelHostMismatch) }
        var authority = Substring(hosts[0])
        if let colon = authority.lastIndex(of: ":") {
            guard authority[authority.index(after: colon)...] == "\(ConnectTarget.port)" else {
                return EgressRefusal(.tunnelHostMismatch)
            }
            authority = authority[..<colon]
        }
        return ForwardHostName.canonical(authority) == tunnel.host ? nil : EgressRefusal(.tunnelHostMismatch)
    }
}
