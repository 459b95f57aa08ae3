/// Who sent a request: the peer address, with mTLS the verified certificate identity, and with `clients:` the
/// configured client it was recognised as.
public struct EgressClient: Sendable, Hashable {
    public var address: String?
    public var certificateCommonName: String?
    public var certificateNames: [String]
    /// The name of the `clients:` entry the request was recognised as; nil without `clients:`.
    public var name: String?

    public init(
        address: String?,
        certificateCommonName: String? = nil,
        certificateNames: [String] = [],
        name: String? = nil
    ) {
        self.name = name
        self.address = address
        self.certificateCommonName = certificateCommonName
        self.certificateNames = certificateNames
    }
}
