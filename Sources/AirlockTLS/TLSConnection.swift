internal import COpenSSL
internal import COpenSSLShims
import NIOCore

/// One TLS connection in OpenSSL: an `SSL` between two memory BIOs.
///
/// Ciphertext from the network is fed in with ``feed(_:)``; ciphertext to send is taken out with
/// ``takeOutbound(allocator:limit:)``. Not thread-safe: it belongs to the event loop of its channel.
final class TLSConnection {
    private let ssl: OpaquePointer
    /// Network -> OpenSSL.
    private let networkToSSL: OpaquePointer
    /// OpenSSL -> network.
    private let sslToNetwork: OpaquePointer
    /// Keeps the `SSL_CTX` alive as long as this connection.
    private let owner: AnyObject
    let isServer: Bool
    let sessionCache: TLSSessionCache?
    let sessionCacheKey: String?

    enum HandshakeResult {
        case complete
        case needsMoreData
        case failed(TLSError)
    }

    enum ReadResult {
        /// Some plaintext was appended to the buffer.
        case data
        /// Everything fed so far has been consumed.
        case needsMoreData
        /// The peer sent close_notify.
        case closeNotify
        case failed(TLSError)
    }

    convenience init(server: TLSServerContext) throws(TLSError) {
        try self.init(sslContext: server.sslContext, owner: server, isServer: true, cache: nil, cacheKey: nil)
    }

    convenience init(client: TLSClientContext, serverHostname: String) throws(TLSError) {
        try self.init(
            sslContext: client.sslContext,
            owner: client,
            isServer: false,
            cache: client.sessionCache,
            cacheKey: serverHostname.lowercased()
        )
        // An IP literal is checked against IP SANs and never sent as SNI (RFC 6066 §3).
        let parameters = SSL_get0_param(self.ssl)
        if X509_VERIFY_PARAM_set1_ip_asc(parameters, serverHostname) != 1 {
            OpenSSLErrorQueue.clear()
            SSL_set_hostflags(self.ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(self.ssl, serverHostname) == 1,
                COpenSSLShims_SSL_set_tlsext_host_name(self.ssl, serverHostname) == 1
            else {
                throw TLSError.fromOpenSSL(.configuration, "cannot use '\(serverHostname)' as the server name")
            }
        }
        client.sessionCache.apply(to: self.ssl, key: serverHostname.lowercased())
    }

    private init(
        sslContext: OpaquePointer,
        owner: AnyObject,
        isServer: Bool,
        cache: TLSSessionCache?,
        cacheKey: String?
    ) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(sslContext) else {
            throw TLSError.fromOpenSSL(.internalError, "could not create a TLS connection")
        }
        guard let inbound = BIO_new(BIO_s_mem()), let outbound = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.fromOpenSSL(.internalError, "could not create memory BIOs")
        }
        // An empty memory BIO must mean "try again later", never end of file.
        _ = COpenSSLShims_BIO_set_mem_eof_return(inbound, -1)
        _ = COpenSSLShims_BIO_set_mem_eof_return(outbound, -1)
        SSL_set_bio(ssl, inbound, outbound)  // the SSL owns both BIOs from here on
        self.ssl = ssl
        self.networkToSSL = inbound
        self.sslToNetwork = outbound
        self.owner = owner
        self.isServer = isServer
        self.sessionCache = cache
        self.sessionCacheKey = cacheKey
        if isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
        }
        // The new-session callback finds this object through slot 0; `self` outlives the SSL it frees in deinit.
        _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        SSL_free(self.ssl)
    }

    // MARK: Bytes in and out

    /// Hands ciphertext received from the network to OpenSSL.
    func feed(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let chunk = min(bytes.count - offset, Int(Int32.max))
                let written = BIO_write(self.networkToSSL, bytes.baseAddress! + offset, Int32(chunk))
                // A memory BIO only refuses when out of memory; nothing sensible can continue after that.
                precondition(written > 0, "memory BIO refused \(chunk) bytes")
                offset += Int(written)
            }
        }
    }

    /// How many bytes of ciphertext wait to be sent.
    var pendingOutboundBytes: Int {
        Int(COpenSSLShims_BIO_pending(self.sslToNetwork))
    }

    /// An upper bound on the plaintext the next reads can produce: the ciphertext received but not yet processed,
    /// plus what OpenSSL has already decrypted and buffered.
    var pendingInboundBytes: Int {
        Int(COpenSSLShims_BIO_pending(self.networkToSSL)) + Int(SSL_pending(self.ssl))
    }

    /// Whether OpenSSL holds record data it has read but not yet handed out (processed or not).
    var hasBufferedRecordData: Bool {
        SSL_has_pending(self.ssl) == 1
    }

    /// Takes up to `limit` bytes of ciphertext OpenSSL has produced, or nil when there is none.
    func takeOutbound(allocator: ByteBufferAllocator, limit: Int = .max) -> ByteBuffer? {
        let pending = min(self.pendingOutboundBytes, limit)
        guard pending > 0 else { return nil }
        var buffer = allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { target in
            let read = BIO_read(self.sslToNetwork, target.baseAddress, Int32(pending))
            return max(0, Int(read))
        }
        return buffer
    }

    // MARK: TLS operations

    func handshake() -> HandshakeResult {
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(self.ssl)
        if result == 1 {
            return .complete
        }
        let error = SSL_get_error(self.ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needsMoreData
        default:
            return .failed(self.classifyHandshakeFailure(sslError: error))
        }
    }

    /// Decrypts as much as fits into `buffer` (at least some of it must be writable).
    func read(into buffer: inout ByteBuffer) -> ReadResult {
        OpenSSLErrorQueue.clear()
        var sslResult: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { target in
            sslResult = SSL_read(self.ssl, target.baseAddress, Int32(min(target.count, Int(Int32.max))))
            return max(0, Int(sslResult))
        }
        if sslResult > 0 {
            return .data
        }
        let error = SSL_get_error(self.ssl, sslResult)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needsMoreData
        case SSL_ERROR_ZERO_RETURN:
            return .closeNotify
        default:
            return .failed(TLSError.fromOpenSSL(.handshakeFailed, "the peer sent data that is not valid TLS"))
        }
    }

    /// Encrypts all of `buffer`; the ciphertext is then waiting in ``takeOutbound(allocator:limit:)``.
    func write(_ buffer: ByteBuffer) -> TLSError? {
        guard buffer.readableBytes > 0 else { return nil }
        OpenSSLErrorQueue.clear()
        return buffer.withUnsafeReadableBytes { bytes -> TLSError? in
            var offset = 0
            while offset < bytes.count {
                let chunk = min(bytes.count - offset, 1 << 30)
                let written = SSL_write(self.ssl, bytes.baseAddress! + offset, Int32(chunk))
                guard written > 0 else {
                    return TLSError.fromOpenSSL(.internalError, "could not encrypt application data")
                }
                offset += Int(written)
            }
            return nil
        }
    }

    /// Queues our close_notify. One call is enough: we never wait for the peer's reply (RFC 8446 §6.1 allows it).
    func shutdown() {
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(self.ssl)
        OpenSSLErrorQueue.clear()
    }

    // MARK: After the handshake

    var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(self.ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The server name the client asked for (SNI); nil when it sent none.
    var serverName: String? {
        guard let name = SSL_get_servername(self.ssl, TLSEXT_NAMETYPE_host_name) else { return nil }
        return String(cString: name)
    }

    var sessionReused: Bool {
        SSL_session_reused(self.ssl) == 1
    }

    var protocolVersion: String {
        String(cString: SSL_get_version(self.ssl))
    }

    /// Who the verified peer certificate names, or nil when the peer sent none.
    var peerIdentity: TLSPeerIdentity? {
        guard let certificate = SSL_get0_peer_certificate(self.ssl) else { return nil }
        return X509Names.identity(of: certificate)
    }

    /// True when a certificate of the verified chain (or, for a resumed session, the peer's certificate) has one of
    /// these SPKI SHA-256 digests.
    func matchesAnyPin(_ pins: [[UInt8]]) -> Bool {
        var candidates: [OpaquePointer] = []
        if let chain = SSL_get0_verified_chain(self.ssl) {
            let count = COpenSSLShims_sk_X509_num(chain)
            for index in 0..<count {
                if let certificate = COpenSSLShims_sk_X509_value(chain, index) {
                    candidates.append(certificate)
                }
            }
        }
        if candidates.isEmpty, let peer = SSL_get0_peer_certificate(self.ssl) {
            candidates.append(peer)
        }
        for certificate in candidates {
            if let digest = X509Names.spkiSHA256(of: certificate), pins.contains(digest) {
                return true
            }
        }
        return false
    }

    // MARK: Failures

    private func classifyHandshakeFailure(sslError: Int32) -> TLSError {
        let codes = OpenSSLErrorQueue.drainCodes()
        let texts = codes.map(\.text)
        if !self.isServer {
            let verifyResult = SSL_get_verify_result(self.ssl)
            if verifyResult != X509_V_OK {
                let reason = String(cString: X509_verify_cert_error_string(verifyResult))
                return TLSError(
                    code: .verificationFailed,
                    message: "the server's certificate did not verify: \(reason)",
                    openSSLErrors: texts
                )
            }
        } else if codes.contains(where: {
            $0.reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE || $0.reason == SSL_R_CERTIFICATE_VERIFY_FAILED
        }) {
            let verifyResult = SSL_get_verify_result(self.ssl)
            let reason =
                verifyResult == X509_V_OK
                ? "no client certificate was presented"
                : String(cString: X509_verify_cert_error_string(verifyResult))
            return TLSError(
                code: .verificationFailed,
                message: "the client's certificate did not verify: \(reason)",
                openSSLErrors: texts
            )
        }
        if sslError == SSL_ERROR_SYSCALL && codes.isEmpty {
            return TLSError(code: .handshakeFailed, message: "the peer closed the connection during the handshake")
        }
        return TLSError(code: .handshakeFailed, message: "the TLS handshake failed", openSSLErrors: texts)
    }
}
