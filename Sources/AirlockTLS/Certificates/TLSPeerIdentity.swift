/// What a verified peer certificate says about who the peer is.
public struct TLSPeerIdentity: Sendable, Hashable {
    /// The subject's common name, if it has one.
    public var commonName: String?
    /// DNS names and IP addresses from the subjectAltName extension, as text.
    public var subjectAlternativeNames: [String]

    public init(commonName: String?, subjectAlternativeNames: [String]) {
        self.commonName = commonName
        self.subjectAlternativeNames = subjectAlternativeNames
    }
}
