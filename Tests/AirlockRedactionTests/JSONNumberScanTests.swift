import AirlockPolicy
import CAirlockSIMD
import Foundation
import Testing

@testable import AirlockRedaction

/// JSON numbers are scanned as their literal text, like strings: a rule that matches digits applies to an unquoted
/// run ID or account number too. `block` refuses the request; a redacting action turns the number into a JSON string
/// holding the redacted text; a number without a hit stays byte for byte. Both JSON walkers (the Swift one and the
/// whole-document C walk) agree.
@Suite struct JSONNumberScanTests {
    static func policy(_ action: Action) -> Policy {
        makePolicy(
            terms: [TermRule(id: "accounts", label: "ACCOUNT", action: action, values: ["31337"])],
            patterns: [PatternRule(id: "run-id", label: "RUN", action: action, regex: #"8812\d{4}"#)]
        )
    }

    static func redactors(_ action: Action) throws -> (fast: Redactor, reference: Redactor) {
        (try makeRedactor(policy(action)), try makeRedactor(policy(action), stringKernel: false))
    }

    /// Forwards `input` through both engines (which must agree) and returns the body and the findings.
    func forwardedByBoth(
        _ action: Action,
        _ input: String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws -> (body: String, findings: [Finding]) {
        let (fast, reference) = try Self.redactors(action)
        let outcome = compareEngines(fast, reference, Array(input.utf8), input, sourceLocation: sourceLocation)
        guard case .forward(let body, let findings) = outcome else {
            Issue.record("expected forward, got \(outcome)", sourceLocation: sourceLocation)
            return ("", [])
        }
        return (String(decoding: body, as: UTF8.self), findings)
    }

    @Test func aBlockRuleMatchingANumberBlocksTheRequest() throws {
        let (fast, reference) = try Self.redactors(.block)
        for input in [
            #"{"n": 88123456}"#, #"{"a":[1,2,{"n":1188123456}]}"#, "88123456", #"[-88123456]"#, #"{"n":31337}"#,
        ] {
            for redactor in [fast, reference] {
                let outcome = redacted(redactor, input)
                #expect(outcome.blockedRule != nil, "\(input): \(outcome)")
                #expect(outcome.forwardedBody == nil)
            }
        }
        let outcome = redacted(fast, #"{"n": 88123456}"#)
        #expect(outcome.blockedRule == "run-id")
        #expect(outcome.findings.first?.paths == ["$.n"])
        if case .block(_, let reason, _) = outcome {
            #expect(!reason.contains("88123456"), "nothing of the value in the reason: \(reason)")
        }
    }

    @Test func redactTurnsANumberWithAHitIntoAString() throws {
        let (body, findings) = try forwardedByBoth(.redact, #"{"n": 88123456, "m": 1188123456, "k": 7}"#)
        #expect(body == #"{"n": "[REDACTED:RUN]", "m": "11[REDACTED:RUN]", "k": 7}"#)
        #expect(isValidJSON(body))
        #expect(findings.count == 1 && findings.first?.rule == "run-id" && findings.first?.count == 2)
        #expect(findings.first?.paths.sorted() == ["$.m", "$.n"])
        let (term, _) = try forwardedByBoth(.redact, #"[31337,7]"#)
        #expect(term == #"["[REDACTED:ACCOUNT]",7]"#, "terms match in numbers too")
    }

    @Test func negativeDecimalAndExponentNumbersAreScannedAsWritten() throws {
        let cases: [(String, String)] = [
            (#"{"n":-88123456}"#, #"{"n":"-[REDACTED:RUN]"}"#),
            (#"{"n":3.88123456}"#, #"{"n":"3.[REDACTED:RUN]"}"#),
            (#"{"n":88123456.25}"#, #"{"n":"[REDACTED:RUN].25"}"#),
            (#"{"n":1E88123456}"#, #"{"n":"1E[REDACTED:RUN]"}"#),
            (#"{"n":88123456e-3}"#, #"{"n":"[REDACTED:RUN]e-3"}"#),
            (#"{"n":-0.5e+88123456}"#, #"{"n":"-0.5e+[REDACTED:RUN]"}"#),
            ("88123456", #""[REDACTED:RUN]""#),
            (" [ 88123456 , 1 ] ", #" [ "[REDACTED:RUN]" , 1 ] "#),
        ]
        for (input, expected) in cases {
            let (body, _) = try forwardedByBoth(.redact, input)
            #expect(body == expected, "\(input)")
            #expect(isValidJSON(body), "\(body)")
        }
    }

    @Test func numbersWithoutAHitStayByteIdentical() throws {
        let input = #"{"a": 0, "b": -12.5e+3, "c": [1, 2.0, 3E7, 8812345, 88123], "d": 9007199254740993, "e": 1e-7}"#
        let (fast, reference) = try Self.redactors(.redact)
        for redactor in [fast, reference] {
            let outcome = redacted(redactor, input)
            guard case .forward(let body, let findings) = outcome else {
                Issue.record("expected forward, got \(outcome)")
                continue
            }
            #expect(body == Array(input.utf8))
            #expect(findings.isEmpty)
        }
        #expect(try kernelWalkFinishes(fast, Array(input.utf8)), "a plain document stays on the C walk")
    }

    @Test func pseudonymizedNumbersBecomeStringsAndRestoreToTheOriginalDigits() throws {
        let (fast, _) = try Self.redactors(.pseudonymize)
        let input = #"{"n":88123456,"t":31337,"s":"run 88123456"}"#
        let (body, findings) = try forwardedByBoth(.pseudonymize, input)
        #expect(!body.contains("88123456") && !body.contains("31337"), "\(body)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String])
        #expect(object["n"]?.hasPrefix("RUN_") == true, "\(body)")
        #expect(object["t"]?.hasPrefix("ACCOUNT_") == true, "\(body)")
        #expect(findings.contains { $0.rule == "run-id" && $0.paths.contains("$.n") })
        let restored = try fast.restore(
            body: Array(body.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "scale"
        )
        let back = try #require(try JSONSerialization.jsonObject(with: Data(restored)) as? [String: String])
        // The type changed on the way out; the digits come back inside a string.
        #expect(back == ["n": "88123456", "t": "31337", "s": "run 88123456"])
    }

    @Test func maskAndHashAlsoTurnTheNumberIntoAString() throws {
        let (masked, _) = try forwardedByBoth(.mask, #"{"n":1188123456}"#)
        #expect(masked == #"{"n":"11••••••••"}"#)
        let (hashed, _) = try forwardedByBoth(.hash, #"{"n":88123456}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(hashed.utf8)) as? [String: String])
        #expect(object["n"]?.hasPrefix("RUN_") == true && !hashed.contains("88123456"), "\(hashed)")
    }

    @Test func numbersInsideJSONDocumentsInStringsAreScanned() throws {
        let (body, findings) = try forwardedByBoth(.redact, #"{"row_data":"{\"n\":88123456,\"k\":[1,2]}"}"#)
        #expect(body == #"{"row_data":"{\"n\":\"[REDACTED:RUN]\",\"k\":[1,2]}"}"#)
        #expect(findings.first?.paths == ["$.row_data.n"])
        let (fast, reference) = try Self.redactors(.block)
        let input = Array(#"{"row_data":"[{\"n\":88123456}]"}"#.utf8)
        #expect(compareEngines(fast, reference, input, "nested block").blockedRule == "run-id")
    }

    @Test func ndjsonLinesAndJSONPartsOfMultipartAreScanned() throws {
        let (fast, _) = try Self.redactors(.redact)
        let ndjson = forwarded(fast, "{\"n\":88123456}\n{\"n\":1}\n", type: "application/x-ndjson")
        #expect(ndjson == "{\"n\":\"[REDACTED:RUN]\"}\n{\"n\":1}\n")
        let body = OtherFormatTests.multipart([
            ("Content-Disposition: form-data; name=\"operations\"", #"{"variables":{"run":88123456}}"#)
        ])
        let outcome = redacted(fast, String(decoding: body, as: UTF8.self), type: "multipart/form-data; boundary=XyZ")
        let out = try #require(outcome.forwardedBody.map { String(decoding: $0, as: UTF8.self) })
        #expect(out.contains(#"{"variables":{"run":"[REDACTED:RUN]"}}"#), "\(out)")
        #expect(outcome.findings.first?.paths.contains("$.operations.variables.run") == true)
    }

    /// `fields` rules select numeric values as before: the field rule decides, the value is not scanned again.
    @Test func fieldRulesOnNumericValuesStillApply() throws {
        let policy = makePolicy(
            patterns: [PatternRule(id: "run-id", label: "RUN", action: .block, regex: #"8812\d{4}"#)],
            fields: [
                FieldRule(path: try JSONPath(parsing: "$..run_id"), action: .hash),
                FieldRule(path: try JSONPath(parsing: "$..internal"), action: .drop),
            ]
        )
        let fast = try makeRedactor(policy)
        let reference = try makeRedactor(policy, stringKernel: false)
        let input = #"{"run_id":88123456,"internal":88123456,"k":5}"#
        guard case .forward(let body, _) = compareEngines(fast, reference, Array(input.utf8), input) else {
            Issue.record("expected forward")
            return
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["run_id"] is String, "hashed as a field")
        #expect(object["internal"] == nil && object["k"] as? Int == 5)
        #expect(!String(decoding: body, as: UTF8.self).contains("88123456"))
    }

    /// The C walk finishes documents with numbers itself, and edits them exactly as the Swift walker does.
    @Test func theCWalkAndTheSwiftWalkerAgreeOnNumbers() throws {
        let numbers = [
            "0", "-0", "88123456", "-88123456", "1188123456", "88123456.5", "1.88123456", "1e88123456",
            "88123456E+2", "-0.0e-0", "31337", "7", "9007199254740993", "881234568812345688123456",
        ]
        var g = TestGenerator(state: 0x0DDB_A11C_0FFE_E123)
        for action in [Action.redact, .pseudonymize, .mask, .hash, .block] {
            let (fast, reference) = try Self.redactors(action)
            var changed = 0
            for round in 0..<300 {
                var parts: [String] = []
                for k in 0..<(1 + g.below(6)) {
                    let number = numbers[g.below(numbers.count)]
                    switch g.below(4) {
                    case 0: parts.append(#""k\#(k)":\#(number)"#)
                    case 1: parts.append(#""k\#(k)":[\#(number), "s", \#(number)]"#)
                    case 2: parts.append(#""k\#(k)":{"x":\#(number)}"#)
                    default: parts.append(#""k\#(k)":"run \#(number)""#)
                    }
                }
                let document = Array(("{" + parts.joined(separator: ",") + "}").utf8)
                #expect(try kernelWalkFinishes(fast, document), "round \(round)")
                if case .forward(let body, _) = compareEngines(fast, reference, document, "round \(round)"),
                    body != document
                {
                    changed += 1
                    #expect(isValidJSON(String(decoding: body, as: UTF8.self)))
                }
            }
            if action != .block { #expect(changed > 100, "\(action): numbers with hits should be edited") }
        }
    }

    /// A number shorter than the policy's shortest possible match cannot hold one, so it is not collected: an array
    /// of small numbers costs no segment and no path node per element (32 MiB of `[0,0,…]` would otherwise hold
    /// ~16 million of each in memory for one request).
    @Test func numbersTooShortForAnyMatchAreNotCollected() throws {
        let rules = try CompiledRules(policy: Self.policy(.redact))
        #expect(rules.shortestMatch == 5)  // "31337"; the run-id pattern needs 8
        let document = Array(#"[1,22,333,4444,-5555,{"k":12345},66666]"#.utf8)
        var options = CAirlockSIMD_JSONWalkOptions(
            field_key_lengths: 0,
            field_key_bytes: nil,
            field_key_counts: nil,
            field_key_count: 0,
            nested_allowed: 1,
            max_depth: 512,
            min_number_length: UInt32(rules.shortestMatch)
        )
        var text = [UInt8](repeating: 0, count: document.count + 17)
        var segments = [CAirlockSIMD_JSONSegment](repeating: CAirlockSIMD_JSONSegment(), count: 16)
        var nodes = [CAirlockSIMD_JSONNode](repeating: CAirlockSIMD_JSONNode(), count: 16)
        var (textCount, segmentCount, nodeCount) = (0, 0, 0)
        let status = document.withUnsafeBufferPointer { p in
            CAirlockSIMD_json_walk(
                p.baseAddress!,
                p.count,
                &options,
                &text,
                &textCount,
                &segments,
                16,
                &segmentCount,
                &nodes,
                16,
                &nodeCount
            )
        }
        #expect(status == CAIRLOCK_WALK_DONE)
        // Collected: -5555 (5 bytes), the key k, 12345, 66666; not 1, 22, 333, 4444.
        let collected = segments[..<segmentCount].map {
            String(decoding: document[Int($0.raw_start)..<Int($0.raw_end)], as: UTF8.self)
        }
        #expect(collected == ["-5555", "k", "12345", "66666"])
        // Path nodes: elements 4, 5 (the object) and 6, and the key k; none for the short numbers.
        #expect(nodeCount == 4)
        #expect(String(decoding: text[..<textCount], as: UTF8.self) == "-5555\nk\n12345\n66666\n")

        // The engines still agree, and a term exactly as long as the shortest match is found in a number.
        let (body, findings) = try forwardedByBoth(.redact, #"{"a":[1,22,333,4444,31337],"b":-31337}"#)
        #expect(body == #"{"a":[1,22,333,4444,"[REDACTED:ACCOUNT]"],"b":"-[REDACTED:ACCOUNT]"}"#)
        #expect(findings.map(\.rule) == ["accounts"])
    }
}
