import NIOCore
import NIOHTTP1

/// A lab request Airlock has fully buffered and is about to send to a vendor.
///
/// `path` is the path after the vendor prefix as it will be appended to the vendor's base path (no query);
/// `headers` are already cleaned of hop-by-hop and lab-revealing headers and carry the vendor's `Host`.
/// Inspectors may change `path`, `query`, `headers` and `body`; Airlock re-frames the result (fresh
/// `Content-Length`, no `Transfer-Encoding`, vendor `Host`) after inspection, so an inspector never has to.
public struct EgressRequest: Sendable {
    /// Unique per request; later returned to the lab and written to the audit log.
    public var id: String
    public var vendor: String
    public var method: HTTPMethod
    public var path: String
    public var query: String?
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    public var client: EgressClient
    /// What the inspector found (policy version, findings); set by the inspector, read by the recorder.
    public var inspection: EgressInspection?

    public init(
        id: String,
        vendor: String,
        method: HTTPMethod,
        path: String,
        query: String?,
        headers: HTTPHeaders,
        body: ByteBuffer,
        client: EgressClient
    ) {
        self.id = id
        self.vendor = vendor
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.client = client
    }
}

/// Who sent a request: the peer address, with mTLS the verified certificate identity, and with `clients:` the
/// configured client it was recognised as.
public struct EgressClient: Sendable, Hashable {
    public var address: String?
    public var certificateCommonName: String?
    public var certificateNames: [String]
    /// The name of the `clients:` entry the request was recognised as; nil without `clients:`.
    public var name: String?

    public init(
        address: String?,
        certificateCommonName: String? = nil,
        certificateNames: [String] = [],
        name: String? = nil
    ) {
        self.name = name
        self.address = address
        self.certificateCommonName = certificateCommonName
        self.certificateNames = certificateNames
    }
}

/// A vendor's answer, fully buffered, before it is returned to the lab.
public struct EgressResponse: Sendable {
    public var status: HTTPResponseStatus
    /// Already cleaned of hop-by-hop headers; `Content-Length` is recomputed after `transformResponse`.
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Why Airlock refused a request. Rendered as `{"error": {"code": …, "message": …, "rule": …}}`.
///
/// `message` is shown to the lab and logged: it must never carry matched content, only what rule fired and why.
public struct EgressRefusal: Error, Sendable, Hashable {
    public var status: HTTPResponseStatus
    public var code: String
    public var message: String
    public var rule: String?

    /// What inspection found before refusing, if the refusal came from a policy.
    public var inspection: EgressInspection?

    public init(status: HTTPResponseStatus, code: String, message: String, rule: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.rule = rule
    }
}

/// What an inspector decided about a request.
public enum EgressDecision: Sendable {
    /// Send this (possibly rewritten) request to the vendor.
    case forward(EgressRequest)
    /// Send nothing to the vendor; answer the lab with this refusal.
    case refuse(EgressRefusal)
}
