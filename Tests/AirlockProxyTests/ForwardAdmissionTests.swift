import Foundation
import NIOHTTP1
import Testing

@testable import AirlockProxy

/// The forward listener's head-only decisions, without sockets: the CONNECT target's one spelling, the forms of
/// `Proxy-Authorization`, and the order of the checks (who asks before where to).
struct ForwardAdmissionTests {
    @Test(arguments: [
        ("api.scale.com:443", ConnectTarget.Parsed.target(ConnectTarget(host: "api.scale.com", port: 443))),
        ("API.Scale.COM.:443", .target(ConnectTarget(host: "api.scale.com", port: 443))),
        ("api.scale.com:8443", .refused(.forwardPortNotAllowed(port: 8443))),
        ("127.0.0.1:443", .refused(.forwardHostNotListed)),
        ("[::1]:443", .refused(.forwardHostNotListed)),
        ("0x7f000001:443", .refused(.forwardHostNotListed)),
        ("api..scale.com:443", .refused(.forwardHostNotListed)),
        ("api.scale.com", .refused(.badRequest("a CONNECT target must be host:port, e.g. api.scale.com:443"))),
        ("api.scale.com:+443", .refused(.badRequest("a CONNECT target must be host:port, e.g. api.scale.com:443"))),
    ])
    func connectTargets(uri: String, expected: ConnectTarget.Parsed) {
        #expect(ConnectTarget.parse(uri) == expected)
    }

    @Test func proxyAuthorizationForms() {
        func token(_ values: [String]) -> ProxyAuthorization.Credentials {
            ProxyAuthorization.token(HTTPHeaders(values.map { ("Proxy-Authorization", $0) }))
        }
        func basic(_ text: String) -> String { "Basic " + Array(text.utf8).base64 }
        #expect(token(["Bearer abc"]) == .token("abc"))
        #expect(token(["bearer   abc  "]) == .token("abc"))
        #expect(token([basic("pipeline:abc")]) == .token("abc"))
        #expect(token([basic("abc:")]) == .token("abc"))
        for refused in [[], ["Bearer"], ["Digest abc"], [basic("no-colon")], [basic(":")], ["Bearer a", "Bearer b"]] {
            guard case .refused(.proxyAuthenticationRequired) = token(refused) else {
                Issue.record("\(refused) was accepted")
                continue
            }
        }
    }

    @Test func whoAsksIsSettledBeforeWhereTo() {
        let hosts = ForwardHosts(vendors: [Self.vendor("scale", hosts: ["api.scale.com"])])
        func decide(_ uri: String, _ headers: HTTPHeaders, method: HTTPMethod = .CONNECT) -> ConnectAdmission.Decision {
            ConnectAdmission.decide(
                HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers),
                hosts: hosts,
                identify: { $0 == "good" ? 0 : nil },
                clientMayUse: { client, _ in client == 0 },
                names: { _, _ in ("pipeline", "scale") }
            )
        }
        let good: HTTPHeaders = ["Proxy-Authorization": "Bearer good"]
        #expect(decide("api.scale.com:443", good) == .intercept(vendorIndex: 0, host: "api.scale.com", client: 0))
        // Without a token, an unlisted host and a listed one get the same answer: nothing is learnt.
        for uri in ["www.example.com:443", "api.scale.com:443"] {
            guard case .refuse(.proxyAuthenticationRequired, nil, nil) = decide(uri, [:]) else {
                Issue.record("\(uri) without a token")
                continue
            }
        }
        #expect(decide("www.example.com:443", good) == .refuse(.forwardHostNotListed, vendorIndex: nil, client: 0))
        #expect(
            decide("http://api.scale.com/x", good, method: .GET)
                == .refuse(.plainHTTPProxyRefused, vendorIndex: nil, client: nil)
        )
        var withBody = good
        withBody.add(name: "Content-Length", value: "5")
        guard case .refuse(.badRequest, nil, 0) = decide("api.scale.com:443", withBody) else {
            Issue.record("a CONNECT with a body was accepted")
            return
        }
    }

    static func vendor(_ name: String, hosts: [String]) -> ProxyConfiguration.Vendor {
        var vendor = ProxyConfiguration.Vendor(
            name: name,
            pathPrefix: "/\(name)",
            upstream: UpstreamURL(host: hosts[0]),
            routes: []
        )
        vendor.hosts = hosts
        return vendor
    }
}

extension Array where Element == UInt8 {
    fileprivate var base64: String { Data(self).base64EncodedString() }
}
