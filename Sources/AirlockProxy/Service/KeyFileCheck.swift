import AirlockSupport

/// Every private key file the server reads besides the pseudonym keyring (which refuses itself): the listeners' TLS
/// keys and the audit signing key. One other users can read is refused before anything starts.
enum KeyFileCheck {
    /// The first problem, or nil.
    static func problem(_ configuration: ProxyConfiguration) -> String? {
        var keys: [(String, String)] = [(configuration.listen.tls.keyPath, "the listener's TLS key")]
        if let callbacks = configuration.callbacks?.listen {
            keys.append((callbacks.tls.keyPath, "the callback listener's TLS key"))
        }
        if let audit = configuration.audit, audit.enabled, let signing = audit.log.signingKeyPath {
            keys.append((signing.path, "the audit signing key"))
        }
        for (path, what) in keys {
            if let problem = KeyFilePermissions.problem(path: path, what: what) { return problem }
        }
        return nil
    }
}
