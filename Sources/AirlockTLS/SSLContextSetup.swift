import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import NIOConcurrencyHelpers

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
