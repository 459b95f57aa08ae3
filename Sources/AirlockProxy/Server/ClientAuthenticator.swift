import AirlockSupport
import AirlockTLS
import NIOHTTP1

/// Recognises the named lab clients of `clients:` and says which vendors each may use.
///
/// A client is recognised by its verified client certificate (subject CN or a subjectAltName equal to its
/// `certificate_name`) or by the `Airlock-Client-Token` header (its SHA-256 equal to `token_sha256`, compared in
/// constant time against every client). A token that is sent must be recognised, and must name the same client as
/// the certificate if both do; anything unclear is unauthenticated. The token header is Airlock's own: it is never
/// in a vendor's forwarded headers (the configuration refuses it in `headers:`) and never logged.
struct ClientAuthenticator: Sendable {
    /// Why no client could be recognised (no secret in it).
    struct Unauthenticated: Error, Equatable {
        var reason: String
    }

    let clients: [ProxyConfiguration.Client]
    /// Per client, per vendor index: may it use that vendor.
    private let allowed: [[Bool]]

    init(clients: [ProxyConfiguration.Client], vendors: [ProxyConfiguration.Vendor]) {
        self.clients = clients
        self.allowed = clients.map { client in vendors.map { client.vendors.contains($0.name) } }
    }

    /// The index in `clients` of the client the request comes from.
    func identify(_ headers: HTTPHeaders, identity: TLSPeerIdentity?) -> Result<Int, Unauthenticated> {
        let byCertificate: Int?
        switch self.clientByCertificate(identity) {
        case .success(let index): byCertificate = index
        case .failure(let unclear): return .failure(unclear)
        }
        let tokens = headers[ProxyConfiguration.Client.tokenHeader]
        switch tokens.count {
        case 0:
            guard let byCertificate else {
                return .failure(
                    Unauthenticated(reason: "no client certificate or Airlock-Client-Token names a configured client")
                )
            }
            return .success(byCertificate)
        case 1:
            guard let byToken = self.clientByToken(tokens[0]) else {
                return .failure(Unauthenticated(reason: "the Airlock-Client-Token is not one of a configured client"))
            }
            if let byCertificate, byCertificate != byToken {
                return .failure(
                    Unauthenticated(
                        reason: "the client certificate and the Airlock-Client-Token name different clients"
                    )
                )
            }
            return .success(byToken)
        default:
            return .failure(Unauthenticated(reason: "more than one Airlock-Client-Token header"))
        }
    }

    /// Whether the client at `client` may use the vendor at `vendorIndex`.
    func may(_ client: Int, use vendorIndex: Int) -> Bool {
        self.allowed[client][vendorIndex]
    }

    private func clientByCertificate(_ identity: TLSPeerIdentity?) -> Result<Int?, Unauthenticated> {
        guard let identity else { return .success(nil) }
        var found: Int?
        for (index, client) in self.clients.enumerated() {
            guard let name = client.certificateName else { continue }
            guard identity.commonName == name || identity.subjectAlternativeNames.contains(name) else { continue }
            if found != nil {
                return .failure(Unauthenticated(reason: "the client certificate names more than one configured client"))
            }
            found = index
        }
        return .success(found)
    }

    /// Hashes the token and compares the digest with every client's, without stopping at a match.
    func clientByToken(_ token: String) -> Int? {
        let digest = SHA256.hash(Array(token.utf8))
        var found: Int?
        for (index, client) in self.clients.enumerated() {
            guard let expected = client.tokenSHA256 else { continue }
            var difference: UInt8 = 0
            for (a, b) in zip(expected, digest) { difference |= a ^ b }
            if difference == 0 { found = index }
        }
        return found
    }
}
