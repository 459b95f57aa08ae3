import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import NIOConcurrencyHelpers

/// Airlock's TLS client side, towards one vendor: trust roots, pins, optional client certificate, and a cache of
/// sessions so that repeated connections to the same vendor resume instead of doing a full handshake.
///
/// Create one per vendor and share it across event loops.
public final class TLSClientContext: @unchecked Sendable {
    // @unchecked: the SSL_CTX is immutable after init; the session cache has its own lock.
    let sslContext: OpaquePointer
    let pins: [[UInt8]]
    let sessionCache: TLSSessionCache

    public init(configuration: TLSClientConfiguration) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        var pins: [[UInt8]] = []
        for pin in configuration.pinnedSPKISHA256 {
            guard let digest = Base64.decode(pin), digest.count == 32 else {
                throw TLSError(
                    code: .configuration,
                    message: "pin '\(pin)' is not a base64 SHA-256 digest (32 bytes); see `airlock certs pin`"
                )
            }
            pins.append(digest)
        }
        self.pins = pins

        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError.fromOpenSSL(.internalError, "could not create a TLS client context")
        }
        self.sslContext = context
        self.sessionCache = TLSSessionCache()

        try SSLContextSetup.applyCommonSettings(context)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)

        switch configuration.trustRoots {
        case .system:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSError.fromOpenSSL(.configuration, "cannot load the system trust store")
            }
        case .file(let path):
            try SSLContextSetup.requireReadable(path, what: "CA bundle")
            guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                throw TLSError.fromOpenSSL(.configuration, "cannot load the CA bundle at \(path)")
            }
        }

        switch (configuration.certificateChainPath, configuration.privateKeyPath) {
        case (.some(let chain), .some(let key)):
            try SSLContextSetup.useCertificate(context, chainPath: chain, keyPath: key)
        case (.none, .none):
            break
        case (.some, .none), (.none, .some):
            throw TLSError(
                code: .configuration,
                message: "a client certificate needs both a certificate chain and a private key"
            )
        }

        let alpn = ALPNProtocolList(configuration.alpnProtocols).wireFormat
        if !alpn.isEmpty {
            // Unlike most of OpenSSL, this returns 0 on success.
            guard SSL_CTX_set_alpn_protos(context, alpn, UInt32(alpn.count)) == 0 else {
                throw TLSError.fromOpenSSL(.configuration, "invalid ALPN protocol list")
            }
        }

        _ = COpenSSLShims_SSL_CTX_set_session_cache_mode(
            context,
            Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE)
        )
        SSL_CTX_sess_set_new_cb(context, newSessionCallback)
    }

    deinit {
        SSL_CTX_free(self.sslContext)
    }

    /// A handler for one connection to `serverHostname`.
    ///
    /// The name is sent as SNI unless it is an IP literal, and the certificate must match it (a DNS or IP SAN).
    public func makeHandler(serverHostname: String) -> TLSClientHandler {
        TLSHandler(role: .client(self, serverHostname: serverHostname))
    }
}

/// Client side: OpenSSL hands over each new session (for TLS 1.3, each ticket); keep it for the next connection.
private func newSessionCallback(_ ssl: OpaquePointer?, _ session: OpaquePointer?) -> Int32 {
    guard let ssl, let session, let owner = SSL_get_ex_data(ssl, 0) else { return 0 }
    let connection = Unmanaged<TLSConnection>.fromOpaque(owner).takeUnretainedValue()
    guard let cache = connection.sessionCache, let key = connection.sessionCacheKey else { return 0 }
    cache.store(session, for: key)
    return 1  // we keep the reference OpenSSL gave us
}
