import NIOHTTP1

/// What the forward listener does with a request head before any tunnel exists. Pure: the client lookup and the
/// client's vendor grant come in as functions, so every rule is unit-tested on its own.
///
/// Who asks is settled before where to: an unauthenticated client learns nothing about which hosts are listed.
enum ConnectAdmission {
    enum Decision: Equatable {
        /// 200, then TLS with a leaf for `host`, then `vendorIndex`'s routes and policy for every request.
        case intercept(vendorIndex: Int, host: String, client: Int)
        /// Answered with the refusal, then closed. `vendorIndex`/`client` when known, for the record.
        case refuse(RefusalCause, vendorIndex: Int?, client: Int?)
    }

    static func decide(
        _ head: HTTPRequestHead,
        hosts: ForwardHosts,
        identify: (String) -> Int?,
        clientMayUse: (_ client: Int, _ vendorIndex: Int) -> Bool,
        names: (_ client: Int, _ vendorIndex: Int) -> (client: String, vendor: String)
    ) -> Decision {
        guard head.method == .CONNECT else {
            let uri = head.uri.lowercased()
            let cause: RefusalCause =
                uri.hasPrefix("http://") || uri.hasPrefix("https://") || uri.hasPrefix("/")
                ? .plainHTTPProxyRefused : .badRequest("the forward listener takes CONNECT host:443 only")
            return .refuse(cause, vendorIndex: nil, client: nil)
        }
        let client: Int
        switch ProxyAuthorization.token(head.headers) {
        case .refused(let cause):
            return .refuse(cause, vendorIndex: nil, client: nil)
        case .token(let token):
            guard let found = identify(token) else {
                return .refuse(
                    .proxyAuthenticationRequired(
                        reason: "the Proxy-Authorization token is not one of a configured client"
                    ),
                    vendorIndex: nil,
                    client: nil
                )
            }
            client = found
        }
        if head.headers.contains(name: "content-length") || head.headers.contains(name: "transfer-encoding") {
            return .refuse(.badRequest("a CONNECT request carries no body"), vendorIndex: nil, client: client)
        }
        let target: ConnectTarget
        switch ConnectTarget.parse(head.uri) {
        case .refused(let cause): return .refuse(cause, vendorIndex: nil, client: client)
        case .target(let parsed): target = parsed
        }
        guard let vendorIndex = hosts.vendorIndex(of: target.host) else {
            return .refuse(.forwardHostNotListed, vendorIndex: nil, client: client)
        }
        guard clientMayUse(client, vendorIndex) else {
            let (clientName, vendorName) = names(client, vendorIndex)
            return .refuse(
                .clientNotAllowed(client: clientName, vendor: vendorName),
                vendorIndex: vendorIndex,
                client: client
            )
        }
        return .intercept(vendorIndex: vendorIndex, host: target.host, client: client)
    }
}
