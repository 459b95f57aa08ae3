import AirlockTLS
import NIOCore
import NIOHTTP1

/// Why an exchange with a vendor did not produce a response.
enum UpstreamError: Error {
    /// TCP connect failed (refused, unreachable, DNS).
    case connectFailed(any Error)
    /// The vendor's certificate or pin did not verify, or the handshake failed.
    case tls(TLSError)
    /// The vendor closed the connection before a complete response. `sentOnReusedConnection` marks the race with a
    /// vendor closing an idle keep-alive connection; `receivedResponseBytes` says whether the vendor answered at all.
    case closedBeforeResponse(reusedConnection: Bool, receivedResponseBytes: Bool)
    /// `limits.upstream_timeout_seconds` passed (connecting, handshaking or waiting for the response).
    case timeout
    /// The response body exceeded the limit Airlock buffers.
    case responseTooLarge(limit: Int)
    /// The vendor sent something that is not HTTP/1.1.
    case badResponse
    /// Airlock is shutting down.
    case shuttingDown
    /// The request's target or a header could not be written as HTTP/1.1 without splitting the message.
    case unframeableRequest
    /// The caller withdrew the request when its connection was ready, before a byte was written (the egress
    /// decision could not be recorded).
    case withdrawn

    /// The refusal the lab sees. Messages name the vendor, never request content.
    func refusal(vendor: String) -> EgressRefusal {
        EgressRefusal(self.cause(vendor: vendor))
    }

    private func cause(vendor: String) -> RefusalCause {
        switch self {
        case .connectFailed:
            return .vendorUnreachable(vendor: vendor)
        case .tls(let error):
            switch error.code {
            case .verificationFailed, .pinMismatch:
                return .vendorTLSVerificationFailed(vendor: vendor, detail: "\(error.code)")
            case .uncleanShutdown:
                return .vendorConnectionClosed(vendor: vendor, midResponse: false)
            case .configuration, .handshakeFailed, .internalError:
                return .vendorTLSFailed(vendor: vendor)
            }
        case .closedBeforeResponse:
            return .vendorConnectionClosed(vendor: vendor, midResponse: true)
        case .timeout:
            return .vendorTimeout(vendor: vendor)
        case .responseTooLarge(let limit):
            return .vendorResponseTooLarge(vendor: vendor, limit: limit)
        case .badResponse:
            return .vendorBadResponse(vendor: vendor)
        case .shuttingDown:
            return .shuttingDown
        case .withdrawn:
            // Only the audit seam withdraws a request.
            return .auditUnavailable
        case .unframeableRequest:
            return .requestUnframeable(vendor: vendor)
        }
    }

    /// For a failure to connect or to complete TLS with the vendor: why, for the operator's log (the socket or
    /// OpenSSL error; vendor addresses and certificate problems, never request content). Nil for other failures.
    var operatorDetail: String? {
        switch self {
        case .connectFailed(let error): return "\(error)"
        case .tls(let error): return error.description
        case .closedBeforeResponse, .timeout, .responseTooLarge, .badResponse, .shuttingDown, .unframeableRequest,
            .withdrawn:
            return nil
        }
    }

    /// Short, content-free label for logs and outcome records.
    var label: String {
        switch self {
        case .connectFailed: return "connect_failed"
        case .tls(let error): return "tls_\(error.code)"
        case .closedBeforeResponse: return "closed_before_response"
        case .timeout: return "timeout"
        case .responseTooLarge: return "response_too_large"
        case .badResponse: return "bad_response"
        case .shuttingDown: return "shutting_down"
        case .unframeableRequest: return "request_unframeable"
        case .withdrawn: return "withdrawn"
        }
    }
}

/// A complete vendor response.
struct UpstreamResponse {
    var head: HTTPResponseHead
    var body: ByteBuffer
}

/// A request ready for the wire: head (with `Host` and `Content-Length` already set) and body.
struct UpstreamRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer
}
