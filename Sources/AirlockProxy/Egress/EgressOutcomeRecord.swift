/// How a forwarded request ended.
public struct EgressOutcomeRecord: Sendable {
    public var requestID: String
    public var vendor: String
    /// The vendor's status, or nil when no response came (then `error` says why).
    public var vendorStatus: Int?
    public var error: String?
    public var durationNanoseconds: Int64
    public var responseBytes: Int

    public init(
        requestID: String,
        vendor: String,
        vendorStatus: Int?,
        error: String?,
        durationNanoseconds: Int64,
        responseBytes: Int
    ) {
        self.requestID = requestID
        self.vendor = vendor
        self.vendorStatus = vendorStatus
        self.error = error
        self.durationNanoseconds = durationNanoseconds
        self.responseBytes = responseBytes
    }
}
