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
