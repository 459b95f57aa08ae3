import Synchronization

/// A stand-in for a file server inside the lab (an internal share, a bucket's HTTPS endpoint): `GET <path>` answers
/// the file stored at that path (query ignored) with its content type, anything else 404. For the asset gateway's
/// tests and benchmark (the stand-in's `requests` show what was fetched).
public final class FileServerStandIn: StandInAPI {
    public struct File: Sendable {
        public var contentType: String
        public var body: [UInt8]

        public init(contentType: String, body: [UInt8]) {
            self.contentType = contentType
            self.body = body
        }
    }

    private let files = Mutex<[String: File]>([:])

    public init() {}

    /// Serves `body` at `path` from now on.
    public func put(_ path: String, contentType: String, body: [UInt8]) {
        self.files.withLock { $0[path] = File(contentType: contentType, body: body) }
    }

    public func respond(to request: StandInVendor.ReceivedRequest) -> StandInResponse? {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        guard request.method == "GET" else { return StandInResponse(status: 405, body: []) }
        guard let file = self.files.withLock({ $0[path] }) else { return StandInResponse(status: 404, body: []) }
        return StandInResponse(status: 200, body: file.body, contentType: file.contentType)
    }
}
