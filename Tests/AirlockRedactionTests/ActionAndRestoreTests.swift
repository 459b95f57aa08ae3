import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

@Suite struct ActionTests {
    func redactor(_ action: Action) throws -> Redactor {
        try makeRedactor(
            makePolicy(terms: [
                TermRule(id: "codenames", label: "CODENAME", action: action, values: ["Nightingale", "Project Falcon"])
            ])
        )
    }

    @Test func maskKeepsTheCharacterCount() throws {
        #expect(
            forwarded(try redactor(.mask), #"{"t":"a Nightingale b"}"#)
                == "{\"t\":\"a \(String(repeating: "•", count: 11)) b\"}"
        )
    }

    @Test func hashIsLabelAndTwelveHexKeyedAndPerVendor() throws {
        let r = try redactor(.hash)
        let a = try #require(forwarded(r, #"{"t":"Nightingale"}"#, vendor: "scale"))
        let b = try #require(forwarded(r, #"{"t":"NIGHTINGALE"}"#, vendor: "scale"))
        let c = try #require(forwarded(r, #"{"t":"Nightingale"}"#, vendor: "labelbox"))
        #expect(a.range(of: #"^\{"t":"CODENAME_[0-9a-f]{12}"\}$"#, options: .regularExpression) != nil, "\(a)")
        #expect(a == b, "spellings of one term hash alike")
        #expect(a != c, "vendors get unlinkable hashes")
        let otherKey = try Redactor(
            policy: makePolicy(terms: [
                TermRule(id: "codenames", label: "CODENAME", action: .hash, values: ["Nightingale"])
            ]),
            keys: PseudonymKeys(secret: Array(repeating: 9, count: 32))
        )
        #expect(forwarded(otherKey, #"{"t":"Nightingale"}"#, vendor: "scale") != a, "the hash is keyed")
    }

    @Test func pseudonymsAreDeterministicPerVendorAndUnlinkableAcrossVendors() throws {
        let r = try redactor(.pseudonymize)
        let a = try #require(forwarded(r, #"{"t":"Nightingale","u":"Project Falcon"}"#, vendor: "scale"))
        let again = try #require(forwarded(r, #"{"t":"Nightingale","u":"Project Falcon"}"#, vendor: "scale"))
        let other = try #require(forwarded(r, #"{"t":"Nightingale","u":"Project Falcon"}"#, vendor: "labelbox"))
        #expect(
            a.range(of: #"^\{"t":"CODENAME_[A-Z2-7]{5}","u":"CODENAME_[A-Z2-7]{5}"\}$"#, options: .regularExpression)
                != nil,
            "\(a)"
        )
        #expect(a == again)
        #expect(a != other)
        let replica = try Redactor(
            policy: makePolicy(terms: [
                TermRule(
                    id: "codenames",
                    label: "CODENAME",
                    action: .pseudonymize,
                    values: ["Nightingale", "Project Falcon"]
                )
            ]),
            keys: testKeys
        )
        #expect(
            forwarded(replica, #"{"t":"Nightingale","u":"Project Falcon"}"#, vendor: "scale") == a,
            "replicas agree without state"
        )
    }

    /// The policy's own spelling gets the short dictionary token; any other spelling a sealed token of exactly what
    /// was written, the same each time, so identifiers survive the round trip letter for letter.
    @Test func otherSpellingsGetTheirOwnSealedTokenAndRestoreExactly() throws {
        let r = try redactor(.pseudonymize)
        let input = #"{"a":"nightingale-eval-0001","b":"NIGHTINGALE","c":"Night\u200Bingale","d":"project_falcon"}"#
        let sent = try #require(forwarded(r, input, vendor: "scale"))
        #expect(sent == forwarded(r, input, vendor: "scale"), "one spelling, one token")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(sent.utf8)) as? [String: String])
        #expect(!sent.lowercased().contains("nightingale") && !sent.lowercased().contains("falcon"), "\(sent)")
        #expect(object["a"]?.range(of: #"^CODENAME_[A-Z2-7]{26,}-eval-0001$"#, options: .regularExpression) != nil)
        #expect(object["b"] != object["c"] && object["b"]?.hasPrefix("CODENAME_") == true)
        #expect(
            object["c"]?.range(of: #"^CODENAME_[A-Z2-7]{5}$"#, options: .regularExpression) != nil,
            "an invisible character does not make another spelling"
        )
        let restored = try r.restore(
            body: Array(sent.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "scale"
        )
        let back = try #require(try JSONSerialization.jsonObject(with: Data(restored)) as? [String: String])
        #expect(back["a"] == "nightingale-eval-0001")
        #expect(back["b"] == "NIGHTINGALE")
        #expect(back["c"] == "Nightingale")
        #expect(back["d"] == "project_falcon")
    }

    @Test func redactTextHandlesQueryValues() throws {
        let outcome = try redactor(.redact).redactText("q=Nightingale", vendor: "v")
        #expect(outcome.forwardedBody.map { String(decoding: $0, as: UTF8.self) } == "q=[REDACTED:CODENAME]")
    }
}

@Suite struct RestoreTests {
    let redactor: Redactor

    init() throws {
        redactor = try makeRedactor(
            makePolicy(
                terms: [
                    TermRule(
                        id: "codenames",
                        label: "CODENAME",
                        action: .pseudonymize,
                        values: ["Nightingale", "Project Falcon"]
                    )
                ],
                detectors: [DetectorRule(kind: .email, action: .pseudonymize)],
                fields: [FieldRule(path: try JSONPath(parsing: "$..owner"), action: .pseudonymize)]
            )
        )
    }

    @Test func roundTripsTermsPatternsAndFieldsThroughJSON() throws {
        let input = #"{"t":"Nightingale by ana@lab.example.com","u":"project-falcon","owner":"Zoë \"Q\"\n"}"#
        let outcome = redactor.redact(
            body: Array(input.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "scale"
        )
        let body = try #require(outcome.forwardedBody)
        let sent = String(decoding: body, as: UTF8.self)
        #expect(!sent.contains("Nightingale") && !sent.contains("lab.example.com") && !sent.contains("Zoë"))
        #expect(isValidJSON(sent))
        // The vendor answers with the tokens inside its own JSON.
        let restored = try redactor.restore(
            body: body,
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "scale"
        )
        let text = String(decoding: restored, as: UTF8.self)
        #expect(isValidJSON(text), "restored values are JSON-escaped: \(text)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(restored)) as? [String: String])
        #expect(object["t"] == "Nightingale by ana@lab.example.com")
        #expect(object["u"] == "project-falcon", "every spelling restores exactly as the lab wrote it")
        #expect(object["owner"] == "Zoë \"Q\"\n")
    }

    @Test func restoresEmailExactly() throws {
        let outcome = redactor.redact(
            body: Array("mail ana.b@lab.example.com now".utf8),
            contentType: "text/plain",
            contentEncoding: nil,
            vendor: "scale"
        )
        let body = try #require(outcome.forwardedBody)
        #expect(String(decoding: body, as: UTF8.self).hasPrefix("mail EMAIL_"))
        let restored = try redactor.restore(
            body: body,
            contentType: "text/plain",
            contentEncoding: nil,
            vendor: "scale"
        )
        #expect(String(decoding: restored, as: UTF8.self) == "mail ana.b@lab.example.com now")
    }

    @Test func tokensOfAnotherVendorOrTamperedOnesAreLeftAlone() throws {
        let body = try #require(
            redactor.redact(
                body: Array("ana@lab.example.com and Nightingale".utf8),
                contentType: "text/plain",
                contentEncoding: nil,
                vendor: "scale"
            ).forwardedBody
        )
        let foreign = try redactor.restore(
            body: body,
            contentType: "text/plain",
            contentEncoding: nil,
            vendor: "labelbox"
        )
        #expect(foreign == body)
        var tampered = body
        tampered[8] = tampered[8] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let restored = String(
            decoding: try redactor.restore(
                body: tampered,
                contentType: "text/plain",
                contentEncoding: nil,
                vendor: "scale"
            ),
            as: UTF8.self
        )
        #expect(!restored.contains("ana@lab.example.com"))
        #expect(restored.hasSuffix("and Nightingale"))
    }

    @Test func restoresInsideGzip() throws {
        let compressed = Compression.compress(Array(#"{"t":"Nightingale"}"#.utf8), coding: .gzip)
        let body = try #require(
            redactor.redact(body: compressed, contentType: "application/json", contentEncoding: "gzip", vendor: "scale")
                .forwardedBody
        )
        let restored = try redactor.restore(
            body: body,
            contentType: "application/json",
            contentEncoding: "gzip",
            vendor: "scale"
        )
        let plain = try restored.withUnsafeBufferPointer {
            try Compression.decompress($0, coding: .gzip, limits: DecompressionLimits())
        }
        #expect(String(decoding: plain, as: UTF8.self) == #"{"t":"Nightingale"}"#)
    }

    @Test func corruptCompressedResponseThrows() {
        #expect(throws: RedactionError.self) {
            try redactor.restore(
                body: Array("junk".utf8),
                contentType: "application/json",
                contentEncoding: "gzip",
                vendor: "scale"
            )
        }
    }
}

@Suite struct KeyTests {
    func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-key-\(UUID().uuidString)")
        try Data(text.utf8).write(to: url)
        // Key files are readable by their owner only, or refused.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        return url
    }

    @Test func readsAGeneratedKeyFile() throws {
        let url = try write(PseudonymKeys.generateKeyFileContents())
        defer { try? FileManager.default.removeItem(at: url) }
        let keys = try PseudonymKeys(contentsOf: url)
        #expect(keys.secret.count == 32)
    }

    @Test(arguments: ["", "c2hvcnQ=\n", "not base64 at all", "\(Data(count: 32).base64EncodedString())\nextra\n"])
    func rejectsMalformedKeyFiles(_ contents: String) throws {
        let url = try write(contents)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: RedactionError.self) { try PseudonymKeys(contentsOf: url) }
    }

    @Test func missingKeyFileSaysHowToCreateOne() {
        do {
            _ = try PseudonymKeys(contentsOf: URL(fileURLWithPath: "/nonexistent/pseudonym.key"))
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("airlock certs init"))
        }
    }

    @Test func badRegexIsACompileErrorNamingTheRule() {
        do {
            _ = try Redactor(
                policy: makePolicy(patterns: [PatternRule(id: "broken", action: .redact, regex: "(unclosed")]),
                keys: testKeys
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .compile)
            #expect(error.message.contains("broken"))
        }
    }
}
