import Metrics

/// The Airlock build a process runs: `airlock_build_info{version,commit} 1` on `/metrics`, so a dashboard shows
/// which replicas run what after a rollout.
public struct BuildInfo: Sendable, Hashable {
    public var version: String
    /// The git commit (`-dirty` when built from modified sources), or `unknown`.
    public var commit: String

    public init(version: String, commit: String) {
        self.version = version
        self.commit = commit
    }

    func register(in registry: PrometheusRegistry) {
        registry.setHelp("The running Airlock's version and git commit (always 1).", for: "airlock_build_info")
        Gauge(
            label: "airlock_build_info",
            dimensions: [("version", self.version), ("commit", self.commit)],
            factory: registry
        ).record(1)
    }
}
