/// The authority-form target of a `CONNECT` (`api.scale.com:443`), reduced to the host name the forward proxy
/// compares (``ForwardHostName``) and its port.
struct ConnectTarget: Equatable {
    /// The only port intercepted: vendor APIs are https on 443.
    static let port = 443

    /// A parsed target, or why it is refused.
    enum Parsed: Equatable {
        case target(ConnectTarget)
        case refused(RefusalCause)
    }

    var host: String
    var port: Int

    /// Refused: no port, a port that is not a number, an IP literal or anything else that is not a DNS name
    /// (`host_not_listed`: nothing but a listed name is ever reached), a port other than 443.
    static func parse(_ uri: String) -> Parsed {
        guard let colon = uri.utf8.lastIndex(of: UInt8(ascii: ":")), !uri.hasPrefix("[") else {
            if uri.hasPrefix("[") { return .refused(.forwardHostNotListed) }
            return .refused(.badRequest("a CONNECT target must be host:port, e.g. api.scale.com:443"))
        }
        let portText = uri[uri.index(after: colon)...]
        guard !portText.isEmpty, portText.utf8.count <= 5,
            portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let port = Int(portText),
            (1...65535).contains(port)
        else {
            return .refused(.badRequest("a CONNECT target must be host:port, e.g. api.scale.com:443"))
        }
        guard let host = ForwardHostName.canonical(uri[..<colon]) else { return .refused(.forwardHostNotListed) }
        guard port == Self.port else { return .refused(.forwardPortNotAllowed(port: port)) }
        return .target(ConnectTarget(host: host, port: port))
    }
}
