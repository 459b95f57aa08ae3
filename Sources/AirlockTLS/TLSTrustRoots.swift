/// Where a TLS client finds the certificate authorities it trusts.
public enum TLSTrustRoots: Sendable, Hashable {
    /// The operating system's trust store (OpenSSL's default verify paths).
    case system
    /// A PEM bundle of CA certificates at this path; only these are trusted.
    case file(String)
}
