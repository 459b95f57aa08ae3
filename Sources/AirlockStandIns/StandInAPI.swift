import Foundation

/// A vendor API that the stand-in vendor answers as the real vendor would: the paths, status codes and JSON shapes
/// the vendor's official client parses, with the submitted fields echoed back where the real API echoes them.
///
/// `respond(to:)` runs on the stand-in's event loop for every request; it must be quick and must not block.
public protocol StandInAPI: Sendable {
    /// The answer to `request`, or `nil` when the request is not for this API (another API, or the echo, answers).
    func respond(to request: StandInVendor.ReceivedRequest) -> StandInResponse?
}

/// One answer of a `StandInAPI`: JSON unless it says otherwise.
public struct StandInResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String

    public init(status: Int, body: [UInt8], contentType: String = "application/json") {
        self.status = status
        self.body = body
        self.contentType = contentType
    }

    /// `object` serialised with sorted keys (JSONSerialization types only).
    static func json(_ object: Any, status: Int = 200) -> StandInResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return StandInResponse(status: status, body: Array(data))
    }
}

/// Small helpers the API stand-ins share.
enum StandInJSON {
    /// The body as a JSON object, or `nil` when it is not one.
    static func object(_ body: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// `2026-11-27T01:02:03.456Z`: the timestamp form both vendors' APIs use.
    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(Self.timestampStyle)
    }

    // Made once: a stand-in answer holds up to three timestamps.
    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// `count` random lowercase hex digits, for vendor-side ids.
    static func hexID(_ count: Int) -> String {
        String((0..<count).map { _ in "0123456789abcdef".randomElement()! })
    }
}
