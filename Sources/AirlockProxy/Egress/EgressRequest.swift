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
