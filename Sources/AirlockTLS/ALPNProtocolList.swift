import AirlockSupport
internal import COpenSSL
internal import COpenSSLShims
import NIOConcurrencyHelpers

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
