import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The policy the built-in demo runs: `Policies/demo.yaml` (with the `secrets.yaml` it includes) of the checkout the
/// `airlock` executable was built in, found from the executable's own path so that the demo runs from any directory;
/// for an executable copied out of its checkout, the embedded copy below, written next to the demo's throwaway
/// certificates. A test keeps the embedded copy equal to the files.
public enum DemoPolicy {
    /// Where the demo's policy was found.
    public enum Source: Equatable, Sendable {
        /// `Policies/demo.yaml` in a directory above the executable.
        case checkout(path: String)
        /// The embedded copy, written to this path.
        case embedded(path: String)

        public var path: String {
            switch self {
            case .checkout(let path), .embedded(let path): path
            }
        }
    }

    /// `Policies/demo.yaml` of the checkout above `executable` (by default the running one), else the embedded copy
    /// written into `directory`.
    public static func resolve(
        executable: String? = DemoPolicy.executablePath,
        writingEmbeddedInto directory: String
    ) throws -> Source {
        if let executable, let path = Self.locate(fromExecutable: executable) {
            return .checkout(path: path)
        }
        for (name, text) in Self.embedded {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        return .embedded(path: directory + "/demo.yaml")
    }

    /// `Policies/demo.yaml` in the nearest directory above `executable` (symbolic links resolved) that has one.
    public static func locate(fromExecutable executable: String) -> String? {
        var directory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        while true {
            let candidate = directory.appendingPathComponent("Policies/demo.yaml").path
            if FileManager.default.isReadableFile(atPath: candidate) { return candidate }
            let parent = directory.deletingLastPathComponent()
            guard parent.path != directory.path else { return nil }
            directory = parent
        }
    }

    /// The running executable, as the kernel knows it (not `argv[0]`, which may be relative or a name on `PATH`).
    public static var executablePath: String? {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        return Bundle.main.executablePath
    }

    /// The files of the embedded copy: `demo.yaml` and the `secrets.yaml` it includes, as in `Policies/`.
    public static let embedded: [(name: String, text: String)] = [
        (
            "demo.yaml",
            """
            # The policy the README demo runs:
            #   airlock redact --policy Policies/demo.yaml --content-type application/json examples/task.json
            # All names are fictional.

            version: 1
            name: demo
            include: [secrets.yaml]                  # secret detector (block) and internal run ids

            terms:
              - id: codenames
                label: CODENAME
                action: pseudonymize
                values: ["Nightingale", "Project Falcon", "Tidewater"]

            patterns:
              - id: roadmap-quarter
                label: ROADMAP
                regex: 'Q[1-4] ?20[0-9]{2}'
                action: redact
                near: [launch, release, ship, GA, roadmap]
                within: 80

            detectors:
              - email: {action: pseudonymize, domains: [lab.example.com]}
              - url: {action: redact, hosts: ["*.corp.example.com"]}

            content:
              unknown: block

            """
        ),
        (
            "secrets.yaml",
            """
            # Secrets policy, included by lab.yaml (and usable on its own).
            # Credentials never leave: any match blocks the whole request.

            version: 1
            name: lab-secrets

            detectors:
              # Private keys, AWS access and secret keys, GitHub, GitLab, Slack, Stripe, Google, OpenAI, Anthropic, npm and
              # Azure credentials, JWTs, bearer tokens, and password=/api_key=/token: assignments of generated-looking values
              # (the list and the rules: Policies/README.md, "What the secret detector matches").
              - secret: {action: block}

            patterns:
              # Internal training run ids, e.g. run-20260114-7f3a9c2e. Hashed so that vendors can group by run without
              # learning anything about our runs.
              - id: internal-run-id
                label: RUN
                regex: 'run-20[0-9]{6}-[0-9a-f]{8}'
                action: hash

              # Cluster job ids, e.g. job/a1b2c3d4e5 on the training cluster.
              - id: cluster-job-id
                label: JOB
                regex: 'job/[0-9a-f]{10}'
                action: redact

            """
        ),
    ]
}
