internal import COpenSSL
internal import COpenSSLShims
import NIOConcurrencyHelpers

/// Airlock's TLS server side: an `SSL_CTX` holding the certificate, key and client-verification settings.
///
/// Create one per listener and share it: it is immutable after `init` and safe to use from every event loop.
/// Each accepted connection gets its own handler from ``makeHandler()``.
public final class TLSServerContext: @unchecked Sendable {
    // @unchecked: the SSL_CTX is fully configured in init and only read afterwards, which OpenSSL allows concurrently.
    let sslContext: OpaquePointer
    private let alpn: ALPNProtocolList

    public init(configuration: TLSServerConfiguration) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError.fromOpenSSL(.internalError, "could not create a TLS server context")
        }
        self.sslContext = context
        self.alpn = ALPNProtocolList(configuration.alpnProtocols)

        try SSLContextSetup.applyCommonSettings(context)
        _ = SSL_CTX_set_options(context, COpenSSLShims_SSL_OP_CIPHER_SERVER_PREFERENCE())

        try SSLContextSetup.useCertificate(
            context,
            chainPath: configuration.certificateChainPath,
            keyPath: configuration.privateKeyPath
        )

        // Session IDs and tickets must be bound to this context, or OpenSSL refuses to resume when it verifies clients.
        let sessionContext = Array("airlock".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))

        if let clientCAPath = configuration.clientCAPath {
            try SSLContextSetup.requireReadable(clientCAPath, what: "client CA bundle")
            guard SSL_CTX_load_verify_locations(context, clientCAPath, nil) == 1 else {
                throw TLSError.fromOpenSSL(.configuration, "cannot load the client CA bundle at \(clientCAPath)")
            }
            if let names = SSL_load_client_CA_file(clientCAPath) {
                SSL_CTX_set_client_CA_list(context, names)
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }

        if !self.alpn.wireFormat.isEmpty {
            SSL_CTX_set_alpn_select_cb(context, alpnSelectCallback, Unmanaged.passUnretained(self.alpn).toOpaque())
        }
    }

    deinit {
        SSL_CTX_free(self.sslContext)
    }

    /// A handler for one accepted connection. Add it first in the child channel's pipeline.
    public func makeHandler() -> TLSServerHandler {
        TLSHandler(role: .server(self))
    }
}

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

/// Settings both sides share.
enum SSLContextSetup {
    /// The TLS 1.2 suites both sides offer, strongest first: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305.
    static let tls12CipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    static func applyCommonSettings(_ context: OpaquePointer) throws(TLSError) {
        guard COpenSSLShims_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw TLSError.fromOpenSSL(.configuration, "cannot require TLS 1.2 or later")
        }
        _ = SSL_CTX_set_options(
            context,
            COpenSSLShims_SSL_OP_NO_RENEGOTIATION() | COpenSSLShims_SSL_OP_NO_COMPRESSION()
        )
        // TLS 1.2 offers only forward-secret AEAD suites: no CBC (padding oracles, Lucky13) and no SHA-1 MACs.
        // TLS 1.3's suites are all AEAD already and are left at OpenSSL's defaults.
        guard SSL_CTX_set_cipher_list(context, Self.tls12CipherList) == 1 else {
            throw TLSError.fromOpenSSL(.configuration, "cannot restrict TLS 1.2 to AEAD cipher suites")
        }
        // No SSL_MODE_RELEASE_BUFFERS: it frees and re-allocates OpenSSL's ~17 KiB record buffers around every
        // record (10 of Airlock's ~64 mallocs per proxied request, 2-3% of its CPU in the proxy benchmark). Keeping
        // them costs ~34 KiB per open TLS connection; idle lab connections are closed after
        // client_idle_timeout_seconds and the vendor pools are bounded.
    }

    static func useCertificate(_ context: OpaquePointer, chainPath: String, keyPath: String) throws(TLSError) {
        // A server must never stop to ask a terminal for a passphrase: an encrypted key is refused instead.
        SSL_CTX_set_default_passwd_cb(context, refusePassphrase)
        try requireReadable(chainPath, what: "certificate chain")
        try requireReadable(keyPath, what: "private key")
        guard SSL_CTX_use_certificate_chain_file(context, chainPath) == 1 else {
            throw TLSError.fromOpenSSL(.configuration, "cannot load the certificate chain at \(chainPath)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyPath, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError.fromOpenSSL(
                .configuration,
                "cannot load the private key at \(keyPath) (it must be unencrypted PEM)"
            )
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.fromOpenSSL(
                .configuration,
                "the private key at \(keyPath) does not match the certificate at \(chainPath)"
            )
        }
    }

    static func requireReadable(_ path: String, what: String) throws(TLSError) {
        guard let file = BIO_new_file(path, "r") else {
            OpenSSLErrorQueue.clear()
            throw TLSError(code: .configuration, message: "cannot read the \(what) at \(path)")
        }
        BIO_free(file)
    }
}

/// ALPN protocol names in wire format (length-prefixed), kept alive as long as the context that points at them.
final class ALPNProtocolList: Sendable {
    let wireFormat: [UInt8]

    init(_ protocols: [String]) {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            precondition(!bytes.isEmpty && bytes.count < 256, "ALPN protocol names are 1 to 255 bytes")
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        self.wireFormat = wire
    }
}

/// OpenSSL's passphrase callback for every key Airlock loads: fails, so an encrypted key is refused, never prompted
/// for. It must be an error (-1): answering 0 means "the empty passphrase", which OpenSSL then tries.
func refusePassphrase(
    _ buffer: UnsafeMutablePointer<CChar>?,
    _ size: Int32,
    _ writing: Int32,
    _ userData: UnsafeMutableRawPointer?
) -> Int32 {
    -1
}

/// Server side: picks our most preferred protocol that the client also offers; with no overlap, goes on without ALPN.
private func alpnSelectCallback(
    _ ssl: OpaquePointer?,
    _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ outLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?,
    _ offeredLength: UInt32,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let argument, let offered, let out, let outLength else { return SSL_TLSEXT_ERR_NOACK }
    let list = Unmanaged<ALPNProtocolList>.fromOpaque(argument).takeUnretainedValue()
    return list.wireFormat.withUnsafeBufferPointer { ours -> Int32 in
        var selected: UnsafeMutablePointer<UInt8>?
        var selectedLength: UInt8 = 0
        let result = SSL_select_next_proto(
            &selected,
            &selectedLength,
            ours.baseAddress,
            UInt32(ours.count),
            offered,
            offeredLength
        )
        guard result == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_NOACK }
        // `selected` points into `ours`, which lives as long as the context; OpenSSL copies it before returning.
        out.pointee = UnsafePointer(selected)
        outLength.pointee = selectedLength
        return SSL_TLSEXT_ERR_OK
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

/// Resumable client sessions by vendor host name. Holds one reference on each stored session.
final class TLSSessionCache: Sendable {
    private let sessions = NIOLockedValueBox<[String: SessionReference]>([:])
    private static let capacity = 1024

    /// Takes ownership of one reference to `session`.
    func store(_ session: OpaquePointer, for key: String) {
        let reference = SessionReference(session)
        self.sessions.withLockedValue { sessions in
            if sessions.count >= Self.capacity, sessions[key] == nil, let victim = sessions.keys.first {
                sessions[victim] = nil
            }
            sessions[key] = reference
        }
    }

    /// Applies the cached session for `key`, if any, to a connection that has not started its handshake.
    func apply(to ssl: OpaquePointer, key: String) {
        self.sessions.withLockedValue { sessions in
            if let reference = sessions[key] {
                _ = SSL_set_session(ssl, reference.session)
            }
        }
    }
}

/// One owned reference to an `SSL_SESSION`.
final class SessionReference: @unchecked Sendable {
    // @unchecked: SSL_SESSION is reference counted by OpenSSL and only read once stored.
    let session: OpaquePointer

    init(_ session: OpaquePointer) {
        self.session = session
    }

    deinit {
        SSL_SESSION_free(self.session)
    }
}
