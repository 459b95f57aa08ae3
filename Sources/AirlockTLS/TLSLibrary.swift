internal import COpenSSL

/// The OpenSSL library this process runs with (the shared library loaded at run time, not the headers built against).
public enum TLSLibrary {
    /// `OpenSSL 3.0.17 1 Jul 2025`, as the library names itself.
    public static var version: String {
        String(cString: OpenSSL_version(OPENSSL_VERSION))
    }
}
