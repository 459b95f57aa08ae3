import AirlockProxy
import AirlockTLS
import Foundation
import Testing

/// The forward listener with real clients on 127.0.0.1: curl `-x`, and a hand-driven client for what curl never does
/// on purpose. Intercepted requests run the vendor's routes and the example lab policy exactly as on the lab
/// listener; everything else fails closed with zero bytes at the vendor.
@Suite(.timeLimit(.minutes(2)))
struct ForwardProxyTests {
    static let body = #"{"instruction": "Summarise the Nightingale eval for Project Falcon", "project": "Tidewater"}"#
    static let bearer = "Bearer \(ForwardHarness.token)"

    /// An intercepted request inside a tunnel to `host`.
    static func task(
        host: String = "api.scale.com",
        path: String = "/v1/task/textcollection",
        close: Bool = true
    ) -> String {
        "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nAuthorization: Basic bGl2ZV90ZXN0X2tleTo=\r\n"
            + "Content-Type: application/json\r\nContent-Length: "
            + "\(Self.body.utf8.count)\r\n\(close ? "Connection: close\r\n" : "")\r\n\(Self.body)"
    }

    @Test func curlThroughTheForwardListenerIsRedactedOutAndRestoredBack() async throws {
        try await ForwardHarness.with() { airlock in
            for auth in [
                ["--proxy-header", "Proxy-Authorization: \(Self.bearer)"], ["-U", "pipeline:\(ForwardHarness.token)"],
            ] {
                let result = try await airlock.curl(
                    auth + [
                        "-u", "live_test_key:", "-H", "Content-Type: application/json", "-d", Self.body,
                        "https://api.scale.com/v1/task/textcollection",
                    ],
                    authenticate: false
                )
                #expect(result.status == 200, "\(result.stderr) \(result.body)")
                // The client reads its own names back (the stand-in echoes the instruction it received).
                #expect(result.body.contains("Nightingale") && result.body.contains("Project Falcon"), "\(result.body)")
            }
            let received = airlock.vendor.requests
            #expect(received.count == 2)
            for request in received {
                #expect(request.uri == "/v1/task/textcollection")
                #expect(!request.bodyText.contains("Nightingale") && !request.bodyText.contains("Tidewater"))
                #expect(request.bodyText.contains("CODENAME_"), "\(request.bodyText)")
                #expect(request.header("host") == "127.0.0.1:\(airlock.vendor.port)")
                #expect(request.header("proxy-authorization") == nil)
            }
            #expect(airlock.connects("intercepted") == 2)
            // The decision is recorded like a lab-listener request, under the vendor and the client.
            let forwarded = airlock.recorder.decisions.filter { $0.decision == .forwarded }
            #expect(
                forwarded.count == 2 && forwarded.allSatisfy { $0.vendor == "scale" && $0.client.name == "pipeline" }
            )
        }
    }

    @Test func unlistedHostIsRefused403NamingTheCauseCountedAndRecorded() async throws {
        try await ForwardHarness.with() { airlock in
            for target in ["www.example.com:443", "127.0.0.1:443", "[::1]:443", "api.scale.com.evil.example:443"] {
                let probe = try await ForwardProbe.run(
                    port: airlock.forwardPort,
                    connect: target,
                    authorization: Self.bearer,
                    ca: airlock.interceptionCAPath
                )
                #expect(probe.connectStatus == 403, "\(target): \(probe.result)")
                #expect(errorCode(Self.body(of: probe.response)) == "host_not_listed", "\(probe.response)")
                #expect(!probe.response.contains("example"), "the host is not echoed")
            }
            let curl = try await airlock.curl(["https://www.example.com/"])
            #expect(curl.exitCode != 0 && curl.stderr.contains("403"), "\(curl.stderr)")
            #expect(airlock.vendor.connectionCount == 0)
            #expect(airlock.connects("host_not_listed") == 5)
            #expect(await eventually { airlock.recordedRefusals("host_not_listed") == 5 })
        }
    }

    @Test func missingOrWrongProxyAuthorizationIs407WithAChallenge() async throws {
        try await ForwardHarness.with() { airlock in
            for authorization in [
                nil, "Bearer not-a-token", "Basic " + Data("pipeline:wrong".utf8).base64EncodedString(), "Digest x",
            ] {
                let probe = try await ForwardProbe.run(
                    port: airlock.forwardPort,
                    connect: "api.scale.com:443",
                    authorization: authorization,
                    ca: airlock.interceptionCAPath
                )
                #expect(probe.connectStatus == 407, "\(probe.result)")
                #expect(probe.response.contains("Proxy-Authenticate: Basic realm=\"airlock\""))
                #expect(errorCode(Self.body(of: probe.response)) == "proxy_authentication_required")
            }
            let curl = try await airlock.curl(["https://api.scale.com/v1/task/x"], authenticate: false)
            #expect(curl.exitCode != 0 && curl.stderr.contains("407"), "\(curl.stderr)")
            // A client not granted the vendor is refused at the CONNECT.
            let other = try await ForwardProbe.run(
                port: airlock.forwardPort,
                connect: "api.scale.com:443",
                authorization: "Bearer \(ForwardHarness.otherToken)",
                ca: airlock.interceptionCAPath
            )
            #expect(other.connectStatus == 403 && errorCode(Self.body(of: other.response)) == "client_not_allowed")
            #expect(airlock.vendor.connectionCount == 0)
            #expect(airlock.connects("proxy_authentication_required") == 5)
        }
    }

    @Test func serverNameOtherThanTheConnectHostFailsTheHandshake() async throws {
        try await ForwardHarness.with() { airlock in
            for sni in ["api.labelbox.com", ""] {
                let probe = try await ForwardProbe.run(
                    port: airlock.forwardPort,
                    connect: "api.scale.com:443",
                    authorization: Self.bearer,
                    ca: airlock.interceptionCAPath,
                    sni: sni,
                    request: Self.task()
                )
                #expect(probe.connectStatus == 200)
                #expect(probe.tlsError != nil, "\(probe.result)")
                #expect(probe.response.isEmpty)
            }
            #expect(airlock.vendor.connectionCount == 0)
        }
    }

    @Test func clientThatDoesNotTrustTheInterceptionCAStops() async throws {
        try await ForwardHarness.with() { airlock in
            let result = try await Curl.run([
                "-x", airlock.proxyURL, "--proxy-header", "Proxy-Authorization: \(Self.bearer)",
                "--cacert", airlock.certificates.caCertificatePath, "-d", Self.body,
                "https://api.scale.com/v1/task/textcollection",
            ])
            #expect(result.exitCode == 60, "\(result.stderr)")
            #expect(airlock.vendor.connectionCount == 0)
        }
    }

    @Test func vendorCertificateThatDoesNotVerifyGetsNothing() async throws {
        try await ForwardHarness.with(.init(vendorCA: "other-ca.crt")) { airlock in
            let result = try await airlock.curl([
                "-u", "live_test_key:", "-H", "Content-Type: application/json", "-d", Self.body,
                "https://api.scale.com/v1/task/textcollection",
            ])
            #expect(
                result.status == 502 && errorCode(result.body) == "vendor_tls_verification_failed",
                "\(result.body)"
            )
            #expect(airlock.vendor.plaintextBytesReceived == 0)
        }
    }

    @Test func proxyRequestsToTheReverseListenerSayWhereTheForwardListenerIs() async throws {
        try await ForwardHarness.with() { airlock in
            for request in [
                "CONNECT api.scale.com:443 HTTP/1.1\r\nHost: api.scale.com:443\r\n\r\n",
                "GET https://api.scale.com/v1/task/x HTTP/1.1\r\nHost: api.scale.com\r\n\r\n",
            ] {
                let probe = try await ForwardProbe.run(
                    port: airlock.listenPort,
                    connect: nil,
                    authorization: nil,
                    ca: "",
                    raw: request,
                    proxyTLSCA: airlock.certificates.caCertificatePath
                )
                #expect(probe.status == 400, "\(probe.result)")
                let body = Self.body(of: probe.response)
                #expect(errorCode(body) == "not_a_forward_proxy", "\(body)")
                #expect(
                    body.contains("this listener is a reverse proxy; use the forward listener at 127.0.0.1:0"),
                    "\(body)"
                )
            }
            // curl pointed at it, as HTTPS_PROXY would be: a refusal, nothing else.
            let curl = try await Curl.run([
                "-x", "https://127.0.0.1:\(airlock.listenPort)", "--proxy-cacert",
                airlock.certificates.caCertificatePath,
                "https://api.scale.com/v1/task/x",
            ])
            #expect(curl.exitCode != 0 && curl.stderr.contains("400"), "\(curl.stderr)")
            #expect(airlock.vendor.connectionCount == 0)
        }
    }

    @Test func plainHTTPProxyRequestsAreRefused() async throws {
        try await ForwardHarness.with() { airlock in
            let result = try await airlock.curl(["-d", Self.body, "http://api.scale.com/v1/task/textcollection"])
            #expect(result.status == 403 && errorCode(result.body) == "plain_http_refused", "\(result.body)")
            #expect(airlock.vendor.connectionCount == 0)
        }
    }

    /// An interception CA whose name constraints leave out a listed host fails the start, naming the host.
    @Test func aCANotPermittingAListedHostFailsTheStart() async throws {
        do {
            let airlock = try await ForwardHarness(.init(caHosts: ["api.labelbox.com"]))
            await airlock.close()
            Issue.record("Airlock started with a CA that cannot vouch for api.scale.com")
        } catch let error as TLSError {
            #expect(error.message.contains("api.scale.com") && error.message.contains("subtree"), "\(error)")
        }
    }

    /// A tunnel is held to the lab listener's request deadlines request by request (its handler sees the deadline
    /// handler): a keep-alive tunnel idle past `request_head_timeout_seconds` between two requests still serves the
    /// second.
    @Test func aKeepAliveTunnelOutlivesTheHeadDeadline() async throws {
        try await ForwardHarness.with(.init(headTimeoutSeconds: 0.3)) { airlock in
            let probe = try await ForwardProbe.run(
                port: airlock.forwardPort,
                connect: "api.scale.com:443",
                authorization: Self.bearer,
                ca: airlock.interceptionCAPath,
                request: Self.task(close: false),
                then: (pause: 1.0, request: Self.task())
            )
            #expect(probe.status == 200, "\(probe.result)")
            #expect(probe.secondResponse.hasPrefix("HTTP/1.1 200"), "\(probe.result)")
            #expect(airlock.vendor.requests.count == 2)
        }
    }

    // MARK: Attacks

    /// Case and a trailing dot name the same host (the leaf and the SNI check use its one spelling); another port
    /// does not.
    @Test func hostSpellingsAndPorts() async throws {
        try await ForwardHarness.with() { airlock in
            for (target, sni) in [("API.Scale.COM:443", "api.scale.com"), ("api.scale.com.:443", "api.scale.com")] {
                let probe = try await ForwardProbe.run(
                    port: airlock.forwardPort,
                    connect: target,
                    authorization: Self.bearer,
                    ca: airlock.interceptionCAPath,
                    sni: sni,
                    request: Self.task()
                )
                #expect(probe.connectStatus == 200 && probe.status == 200, "\(target): \(probe.result)")
            }
            let port = try await ForwardProbe.run(
                port: airlock.forwardPort,
                connect: "api.scale.com:8443",
                authorization: Self.bearer,
                ca: airlock.interceptionCAPath
            )
            #expect(port.connectStatus == 403 && errorCode(Self.body(of: port.response)) == "port_not_allowed")
            #expect(airlock.vendor.requests.count == 2)
            #expect(airlock.vendor.requests.allSatisfy { !$0.bodyText.contains("Nightingale") })
        }
    }

    /// A tunnel opened to one vendor host cannot address another, hold a nested CONNECT, or switch to HTTP/2.
    @Test func whatATunnelCarriesIsTheTunnelHostsHTTP1Only() async throws {
        try await ForwardHarness.with() { airlock in
            func probe(_ request: String, alpn: [String] = ["http/1.1"]) async throws -> ForwardProbe.Outcome {
                try await ForwardProbe.run(
                    port: airlock.forwardPort,
                    connect: "api.scale.com:443",
                    authorization: Self.bearer,
                    ca: airlock.interceptionCAPath,
                    alpn: alpn,
                    request: request
                )
            }
            let otherHost = try await probe(Self.task(host: "api.labelbox.com"))
            #expect(otherHost.status == 421 && errorCode(Self.body(of: otherHost.response)) == "host_mismatch")
            let nested = try await probe("CONNECT api.scale.com:443 HTTP/1.1\r\nHost: api.scale.com:443\r\n\r\n")
            #expect(nested.status == 400 && errorCode(Self.body(of: nested.response)) == "proxy_request_in_tunnel")
            let absolute = try await probe(
                Self.task().replacingOccurrences(of: "POST /v1", with: "POST https://api.scale.com/v1")
            )
            #expect(absolute.status == 400, "\(absolute.response)")
            #expect(airlock.vendor.requests.isEmpty)
            // HTTP/2 offered: Airlock picks HTTP/1.1, and the request is inspected like any other.
            let h2 = try await probe(Self.task(), alpn: ["h2", "http/1.1"])
            #expect(h2.alpn == "http/1.1" && h2.status == 200, "\(h2.result)")
            let h2Only = try await probe("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", alpn: ["h2"])
            #expect(h2Only.alpn == nil && h2Only.status == 400, "\(h2Only.result)")
            #expect(airlock.vendor.requests.count == 1)
            #expect(airlock.vendor.requests.allSatisfy { !$0.bodyText.contains("Nightingale") })
        }
    }

    /// Bytes sent after the CONNECT, before its 200, go to Airlock's own TLS server and nowhere else: a plaintext
    /// request there fails the handshake, and the vendor gets nothing.
    @Test func bytesPipelinedBehindTheConnectNeverReachTheVendor() async throws {
        try await ForwardHarness.with() { airlock in
            let probe = try await ForwardProbe.run(
                port: airlock.forwardPort,
                connect: "api.scale.com:443",
                authorization: Self.bearer,
                ca: airlock.interceptionCAPath,
                early: Self.task()
            )
            #expect(probe.connectStatus == 200, "\(probe.result)")
            #expect(probe.tlsError != nil, "\(probe.result)")
            #expect(airlock.vendor.connectionCount == 0)
        }
    }

    @Test func clientsSpeakingTLSToTheProxyItself() async throws {
        try await ForwardHarness.with(.init(proxyTLS: true)) { airlock in
            let result = try await Curl.run([
                "-x", "https://127.0.0.1:\(airlock.forwardPort)", "--proxy-cacert",
                airlock.certificates.caCertificatePath,
                "--proxy-header", "Proxy-Authorization: \(Self.bearer)", "--cacert", airlock.interceptionCAPath,
                "-u", "live_test_key:", "-H", "Content-Type: application/json", "-d", Self.body,
                "https://api.scale.com/v1/task/textcollection",
            ])
            #expect(result.status == 200 && result.body.contains("Nightingale"), "\(result.stderr) \(result.body)")
            #expect(airlock.vendor.requests.count == 1 && !airlock.vendor.requests[0].bodyText.contains("Nightingale"))
        }
    }

    /// The body after the response head.
    static func body(of response: String) -> String {
        guard let range = response.range(of: "\r\n\r\n") else { return "" }
        return String(response[range.upperBound...])
    }
}
