import AirlockAudit
import AirlockPolicy
import AirlockRedaction
import Foundation
import Logging

/// Everything a configuration needs at the proxy's seams: each vendor's compiled policy, and the audit log.
///
/// Preparing is slow (YAML, Vectorscan compilation, opening and recovering the log): do it before starting the
/// listeners, off any event loop. Close it after the proxy has stopped, so the log ends with a signed checkpoint.
public struct EgressSetup: Sendable {
    public let inspector: ReloadableInspector
    public let recorder: any EgressRecorder
    public let auditLog: AuditLog?
    /// Watches the audit directory's disk while the log is open (nil when the log is off).
    public let auditSpace: AuditSpaceGuard?
    /// Vendor name -> `name@sha256:…` of its policy (`none` for `policy: none`).
    public let policyVersions: [String: String]
    /// The configuration file and every policy file behind it, as loaded.
    public let sourceFiles: [String]

    /// Loads and compiles every vendor's policy and opens the audit log.
    ///
    /// - Parameter keys: the pseudonym keys; when nil they are read from the configuration's `pseudonym_key`.
    /// - Throws: ``EgressSetupError`` naming the file and the problem; nothing has been started then.
    public static func prepare(
        _ configuration: ProxyConfiguration,
        keys: PseudonymKeys? = nil,
        logger: Logger
    ) async throws(EgressSetupError) -> EgressSetup {
        let compiled = try Self.compile(configuration, keys: keys)
        for problem in compiled.candidateProblems {
            logger.warning(
                "candidate policy ignored (enforcement unchanged)",
                metadata: ["airlock.candidate": "\(problem)"]
            )
        }
        var auditLog: AuditLog?
        var auditSpace: AuditSpaceGuard?
        var recorder: any EgressRecorder = NoOpRecorder()
        if let audit = configuration.audit, audit.enabled {
            do {
                var settings = audit.log
                settings.replica = configuration.replicaID
                let log = try await AuditLog.open(settings)
                auditLog = log
                let space = AuditSpaceGuard(
                    directory: audit.log.directory,
                    thresholds: AuditSpaceGuard.Thresholds(
                        minFreeBytes: audit.minFreeBytes,
                        maxDirectoryBytes: audit.maxDirectoryBytes
                    )
                )
                space.start()
                if let problem = space.problem {
                    logger.error(
                        "audit log unavailable: requests are refused until there is room",
                        metadata: ["airlock.audit.problem": "\(problem)"]
                    )
                }
                auditSpace = space
                recorder = AuditRecorder(log: log, space: space)
            } catch {
                throw EgressSetupError("cannot open the audit log in \(audit.log.directory.path): \(error)")
            }
        } else {
            logger.warning("the egress audit log is off (audit.enabled: false): nothing records what leaves")
        }
        return EgressSetup(
            inspector: ReloadableInspector(compiled.inspector),
            recorder: recorder,
            auditLog: auditLog,
            auditSpace: auditSpace,
            policyVersions: compiled.versions,
            sourceFiles: compiled.sourceFiles
        )
    }

    /// A configuration's policies, compiled, with what they were read from.
    public struct CompiledPolicies: Sendable {
        public var inspector: PolicyInspector
        /// Per vendor, `name@sha256:…` of its policy (`none` for `policy: none`).
        public var versions: [String: String]
        /// The configuration file and every policy, include and term file behind it: what a reload depends on.
        public var sourceFiles: [String]
        /// Candidate policies (`policy_candidate`) that could not be loaded or compiled: ignored, enforcement
        /// unchanged. One message each, for the log.
        public var candidateProblems: [String] = []
    }

    /// Loads and compiles every vendor's policy into a new inspector (for start-up and for reloads).
    // Over 80 lines: one pass over the vendors that shares the compiled-policy cache and the lazily read key
    // between vendor policies, candidates and route policies.
    public static func compile(
        _ configuration: ProxyConfiguration,
        keys: PseudonymKeys? = nil
    ) throws(EgressSetupError) -> CompiledPolicies {
        var policies: [String: VendorPolicy] = [:]
        var routes: [String: [RouteChoice]] = [:]
        var versions: [String: String] = [:]
        // Each policy file compiles once (per set of exempt rules), however many vendors and routes name it.
        var compiled: [PolicyKey: VendorPolicy] = [:]
        var candidateProblems: [String] = []
        var candidateFiles: [String] = []
        // The key is read only when some vendor has a policy.
        var resolvedKeys = keys
        func load(
            _ path: String,
            exempting: [String] = [],
            at location: String? = nil
        ) throws(EgressSetupError)
            -> VendorPolicy
        {
            let key = PolicyKey(path: path, exempt: exempting)
            if let cached = compiled[key] { return cached }
            if resolvedKeys == nil { resolvedKeys = try Self.loadKeys(configuration.pseudonymKeyPath) }
            let policy = try Self.loadPolicy(
                path: path,
                keys: resolvedKeys!,
                limits: configuration.limits,
                exempting: exempting,
                at: location
            )
            compiled[key] = policy
            return policy
        }
        for vendor in configuration.vendors {
            var vendorPath: String?
            if case .file(let path)? = vendor.policy {
                vendorPath = path
                guard FileManager.default.fileExists(atPath: path) else {
                    throw EgressSetupError("vendor \"\(vendor.name)\": policy file not found: \(path)")
                }
                let policy = try load(path)
                policies[vendor.name] = policy
                versions[vendor.name] = policy.identity
                if let candidatePath = vendor.policyCandidate {
                    // A candidate never decides: one that cannot be loaded is reported and left out, nothing else.
                    do {
                        if resolvedKeys == nil { resolvedKeys = try Self.loadKeys(configuration.pseudonymKeyPath) }
                        let candidate = try Self.loadPolicy(
                            path: candidatePath,
                            keys: resolvedKeys!,
                            limits: configuration.limits
                        )
                        policies[vendor.name]?.candidate = CandidatePolicy(
                            redactor: candidate.redactor,
                            identity: candidate.identity,
                            sourceFiles: candidate.sourceFiles
                        )
                        candidateFiles += candidate.sourceFiles
                    } catch {
                        candidateProblems.append("vendor \(vendor.name): \(error.description)")
                    }
                }
            } else {
                versions[vendor.name] = "none"
            }
            guard !vendor.routePolicies.isEmpty else { continue }
            var choices: [RouteChoice] = []
            for pattern in vendor.routes {
                guard let own = vendor.routePolicies[pattern] else {
                    choices.append(RouteChoice(pattern: pattern, policy: nil))
                    continue
                }
                let path: String
                switch own.base {
                case .file(let file): path = file
                case .inherit:
                    // The parser refuses `inherit` under `policy: none`.
                    guard let vendorPath else { continue }
                    path = vendorPath
                }
                let policy = try load(path, exempting: own.exemptRules, at: own.location)
                choices.append(RouteChoice(pattern: pattern, policy: policy))
                versions["\(vendor.name) \(pattern)"] = policy.identity
            }
            routes[vendor.name] = choices
        }

        var sourceFiles = configuration.sourcePath.map { [$0] } ?? []
        for policy in compiled.values {
            for file in policy.sourceFiles where !sourceFiles.contains(file) { sourceFiles.append(file) }
        }
        for file in candidateFiles where !sourceFiles.contains(file) { sourceFiles.append(file) }
        return CompiledPolicies(
            inspector: PolicyInspector(policies: policies, routes: routes),
            versions: versions,
            sourceFiles: sourceFiles,
            candidateProblems: candidateProblems
        )
    }

    /// A compiled policy's cache key: its file and the rules exempted from it.
    private struct PolicyKey: Hashable {
        var path: String
        var exempt: [String]
    }

    /// Writes the audit log's final signed checkpoint and releases its directory.
    public func close() async {
        self.auditSpace?.stop()
        try? await self.auditLog?.close()
    }

    private static func loadKeys(_ path: String?) throws(EgressSetupError) -> PseudonymKeys {
        guard let path else {
            throw EgressSetupError("pseudonym_key is not set; run `airlock certs init` or point pseudonym_key at a key")
        }
        do throws(RedactionError) {
            return try PseudonymKeys(contentsOf: URL(fileURLWithPath: path))
        } catch {
            // The key's own message names the file and says how to create one.
            throw EgressSetupError(error.message)
        }
    }

    /// - Parameter location: the route entry (`file:line:col`) that asked for the policy with `exempting`.
    private static func loadPolicy(
        path: String,
        keys: PseudonymKeys,
        limits: ProxyConfiguration.Limits,
        exempting: [String] = [],
        at location: String? = nil
    ) throws(EgressSetupError) -> VendorPolicy {
        do {
            return try VendorPolicy.load(path: path, keys: keys, limits: limits, exempting: exempting)
        } catch let error as UnknownExemptRule {
            throw EgressSetupError("\(location ?? path): the route's \(error) (\(path))")
        } catch let error as PolicyLoadError {
            // Quoted policy values are withheld: this message goes to the service log (a reload that failed) and
            // to a service manager's journal. `airlock check` prints them to the policy's author.
            throw EgressSetupError(
                "the policy \(path) is invalid (quoted values withheld; `airlock check \(path)` shows them):\n"
                    + error.descriptionWithholdingValues
            )
        } catch {
            throw EgressSetupError(
                "the policy \(path) cannot be compiled (\(type(of: error)); `airlock check \(path)` says why)"
            )
        }
    }
}

/// Why the proxy's policies or audit log could not be prepared. One readable message, never a matched value.
public struct EgressSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
