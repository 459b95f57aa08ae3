import AirlockAudit
import Metrics
import Synchronization

/// The egress audit log's own counters on `/metrics`, read from ``AuditLog/statistics`` at each scrape: records made
/// durable, the group commits (fsyncs) that carried them, checkpoints, rotations, bodies stored and crash
/// recoveries. A log that stopped committing while requests keep coming shows here before anyone reads the log.
public enum AuditMetrics {
    public static func register(_ log: AuditLog, in registry: PrometheusRegistry) {
        let families: [(name: String, help: String, value: @Sendable (AuditStatistics) -> Int)] = [
            ("airlock_audit_records_total", "Audit records (decisions, outcomes) made durable.", { $0.records }),
            ("airlock_audit_commits_total", "Group commits (fsyncs) of the audit log.", { $0.logSyncs }),
            ("airlock_audit_checkpoints_total", "Signed checkpoints written.", { $0.checkpoints }),
            ("airlock_audit_rotations_total", "Audit log files rotated.", { $0.rotations }),
            ("airlock_audit_bodies_stored_total", "Distinct forwarded bodies stored.", { $0.bodiesStored }),
            ("airlock_audit_recoveries_total", "Recovery events written after an unclean shutdown.", { $0.recoveries }),
        ]
        let counters = families.map { family in
            registry.setHelp(family.help, for: family.name)
            return Counter(label: family.name, factory: registry)
        }
        let seen = Mutex(AuditStatistics())
        registry.addCollector {
            // Read and advanced under one lock, so concurrent scrapes never count a stretch twice.
            seen.withLock { seen in
                let now = log.statistics
                for (family, counter) in zip(families, counters) {
                    let delta = family.value(now) - family.value(seen)
                    if delta > 0 { counter.increment(by: Int64(delta)) }
                }
                seen = now
            }
        }
    }
}
