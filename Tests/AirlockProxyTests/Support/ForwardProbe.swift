import Foundation

/// A hand-driven forward-proxy client in Python (system `python3`, standard library only), for what curl and the
/// SDKs never do on purpose: any CONNECT line, bytes sent early, another SNI or ALPN than the host, any `Host`, a
/// request line of one's choosing inside the tunnel.
enum ForwardProbe {
    struct Outcome {
        var result: [String: Any]
        var connectStatus: Int? { self.result["connect_status"] as? Int }
        var connectResponse: String { self.result["connect_response"] as? String ?? "" }
        var tlsError: String? { self.result["tls_error"] as? String }
        var alpn: String? { self.result["alpn"] as? String }
        var response: String { self.result["response"] as? String ?? "" }
        /// The answer to the request sent after the pause (`then:`), on the same connection.
        var secondResponse: String { self.result["second_response"] as? String ?? "" }
        var status: Int? {
            let line = self.response.split(separator: "\r\n").first ?? ""
            let fields = line.split(separator: " ")
            return fields.count > 1 ? Int(fields[1]) : nil
        }
    }

    /// - Parameters:
    ///   - connect: the CONNECT target (`api.scale.com:443`); nil sends `raw` alone.
    ///   - early: bytes sent right after the CONNECT request, before its answer is read.
    ///   - sni: the name sent in the TLS ClientHello (nil: the CONNECT host); `""` sends none.
    ///   - request: the HTTP request written inside the tunnel.
    static func run(
        port: Int,
        connect: String?,
        authorization: String?,
        ca: String,
        early: String = "",
        sni: String? = nil,
        alpn: [String] = ["http/1.1"],
        request: String = "",
        then: (pause: Double, request: String)? = nil,
        raw: String = "",
        proxyTLSCA: String? = nil
    ) async throws -> Outcome {
        let input: [String: Any] = [
            "port": port, "connect": connect ?? "", "authorization": authorization ?? "", "ca": ca, "early": early,
            "sni": sni ?? connect.map { String($0.split(separator: ":").first ?? "") } ?? "", "alpn": alpn,
            "request": request, "raw": raw, "proxy_tls_ca": proxyTLSCA ?? "",
            "pause": then?.pause ?? 0, "then": then?.request ?? "",
        ]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.script]
        var environment = ProcessInfo.processInfo.environment
        environment["PROBE_INPUT"] = String(decoding: try JSONSerialization.data(withJSONObject: input), as: UTF8.self)
        process.environment = environment
        let finished = try await Curl.execute(process, timeout: 20)
        let line = finished.stdout.split(separator: "\n").last { $0.hasPrefix("@@PROBE@@ ") }
        let parsed = line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.dropFirst(10).utf8)) }
        return Outcome(result: (parsed as? [String: Any]) ?? ["stderr": finished.stderr])
    }

    static let script = #"""
        import json, os, socket, ssl, time
        cfg = json.loads(os.environ["PROBE_INPUT"])
        out = {}
        def read_head(sock):
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data
        def read_all(sock):
            data = b""
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    if b"\r\n\r\n" in data:
                        head, _, body = data.partition(b"\r\n\r\n")
                        for line in head.split(b"\r\n"):
                            if line.lower().startswith(b"content-length:") and len(body) >= int(line.split(b":")[1]):
                                return data
            except (socket.timeout, ssl.SSLError, ConnectionResetError) as error:
                out["read_error"] = type(error).__name__
            return data
        sock = socket.create_connection(("127.0.0.1", cfg["port"]), timeout=8)
        if cfg["proxy_tls_ca"]:
            outer = ssl.create_default_context(cafile=cfg["proxy_tls_ca"])
            sock = outer.wrap_socket(sock, server_hostname="localhost")
        try:
            if not cfg["connect"]:
                sock.sendall(cfg["raw"].encode())
                out["response"] = read_all(sock).decode("utf-8", "replace")
            else:
                lines = ["CONNECT %s HTTP/1.1" % cfg["connect"], "Host: %s" % cfg["connect"]]
                if cfg["authorization"]:
                    lines.append("Proxy-Authorization: " + cfg["authorization"])
                sock.sendall(("\r\n".join(lines) + "\r\n\r\n" + cfg["early"]).encode())
                head = read_head(sock)
                out["connect_response"] = head.decode("utf-8", "replace")
                first = head.split(b"\r\n")[0].split(b" ")
                out["connect_status"] = int(first[1]) if len(first) > 1 else None
                if out["connect_status"] == 200:
                    context = ssl.create_default_context(cafile=cfg["ca"])
                    context.check_hostname = False
                    context.set_alpn_protocols(cfg["alpn"])
                    try:
                        tls = context.wrap_socket(sock, server_hostname=cfg["sni"] or None)
                        out["alpn"] = tls.selected_alpn_protocol()
                        if cfg["request"]:
                            tls.sendall(cfg["request"].encode())
                            out["response"] = read_all(tls).decode("utf-8", "replace")
                        if cfg["then"]:
                            time.sleep(cfg["pause"])
                            tls.sendall(cfg["then"].encode())
                            out["second_response"] = read_all(tls).decode("utf-8", "replace")
                    except (ssl.SSLError, OSError) as error:
                        out["tls_error"] = str(error)
                else:
                    out["response"] = head.decode("utf-8", "replace") + read_all(sock).decode("utf-8", "replace")
        except Exception as error:
            out["error"] = "%s: %s" % (type(error).__name__, error)
        print("@@PROBE@@ " + json.dumps(out))
        """#
}
