import AirlockPolicy
import Testing

@testable import AirlockRedaction

/// The `ip` detector where addresses sit in URLs, with ports, in brackets and inside IPv6 addresses
/// (`AddressSpan`), and the runs of digits, dots and colons that are not addresses.
@Suite struct AddressDetectorTests {
    static let everyAddress = try! makeRedactor(makePolicy(detectors: [DetectorRule(kind: .ip, action: .redact)]))
    static let privateRanges = try! makeRedactor(
        makePolicy(detectors: [
            DetectorRule(
                kind: .ip,
                action: .redact,
                ranges: [try! CIDRRange(parsing: "10.0.0.0/8"), try! CIDRRange(parsing: "fd00::/8")]
            )
        ])
    )

    @Test(arguments: [
        ("10.0.0.5:8080", "[REDACTED:IP]:8080"),
        ("http://192.168.1.20:6379/", "http://[REDACTED:IP]:6379/"),
        ("tcp://10.1.2.3:9000", "tcp://[REDACTED:IP]:9000"),
        ("redis 10.1.2.3:6379, then", "redis [REDACTED:IP]:6379, then"),
        ("[fd00::1]:8443", "[[REDACTED:IP]]:8443"),
        ("https://[fd00::1]:8443/x", "https://[[REDACTED:IP]]:8443/x"),
        ("ip:10.0.0.5", "ip:[REDACTED:IP]"),
        ("::ffff:10.0.0.5", "[REDACTED:IP]"),
        ("mapped ::ffff:10.0.0.5:80 here", "mapped [REDACTED:IP]:80 here"),
        ("host 10.0.0.5: down", "host [REDACTED:IP]: down"),
    ])
    func addressesWithPortsAndPrefixesAreRedacted(_ input: String, _ expected: String) {
        #expect(forwarded(Self.everyAddress, input, type: "text/plain") == expected)
        #expect(forwarded(Self.everyAddress, #"{"t":"\#(input)"}"#) == #"{"t":"\#(expected)"}"#)
    }

    @Test func rangesSeeTheAddressNotThePort() {
        #expect(
            forwarded(Self.privateRanges, "10.0.0.5:8080 8.8.8.8:53 [fd00::1]:8443 ::ffff:10.9.9.9", type: "text/plain")
                == "[REDACTED:IP]:8080 8.8.8.8:53 [[REDACTED:IP]]:8443 [REDACTED:IP]"
        )
    }

    @Test(arguments: [
        "version 1.2.3.4.5", "at 10:30:00", "a1.2.3.4", "1.2.3.4b", "v1.2.3.4", "1.2.3.4.x9", "fe80::1x",
    ])
    func runsThatAreNotAnAddressStay(_ input: String) {
        #expect(forwarded(Self.everyAddress, input, type: "text/plain") == input)
    }
}
