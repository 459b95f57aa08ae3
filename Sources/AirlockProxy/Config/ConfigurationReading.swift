import Foundation
import Yams

/// A configuration file read for `airlock check --config`: the configuration (or why it is invalid) and where each
/// file it names was written, so problems with those files can be reported as `file:line:col`.
public struct ConfigurationReading: Sendable {
    public var path: String
    public var result: Result<ProxyConfiguration, ConfigurationError>
    private var locations: [String: (line: Int, column: Int)]

    /// Reads and validates the configuration at `path`, as `airlock serve --config` does.
    public static func read(path: String) -> ConfigurationReading {
        let url = URL(fileURLWithPath: path)
        var parser = ConfigurationParser(file: path, baseDirectory: url.deletingLastPathComponent().path)
        let result: Result<ProxyConfiguration, ConfigurationError>
        do throws(ConfigurationError) {
            result = .success(try parser.parse(ProxyConfiguration.text(of: path)))
        } catch {
            result = .failure(error)
        }
        return ConfigurationReading(path: path, result: result, locations: parser.pathLocations.all)
    }

    /// `file:line:col` of where the configuration names `file`; the configuration file alone for a default path
    /// (one the configuration does not write, such as `Certs/pseudonym.key`).
    public func location(of file: String) -> String {
        guard let place = self.locations[file] else { return self.path }
        return "\(self.path):\(place.line):\(place.column)"
    }

    /// Whether the YAML file at `path` is an Airlock configuration rather than a policy: a mapping with `listen` or
    /// `vendors` and without a policy's `version`. False when it cannot be read or parsed.
    public static func looksLikeConfiguration(path: String) -> Bool {
        guard let text = try? String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8),
            let root = try? Yams.compose(yaml: text), let map = root.mapping
        else { return false }
        let keys = Set(map.keys.compactMap(\.string))
        return !keys.contains("version") && (keys.contains("listen") || keys.contains("vendors"))
    }
}
