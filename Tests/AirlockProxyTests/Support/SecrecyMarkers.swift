import Foundation

/// A policy and the markers planted in every place a name can sit, for the tests that grep Airlock's own output
/// (reports, audit records, error bodies, logs) for what the policy hides.
///
/// Each marker is something the policy redacts, pseudonymises or blocks (a codename, a lab email, an internal URL, an
/// AWS access key), or a key of a member the policy drops; each is planted in one place only, so a finding names the
/// channel that leaked it.
enum SecrecyMarkers {
    static let policy = """
        version: 1
        name: secrecy-test
        terms:
          - id: codenames
            label: CODENAME
            action: pseudonymize
            values: [Kestrel, Nightjar, Ptarmigan, Woodcock, Bittern, Merganser, Shoveler, Garganey, Dunlin,
                     Whimbrel, Godwit, Sanderling, Redshank, Greenshank, Dotterel, Avocet, Plover, Lapwing]
        detectors:
          - email: {action: pseudonymize, domains: [lab.example.com]}
          - url: {action: redact, hosts: ["*.corp.example.com"]}
          - secret: {action: block}
        fields:
          - {path: "$.private.*", action: drop}
        content:
          unknown: block
        """

    /// An AWS access key id (the secret detector blocks it), used as a JSON key.
    static let awsKeyAsKey = "AKIAZ7VQ3LR4XK2MB9TW"
    /// An AWS access key id used as a query key.
    static let awsKeyInQuery = "AKIAQ2WX5NB7RT4YP6LE"
    /// A lab email used as a JSON key.
    static let emailKey = "dana.okafor@lab.example.com"
    /// An internal URL used as a JSON key.
    static let urlKey = "https://wiki.corp.example.com/launch-plan"
    /// The key of a member a `drop` rule removes: it names no term, but the member did not leave.
    static let droppedKey = "TurnstoneLedger"

    /// Whether `text` holds a marker, case-insensitively (codenames match in any case); the marker found, or nil.
    static func leaked(_ markers: [String], in text: String) -> String? {
        let lowered = text.lowercased()
        return markers.first { lowered.contains($0.lowercased()) }
    }
}
