/// The console's one stylesheet, served from `/static/console.css` (the Content-Security-Policy allows styles from
/// the console itself only: no inline style anywhere).
enum ConsoleStyle {
    static let css = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
        header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1f2d3d;color:#fff}
        header a{color:#cfe3ff;margin-right:1em}.brand{font-weight:600}
        main{padding:1em 1.2em}h1{font-size:1.3em;margin:.2em 0 .6em}h2{font-size:1.05em;margin:1.2em 0 .4em}
        table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #dde1e6;padding:.25em .5em;
        text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
        tr.blocked td{background:#fff4f2}tr.error td{background:#fff9e6}tr.failed td{background:#ffe3e0}
        .tag{display:inline-block;background:#eef1f5;border-radius:3px;padding:0 .3em;margin:1px}
        .path{font-family:ui-monospace,monospace;word-break:break-all}.note{color:#57606a}
        .problem{color:#a40e26;font-weight:600}form.inline{display:inline}
        .filters{display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:end;margin-bottom:.6em}
        .filters label{display:flex;flex-direction:column;font-size:.85em}
        pre#body{background:#fff;border:1px solid #dde1e6;padding:.6em;white-space:pre-wrap;word-break:break-all}
        mark.placeholder{background:#ffd8a8;outline:1px solid #e8590c}mark.pseudonym{background:#c5f6fa;
        outline:1px solid #0c8599}.pages a{margin-right:1em}
        """
}
