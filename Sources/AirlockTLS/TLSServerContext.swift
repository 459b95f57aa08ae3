import AirlockSupport
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

    /// With ``init(certificate:privateKey:requiredServerName:alpnProtocols:)``: the one SNI name accepted.
    private let requiredServerName: RequiredServerName?

    public init(configuration: TLSServerConfiguration) throws(TLSError) {
        let context = try Self.makeContext()
        self.sslContext = context
        self.alpn = ALPNProtocolList(configuration.alpnProtocols)
        self.requiredServerName = nil

        try SSLContextSetup.useCertificate(
            context,
            chainPath: configuration.certificateChainPath,
            keyPath: configuration.privateKeyPath
        )

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
        self.enableALPN()
    }

    /// A context for a certificate and key held in memory (a leaf the forward proxy minted).
    ///
    /// With `requiredServerName`, a handshake whose SNI is not that name (compared without case and without one
    /// trailing dot), or that sends no SNI, fails with the `unrecognized_name` alert before any certificate is sent.
    public init(
        certificate: Certificate,
        privateKey: PrivateKey,
        requiredServerName: String? = nil,
        alpnProtocols: [String] = ["http/1.1"]
    ) throws(TLSError) {
        let context = try Self.makeContext()
        self.sslContext = context
        self.alpn = ALPNProtocolList(alpnProtocols)
        self.requiredServerName = requiredServerName.map { RequiredServerName(RequiredServerName.normalize($0)) }
        guard SSL_CTX_use_certificate(context, certificate.x509) == 1,
            SSL_CTX_use_PrivateKey(context, privateKey.pkey) == 1,
            SSL_CTX_check_private_key(context) == 1
        else {
            throw TLSError.fromOpenSSL(.configuration, "the private key does not match the certificate")
        }
        if let required = self.requiredServerName {
            _ = SSL_CTX_set_ex_data(context, 0, Unmanaged.passUnretained(required).toOpaque())
            _ = COpenSSLShims_SSL_CTX_set_tlsext_servername_callback(context, requiredServerNameCallback)
        }
        self.enableALPN()
    }

    /// A server context with the common settings and session resumption bound to it.
    private static func makeContext() throws(TLSError) -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError.fromOpenSSL(.internalError, "could not create a TLS server context")
        }
        do {
            try SSLContextSetup.applyCommonSettings(context)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        _ = SSL_CTX_set_options(context, COpenSSLShims_SSL_OP_CIPHER_SERVER_PREFERENCE())
        // Session IDs and tickets must be bound to this context, or OpenSSL refuses to resume when it verifies clients.
        let sessionContext = Array("airlock".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        return context
    }

    private func enableALPN() {
        if !self.alpn.wireFormat.isEmpty {
            SSL_CTX_set_alpn_select_cb(
                self.sslContext,
                alpnSelectCallback,
                Unmanaged.passUnretained(self.alpn).toOpaque()
            )
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

/// The SNI name a context accepts, kept alive by the context (OpenSSL holds an unretained pointer to it).
private final class RequiredServerName: Sendable {
    let name: String

    init(_ name: String) {
        self.name = name
    }

    /// Lower case, without one trailing dot.
    static func normalize(_ name: String) -> String {
        let lowered = name.lowercased()
        return lowered.hasSuffix(".") ? String(lowered.dropLast()) : lowered
    }
}

/// Fails the handshake unless the client's SNI is the context's required name (called for every ClientHello, with
/// or without SNI).
private func requiredServerNameCallback(
    _ ssl: OpaquePointer?,
    _ alert: UnsafeMutablePointer<Int32>?,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let ssl, let context = SSL_get_SSL_CTX(ssl), let stored = SSL_CTX_get_ex_data(context, 0) else {
        alert?.pointee = SSL_AD_INTERNAL_ERROR
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
    let required = Unmanaged<RequiredServerName>.fromOpaque(stored).takeUnretainedValue()
    guard let sent = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
        RequiredServerName.normalize(String(cString: sent)) == required.name
    else {
        alert?.pointee = SSL_AD_UNRECOGNIZED_NAME
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
    return SSL_TLSEXT_ERR_OK
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
