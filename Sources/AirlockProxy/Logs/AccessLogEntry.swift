import Logging
import NIOCore

/// The access log line of one request (`info`, message `access`), written when its answer is:
///
///     request, client, vendor, route, decision, status, bytes_in, bytes_out, duration_ms
///
/// Never a value from the request: not its path or query (the route is the configured pattern it matched, `-` for
/// none), not a header, not a body; the client is its `clients:` name, else its address.
struct AccessLogEntry {
    private var started: NIODeadline?
    /// The vendor route pattern the request matched (`POST /v1/task/*`), or the callback path (configured).
    private var route: String?
    private var bytesIn = 0

    /// A request head arrived.
    mutating func begin() {
        self = AccessLogEntry(started: .now())
    }

    mutating func routed(_ route: String?) {
        self.route = route
    }

    mutating func received(bodyBytes: Int) {
        self.bytesIn = bodyBytes
    }

    /// Logs the answer and forgets the request.
    mutating func answered(
        logger: Logger,
        requestID: String?,
        client: EgressClient,
        vendor: String,
        decision: String,
        status: UInt,
        bytesOut: Int
    ) {
        let elapsed = self.started.map { NIODeadline.now() - $0 }
        let entry = self
        self = AccessLogEntry()
        logger.info(
            "access",
            metadata: [
                "airlock.request": "\(requestID ?? "-")",
                "airlock.client": "\(client.name ?? client.address ?? "-")",
                "airlock.vendor": "\(vendor)",
                "airlock.route": "\(entry.route ?? "-")",
                "airlock.decision": "\(decision)",
                "airlock.status": .stringConvertible(status),
                "airlock.bytes_in": .stringConvertible(entry.bytesIn),
                "airlock.bytes_out": .stringConvertible(bytesOut),
                "airlock.duration_ms": .stringConvertible(((elapsed?.nanoseconds ?? 0) / 1000).millisecondsText),
            ]
        )
    }
}

extension Int64 {
    /// Microseconds as milliseconds with three decimals (`12.345`), a number in JSON logs.
    fileprivate var millisecondsText: Double {
        Double(self) / 1000
    }
}
