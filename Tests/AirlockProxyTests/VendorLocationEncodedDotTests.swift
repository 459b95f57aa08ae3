import Foundation
import Testing

@testable import AirlockProxy

/// A vendor `Location` whose dot segments are percent-encoded (`%2e%2e`) reads as a path under the vendor's base
/// path, but any reader that decodes before normalising (the vendor's router, many clients) climbs out of it. Escaped
/// dot segments are normalised like plain ones, and one hidden behind an escaped separator is refused (502
/// `vendor_redirect_refused`), never mapped as is.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct VendorLocationEncodedDotTests {
    static let upstream = UpstreamURL(host: "api.vendor.example", port: 443, basePath: "/api")

    static func map(_ location: String) -> VendorLocation.Mapping {
        VendorLocation.map(
            location,
            upstream: upstream,
            pathPrefix: "/scale",
            vendorPath: "/api/v1/task/x",
            labAuthority: nil
        )
    }

    @Test(arguments: [
        "https://api.vendor.example/api/%2e%2e/admin", "https://api.vendor.example/api/%2E%2E/admin",
        "/api/v1/%2e%2e/%2e%2e/admin", "/api/.%2e/admin", "/api/%2e./admin", "/api/%252e%252e/admin",
        "%2e%2e/%2e%2e/%2e%2e/admin", "/api/..%2f..%2fadmin", "/api/v1/..%5c..%5cadmin", "/api/v1/%2e%2e%2f%2e%2e%2fx",
    ])
    func anEscapedDotSegmentOutOfTheBasePathIsForeign(location: String) {
        #expect(Self.map(location) == .foreign, "\(location)")
    }

    @Test func anEscapedDotSegmentInsideTheBasePathIsNormalised() {
        #expect(Self.map("/api/v1/a/%2e%2e/b") == .mapped("/scale/v1/b"))
        #expect(Self.map("/api/v1/%2e/b") == .mapped("/scale/v1/b"))
        // Ordinary escapes are kept as they came.
        #expect(Self.map("/api/v1/files/a%2Fb.txt") == .mapped("/scale/v1/files/a%2Fb.txt"))
        #expect(Self.map("/api/v1/%2e%2ehidden") == .mapped("/scale/v1/%2e%2ehidden"))
    }

    /// End to end: the vendor answers a redirect hiding dot segments behind escaped separators; the lab (curl) gets
    /// 502 `vendor_redirect_refused` and no Location (the stand-in vendor has no base path, so only a hidden dot
    /// segment is out of bounds).
    @Test func aRedirectWithEncodedDotSegmentsIsRefused() async throws {
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        let harness = try await ProxyHarness(options)
        let location = "https://127.0.0.1:\(harness.vendor.port)/v1/..%2f..%2fadmin/keys"
        harness.vendor.behavior = .redirect(path: "/v1/task/x", status: 302, location: location)
        let raw = try await harness.curl(["-s", "-D", "-", "-d", "{}", harness.url("/scale/v1/task/x")])
        await harness.close()
        #expect(raw.stdout.hasPrefix("HTTP/1.1 502"), "\(raw.stdout)")
        #expect(raw.stdout.contains("vendor_redirect_refused"), "\(raw.stdout)")
        #expect(!raw.stdout.lowercased().contains("location:") && !raw.stdout.contains("admin"), "\(raw.stdout)")
    }
}
