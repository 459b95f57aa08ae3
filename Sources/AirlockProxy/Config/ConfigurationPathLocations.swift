import Synchronization

/// Where in the configuration file each path it names (certificates, keys, CAs, policies, secrets, directories) was
/// written, so `airlock check --config` can point at the line of a file that is missing or unusable.
final class ConfigurationPathLocations: Sendable {
    private let locations = Mutex<[String: (line: Int, column: Int)]>([:])

    /// Keeps the first place a path is named (a certificate shared by two listeners points at the first).
    func record(_ path: String, line: Int?, column: Int?) {
        guard let line else { return }
        self.locations.withLock { locations in
            if locations[path] == nil { locations[path] = (line, column ?? 1) }
        }
    }

    var all: [String: (line: Int, column: Int)] {
        self.locations.withLock { $0 }
    }
}
