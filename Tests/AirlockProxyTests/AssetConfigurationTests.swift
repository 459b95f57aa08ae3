import AirlockPolicy
import AirlockProxy
import Foundation
import Testing

/// `assets:`: the documented contract, its defaults, and errors that point at the offending value.
struct AssetConfigurationTests {
    static let base = ConfigurationTests.valid + "\npseudonym_key: Certs/pseudonym.key\n"
    static let assets = """
        assets:
          public_url: https://assets.airlock.example.com
          listen: {address: 0.0.0.0:8444, tls: {certificate: Certs/assets.crt, key: Certs/assets.key}}
          internal_hosts: ["*.corp.example.com"]
          sources:
            - url: https://files.corp.example.com/datasets/
            - url: gs://lab-data/
            - url: s3://lab-raw/shots/
              fetch_from: https://s3-gateway.corp.example.com/lab-raw/shots/
            - presigned: s3
              buckets: [lab-raw]
            - presigned: gcs
          addresses: [10.0.0.0/8]
          ca: Certs/internal-ca.pem
          max_bytes: 1048576
          timeout_seconds: 10
          keys: {scale: [attachment, image_url]}
        """

    @Test func parsesTheDocumentedSection() throws {
        let config = try ProxyConfiguration.parse(
            yaml: Self.base + Self.assets,
            file: "a.yaml",
            baseDirectory: "/etc/airlock"
        )
        let assets = try #require(config.assets)
        #expect(assets.publicURL.description == "https://assets.airlock.example.com")
        #expect(assets.listen.address.port == 8444)
        #expect(assets.tokenLifetimeSeconds == 86_400)
        #expect(assets.maxBytes == 1_048_576 && assets.timeoutSeconds == 10)
        #expect(assets.revocationsPath == "/etc/airlock/airlock-data/asset-revocations")
        #expect(assets.addresses.map(\.description) == ["10.0.0.0/8"])
        #expect(assets.fieldKeys["scale"] == ["attachment", "image_url"])
        #expect(assets.sources.count == 5)
        guard case .prefix(let gcs, let fetchFrom) = assets.sources[1] else {
            Issue.record("gs:// is a prefix source")
            return
        }
        #expect(gcs.description == "gs://lab-data/")
        #expect(fetchFrom.description == "https://storage.googleapis.com/lab-data/")
        #expect(assets.sources[3] == .presigned(.s3, buckets: ["lab-raw"]))
    }

    @Test func errorsPointAtTheValue() throws {
        let cases: [(String, String, String)] = [
            ("url: ftp://files/x/", "ftp://", "must use https, gs or s3"),
            ("presigned: azure", "azure", "must be s3 or gcs"),
            ("url: https://files.corp.example.com/a/../b/", "/a/../b/", "must not hold . or .. segments"),
            ("url: gs://lab-*/", "gs://lab-*", "names one bucket"),
        ]
        for (source, marker, message) in cases {
            let yaml = Self.base + Self.assets.replacingOccurrences(of: "    - presigned: gcs", with: "    - " + source)
            do {
                _ = try ProxyConfiguration.parse(yaml: yaml, file: "a.yaml", baseDirectory: "/tmp")
                Issue.record("\(source) was accepted")
            } catch {
                let line = yaml.split(separator: "\n", omittingEmptySubsequences: false)
                    .firstIndex { $0.contains(marker) }.map { $0 + 1 }
                #expect(error.description.contains(message), "\(error)")
                #expect(error.line == line, "\(error)")
                #expect(error.description.hasPrefix("a.yaml:"), "\(error)")
            }
        }
        #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration.parse(
                yaml: Self.base + Self.assets.replacingOccurrences(of: "0.0.0.0:8444", with: "127.0.0.1:8443"),
                baseDirectory: "/tmp"
            )
        }
        #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration.parse(
                yaml: Self.base + Self.assets.replacingOccurrences(of: "keys: {scale:", with: "keys: {nobody:"),
                baseDirectory: "/tmp"
            )
        }
    }
}
