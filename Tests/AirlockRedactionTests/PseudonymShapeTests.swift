import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// `pseudonyms: {length: capped, emails: address}`: pseudonyms vendors' field validation accepts, restored as any.
@Suite struct PseudonymShapeTests {
    static let terms = ["Falcon", "Nightingale", "Kite", "Project Falcon"]

    static func policy(
        length: PseudonymOptions.Length = .capped,
        emails: PseudonymOptions.Emails = .address
    )
        -> Policy
    {
        var policy = makePolicy(
            terms: [TermRule(id: "codenames", label: "CODENAME", action: .pseudonymize, values: Self.terms)],
            detectors: [DetectorRule(kind: .email, action: .pseudonymize, domains: ["lab.example.com"])]
        )
        policy.pseudonyms = PseudonymOptions(length: length, emails: emails)
        return policy
    }

    static func redactor(_ policy: Policy = Self.policy(), keys: PseudonymKeys = testKeys) throws -> Redactor {
        try Redactor(policy: policy, keys: keys)
    }

    static func restore(_ redactor: Redactor, _ text: String, vendor: String = "scale") throws -> String {
        String(
            decoding: try redactor.restore(
                body: Array(text.utf8),
                contentType: "application/json",
                contentEncoding: nil,
                vendor: vendor
            ),
            as: UTF8.self
        )
    }

    /// Each term's pseudonym, as the JSON `{"t": term}` leaves.
    static func pseudonym(_ redactor: Redactor, _ term: String, vendor: String = "scale") throws -> String {
        let sent = try #require(forwarded(redactor, #"{"t":"\#(term)"}"#, vendor: vendor))
        let object = try #require(JSONSerialization.jsonObject(with: Data(sent.utf8)) as? [String: String])
        return try #require(object["t"])
    }

    @Test func cappedPseudonymsAreNoLongerThanTheTermAboveTheMinimum() throws {
        let redactor = try Self.redactor()
        let falcon = try Self.pseudonym(redactor, "Falcon")
        let nightingale = try Self.pseudonym(redactor, "Nightingale")
        #expect(falcon.range(of: #"^_[A-Z2-7]{5}$"#, options: .regularExpression) != nil, "\(falcon)")
        #expect(nightingale.range(of: #"^_[A-Z2-7]{8}$"#, options: .regularExpression) != nil, "\(nightingale)")
        // Below the minimum the usual token is used; at or above the usual token's length, it is used anyway.
        #expect(try Self.pseudonym(redactor, "Kite").hasPrefix("CODENAME_"))
        #expect(try Self.pseudonym(redactor, "Project Falcon").hasPrefix("CODENAME_"))
        // A title of 40 characters stays 40 or fewer.
        let title = "Nightingale eval set for Falcon, part 2."
        let sent = try #require(forwarded(redactor, #"{"title":"\#(title)"}"#))
        #expect(sent.count <= #"{"title":""}"#.count + title.count, "\(sent)")
        #expect(try Self.restore(redactor, sent) == #"{"title":"\#(title)"}"#)
        // Off (the default), the usual tokens.
        #expect(try Self.pseudonym(Self.redactor(Self.policy(length: .free)), "Falcon").hasPrefix("CODENAME_"))
    }

    @Test func cappedPseudonymsAreNotConfusedWithOrdinaryText() throws {
        let redactor = try Self.redactor()
        let falcon = try Self.pseudonym(redactor, "Falcon")
        // The token on its own is restored; glued to a word, or with one more base32 character, it is text.
        #expect(try Self.restore(redactor, #"{"a":"(\#(falcon))"}"#) == #"{"a":"(Falcon)"}"#)
        for text in ["x\(falcon)", "\(falcon)A", "\(falcon)_", "_\(falcon)", "_ABCDE", "__init__", "_QQQQQQ"] {
            #expect(try Self.restore(redactor, #"{"a":"\#(text)"}"#) == #"{"a":"\#(text)"}"#, "\(text)")
        }
        // Another vendor's capped pseudonym of the same term is not this vendor's.
        let other = try Self.pseudonym(redactor, "Falcon", vendor: "labelbox")
        #expect(other != falcon)
        #expect(try Self.restore(redactor, #"{"a":"\#(other)"}"#) == #"{"a":"\#(other)"}"#)
    }

    /// A capped token another value already has (in this key, or an older key of the ring) is not used: the value
    /// keeps its usual token, so no token restores to two values.
    @Test func aCappedTokenTakenByAnotherValueFallsBack() throws {
        let rules = try CompiledRules(policy: Self.policy()).rules
        let keys = testKeys.vendorKeys("scale")
        let free = TermTokens.mint(keys: keys, rules: rules, options: PseudonymOptions(length: .capped), taken: [:])
        let falcon = free[0][0]
        #expect(falcon.hasPrefix("_"))
        let taken = TermTokens.mint(
            keys: keys,
            rules: rules,
            options: PseudonymOptions(length: .capped),
            taken: [falcon: "Kestrel"]
        )
        #expect(taken[0][0].hasPrefix("CODENAME_"), "\(taken[0][0])")
        #expect(taken[0][1] == free[0][1])
    }

    @Test func emailPseudonymsAreAddressesAndComeBack() throws {
        let redactor = try Self.redactor()
        let address = try Self.pseudonym(redactor, "jane.doe@lab.example.com")
        #expect(
            address.range(of: #"^email-[a-z2-7]+@([a-z2-7]+\.)*pseudonym\.invalid$"#, options: .regularExpression)
                != nil,
            "\(address)"
        )
        let parts = address.split(separator: "@")
        #expect(parts[0].count <= 64 && address.count <= 254)
        #expect(parts[1].split(separator: ".").allSatisfy { $0.count <= 63 })
        // Restored as written, and as a vendor that lower- or upper-cases addresses writes it.
        for echoed in [address, address.uppercased()] {
            #expect(try Self.restore(redactor, #"{"who":"\#(echoed)"}"#) == #"{"who":"jane.doe@lab.example.com"}"#)
        }
        #expect(
            try Self.restore(redactor, #"{"who":"<\#(address)>, x"}"#) == #"{"who":"<jane.doe@lab.example.com>, x"}"#
        )
        // Another vendor's address, a tampered one, or one glued to more of an address stay as they are.
        let other = try Self.pseudonym(redactor, "jane.doe@lab.example.com", vendor: "labelbox")
        var tampered = Array(address)
        tampered[7] = tampered[7] == "a" ? "b" : "a"
        for text in [other, String(tampered), "x.\(address)"] {
            #expect(try Self.restore(redactor, #"{"who":"\#(text)"}"#) == #"{"who":"\#(text)"}"#, "\(text)")
        }
        // Off, the usual sealed token.
        #expect(
            try Self.pseudonym(Self.redactor(Self.policy(emails: .token)), "jane.doe@lab.example.com")
                .hasPrefix("EMAIL_")
        )
    }

    @Test func thePolicyOptionsAreReadFromTheRootPolicyOnly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-shapes-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func load(_ text: String, include: String? = nil) throws -> Policy {
            if let include {
                try include.write(to: directory.appendingPathComponent("inc.yaml"), atomically: true, encoding: .utf8)
            }
            let path = directory.appendingPathComponent("p.yaml")
            try text.write(to: path, atomically: true, encoding: .utf8)
            return try PolicyLoader.load(path: path.path)
        }
        let policy = try load("version: 1\nname: p\npseudonyms: {length: capped, emails: address}\n")
        #expect(policy.pseudonyms == PseudonymOptions(length: .capped, emails: .address))
        #expect(try load("version: 1\nname: p\n").pseudonyms == PseudonymOptions())
        let bad = #expect(throws: PolicyLoadError.self) {
            try load("version: 1\nname: p\npseudonyms: {length: short}\n")
        }
        #expect("\(String(describing: bad))".contains("p.yaml:3:"), "\(String(describing: bad))")
        #expect(throws: PolicyLoadError.self) {
            try load(
                "version: 1\nname: p\ninclude: [inc.yaml]\n",
                include: "version: 1\nname: i\npseudonyms: {length: capped}\n"
            )
        }
    }
}
