/// Which vendor a host name belongs to on the forward listener (its `hosts:`). Every other name is refused.
struct ForwardHosts: Sendable {
    private let table: [String: Int]

    init(vendors: [ProxyConfiguration.Vendor]) {
        var table: [String: Int] = [:]
        for (index, vendor) in vendors.enumerated() {
            for host in vendor.hosts { table[host] = index }
        }
        self.table = table
    }

    /// The index of the vendor listing `host` (in ``ForwardHostName`` form), nil when none does.
    func vendorIndex(of host: String) -> Int? {
        self.table[host]
    }

    /// The intercepted host names (what the interception CA's name constraints must permit).
    var hosts: [String] { self.table.keys.sorted() }
}
