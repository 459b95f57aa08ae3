import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// Percent-encoded text inside JSON / NDJSON strings and text bodies is matched decoded; what replaces it is
/// percent-encoded again, and everything else leaves byte for byte (issue 11 §5). Every case runs on the C walk and
/// on the Swift reference walker.
@Suite struct PercentEncodedTextTests {
    static let policy = makePolicy(
        terms: [
            TermRule(id: "codenames", label: "CODENAME", action: .redact, values: ["Kestrel Ridge", "Nightingale"]),
            TermRule(id: "models", label: "MODEL", action: .pseudonymize, values: ["Tidewater"]),
        ],
        detectors: [
            DetectorRule(kind: .email, action: .redact, domains: ["lab.example.com"]),
            DetectorRule(kind: .url, action: .redact, hosts: [HostPattern("*.corp.example.com")!]),
            DetectorRule(kind: .secret, action: .block),
        ]
    )

    static func redactors() throws -> [Redactor] {
        [try makeRedactor(policy), try makeRedactor(policy, stringKernel: false)]
    }

    @Test func encodedTermsAndEmailsInJSONStringsAreFound() throws {
        for redactor in try Self.redactors() {
            #expect(
                forwarded(redactor, #"{"q":"project=Kestrel%20Ridge&page=2"}"#)
                    == #"{"q":"project=%5BREDACTED%3ACODENAME%5D&page=2"}"#
            )
            #expect(
                forwarded(redactor, #"{"q":"owner=jane.doe%40lab.example.com"}"#)
                    == #"{"q":"owner=%5BREDACTED%3AEMAIL%5D"}"#
            )
            // An encoded letter (lowercase hex), and a JSON escape spelling the `%`.
            #expect(
                forwarded(redactor, #"{"q":"Night%69ngale"}"#) == #"{"q":"%5BREDACTED%3ACODENAME%5D"}"#
            )
            #expect(
                forwarded(redactor, #"{"q":"a=Kestrel\u002520Ridge"}"#) == #"{"q":"a=%5BREDACTED%3ACODENAME%5D"}"#
            )
            // A pseudonym is written as is (nothing in it needs encoding) and restores.
            let token = forwarded(redactor, #"{"q":"model=Tidewater%21"}"#)
            #expect(token?.hasPrefix(#"{"q":"model=MODEL_"#) == true && token?.hasSuffix(#"%21"}"#) == true)
        }
    }

    @Test func encodedURLsAreReplacedWholeAndEscapesAreNeverSplit() throws {
        for redactor in try Self.redactors() {
            #expect(
                forwarded(redactor, #"{"cb":"next=https%3A%2F%2Fwiki.corp.example.com%2Fpage%3Fid%3D7 then"}"#)
                    == #"{"cb":"next=%5BREDACTED%3AURL%5D then"}"#
            )
            // A URL the policy does not name keeps every escape.
            let publicURL = #"{"u":"https://public.example.org/a%2Fb%20c?next=%2Fhome"}"#
            #expect(forwarded(redactor, publicURL) == publicURL)
            let encodedPublic = #"{"u":"https%3A%2F%2Fpublic.example.org%2Fa"}"#
            #expect(forwarded(redactor, encodedPublic) == encodedPublic)
            // The host right after an escape, in a URL and as plain text.
            let out = forwarded(
                redactor,
                #"{"u":"go%2Fwiki.corp.example.com%2Fx and https://docs.corp.example.com/a%2Fb"}"#
            )
            #expect(out?.contains("%[") == false && out?.contains("%R") == false)
            #expect(out?.contains("corp.example.com") == false)
            #expect(out?.hasPrefix(#"{"u":"go%2F"#) == true)
        }
    }

    /// A careless pipeline encodes twice (`%2520`, `%253A%252F%252F`): decoded up to three levels.
    @Test func doublyEncodedTextIsDecodedToo() throws {
        for redactor in try Self.redactors() {
            #expect(
                forwarded(redactor, #"{"q":"a=Kestrel%2520Ridge&b=Kestrel%252520Ridge"}"#)
                    == #"{"q":"a=%5BREDACTED%3ACODENAME%5D&b=%5BREDACTED%3ACODENAME%5D"}"#
            )
            #expect(
                forwarded(redactor, #"{"r":"next=https%253A%252F%252Fwiki.corp.example.com%252Fa then"}"#)
                    == #"{"r":"next=%5BREDACTED%3AURL%5D then"}"#
            )
            // Four levels is past the limit: left as written (documented).
            let deep = #"{"q":"Kestrel%25252520Ridge"}"#
            #expect(forwarded(redactor, deep) == deep)
        }
    }

    @Test func textAndNDJSONBodiesAreDecodedToo() throws {
        for redactor in try Self.redactors() {
            #expect(
                forwarded(redactor, "ticket: Kestrel%20Ridge, 50% done\n", type: "text/plain")
                    == "ticket: %5BREDACTED%3ACODENAME%5D, 50% done\n"
            )
            #expect(
                forwarded(redactor, "{\"a\":\"Kestrel%20Ridge\"}\n{\"b\":\"ok%20\"}\n", type: "application/x-ndjson")
                    == "{\"a\":\"%5BREDACTED%3ACODENAME%5D\"}\n{\"b\":\"ok%20\"}\n"
            )
        }
    }

    @Test func anEncodedSecretIsBlocked() throws {
        for redactor in try Self.redactors() {
            let outcome = redacted(redactor, #"{"k":"key=-----BEGIN%20RSA%20PRIVATE%20KEY-----"}"#)
            #expect(outcome.blockedRule == "secret")
        }
    }

    @Test func aKeyHoldingEncodedTextLeavesRedactedAndIsNamedSo() throws {
        for redactor in try Self.redactors() {
            let outcome = redacted(redactor, #"{"Kestrel%20Ridge":{"n":"Nightingale"}}"#)
            guard case .forward(let body, let findings) = outcome else {
                Issue.record("expected forward, got \(outcome)")
                continue
            }
            let text = String(decoding: body, as: UTF8.self)
            #expect(text == #"{"%5BREDACTED%3ACODENAME%5D":{"n":"[REDACTED:CODENAME]"}}"#)
            let paths = findings.flatMap(\.paths).joined(separator: " ")
            #expect(!paths.contains("Kestrel") && !paths.contains("Ridge"), "\(paths)")
        }
    }

    /// Controls: nothing changes where nothing matches, whatever the `%`s around.
    @Test func percentSignsThatHideNothingLeaveByteForByte() throws {
        let controls = [
            #"{"t":"50% off, 100%, %zz, %2, %, %%41"}"#,
            #"{"t":"Kestrel%20Point and Ridge%20Kestrel"}"#,
            #"{"t":"bad %FF %C3 %C3%28 byte escapes"}"#,
            #"{"t":"a%2Fb%3Fc%3Dd%26e","n":12.5}"#,
        ]
        for redactor in try Self.redactors() {
            for control in controls { #expect(forwarded(redactor, control) == control) }
        }
    }

    /// Decoding stops at escapes that are not UTF-8 characters, and keeps them as written around a match.
    @Test func undecodableEscapesStayAroundAMatch() throws {
        for redactor in try Self.redactors() {
            #expect(
                forwarded(redactor, #"{"t":"%FFKestrel%20Ridge%C3"}"#) == #"{"t":"%FF%5BREDACTED%3ACODENAME%5D%C3"}"#
            )
            #expect(
                forwarded(redactor, #"{"t":"caf%C3%A9 Kestrel%20Ridge"}"#)
                    == #"{"t":"caf%C3%A9 %5BREDACTED%3ACODENAME%5D"}"#
            )
        }
    }

    /// Strings with escapes and strings with hits, interleaved: both walkers edit each in document order.
    @Test func encodedStringsWithoutHitsInterleaveWithHits() throws {
        let document =
            #"{"a":"Nightingale","b":"Kestrel%20Ridge","c":["x%20y","Nightingale"],"d":"Kestrel%20Ridge"}"#
        let expected =
            #"{"a":"[REDACTED:CODENAME]","b":"%5BREDACTED%3ACODENAME%5D","c":["x%20y","[REDACTED:CODENAME]"],"d":"%5BREDACTED%3ACODENAME%5D"}"#
        for redactor in try Self.redactors() { #expect(forwarded(redactor, document) == expected) }
    }
}
