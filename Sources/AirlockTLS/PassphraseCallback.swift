internal import COpenSSL

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
