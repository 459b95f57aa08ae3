import Foundation
import Metrics
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's own resources on `/metrics`, under the names Prometheus client libraries use, read from `/proc` at
/// each scrape: `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_cpu_seconds_total`,
/// `process_open_fds`, `process_max_fds` and `process_start_time_seconds`. Linux only (elsewhere nothing is
/// registered).
enum ProcessMetrics {
    /// One reading of `/proc/self`.
    struct Sample {
        var residentBytes: Double
        var virtualBytes: Double
        var cpuSeconds: Double
        var startTimeSeconds: Double
        var openDescriptors: Double
        var maxDescriptors: Double
    }

    static func register(in registry: PrometheusRegistry) {
        #if os(Linux)
        guard Self.read() != nil else { return }
        registry.setHelp("Resident memory size in bytes.", for: "process_resident_memory_bytes")
        registry.setHelp("Virtual memory size in bytes.", for: "process_virtual_memory_bytes")
        registry.setHelp("User and system CPU time spent, in seconds.", for: "process_cpu_seconds_total")
        registry.setHelp("Open file descriptors.", for: "process_open_fds")
        registry.setHelp("The limit on open file descriptors (RLIMIT_NOFILE).", for: "process_max_fds")
        registry.setHelp(
            "Start time of the process since the Unix epoch, in seconds.",
            for: "process_start_time_seconds"
        )
        let resident = Gauge(label: "process_resident_memory_bytes", factory: registry)
        let virtual = Gauge(label: "process_virtual_memory_bytes", factory: registry)
        let cpu = FloatingPointCounter(label: "process_cpu_seconds_total", factory: registry)
        let open = Gauge(label: "process_open_fds", factory: registry)
        let max = Gauge(label: "process_max_fds", factory: registry)
        let start = Gauge(label: "process_start_time_seconds", factory: registry)
        let countedCPU = Mutex(0.0)
        registry.addCollector {
            guard let sample = Self.read() else { return }
            resident.record(sample.residentBytes)
            virtual.record(sample.virtualBytes)
            open.record(sample.openDescriptors)
            max.record(sample.maxDescriptors)
            start.record(sample.startTimeSeconds)
            // The counter only goes up: it is advanced by what was spent since the last scrape.
            countedCPU.withLock { counted in
                if sample.cpuSeconds > counted {
                    cpu.increment(by: sample.cpuSeconds - counted)
                    counted = sample.cpuSeconds
                }
            }
        }
        #endif
    }

    /// `/proc/self/stat` (CPU ticks, start, sizes), `/proc/stat` (boot time), `/proc/self/fd` and RLIMIT_NOFILE.
    static func read() -> Sample? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")"),
            let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let bootLine = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(bootLine.dropFirst("btime ".count))
        else { return nil }
        // Fields after the command name, from field 3 (state) on: utime is 14, stime 15, starttime 22, vsize 23,
        // rss 24 (in pages).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
        guard let user = field(14), let system = field(15), let started = field(22), let virtual = field(23),
            let pages = field(24)
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        var limit = rlimit()
        getrlimit(fileDescriptorLimit, &limit)
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return Sample(
            residentBytes: pages * pageSize,
            virtualBytes: virtual,
            cpuSeconds: (user + system) / ticks,
            startTimeSeconds: boot + started / ticks,
            openDescriptors: Double(descriptors),
            maxDescriptors: Double(limit.rlim_cur)
        )
    }
}

#if canImport(Glibc)
private let fileDescriptorLimit = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let fileDescriptorLimit = RLIMIT_NOFILE
#endif
