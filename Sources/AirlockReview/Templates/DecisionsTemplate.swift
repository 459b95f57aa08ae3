extension ReviewTemplates {
    static let decisions = """
        {{> header}}<form method="get" action="/decisions" class="filters" id="filters">
        <label>Vendor <input name="vendor" value="{{filter.vendor}}" list="vendors"></label>
        <datalist id="vendors">{{#vendors}}<option value="{{.}}">{{/vendors}}</datalist>
        <label>Decision <select name="decision"><option value="">any</option>
        {{#decisionOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/decisionOptions}}
        </select></label>
        <label>Reason <select name="reason"><option value="">any</option>
        {{#reasonOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/reasonOptions}}
        </select></label>
        <label>Rule <input name="rule" value="{{filter.rule}}"></label>
        <label>Label <input name="label" value="{{filter.label}}"></label>
        <label>Client <input name="client" value="{{filter.client}}"></label>
        <label>Since <input name="since" value="{{filter.since}}" placeholder="24h, 7d, 2026-11-26"></label>
        <label>Until <input name="until" value="{{filter.until}}" placeholder="1h, 2026-11-27T00:00:00Z"></label>
        <button type="submit" id="apply">Filter</button> <a href="/decisions">Clear</a>
        </form>{{#timeError}}<p class="problem" id="problem">{{timeError}}</p>{{/timeError}}
        <p id="summary">{{total}} decisions · page {{page}} of {{pageCount}} ·
        <a href="/decisions.csv?{{query}}" id="export-csv">CSV</a> · <a href="/decisions.json?{{query}}" id="export-json">JSON</a></p>
        <table id="decisions"><thead><tr><th>Time (UTC)</th><th>Vendor</th><th>Client</th><th>Request</th><th>Decision</th>
        <th>Reason</th><th>Status</th><th>Findings</th><th>Bytes in / out</th></tr></thead><tbody>
        {{#rows}}<tr class="{{decision}}"><td><a href="{{link}}" class="record">{{time}}</a></td><td>{{vendor}}</td><td>{{client}}</td>
        <td class="path">{{method}} {{path}}</td><td>{{decision}}</td><td class="reason">{{reason}}</td><td>{{status}}</td>
        <td>{{findings}}</td><td class="n">{{requestBytes}} / {{forwardedBytes}}</td></tr>{{/rows}}
        </tbody></table>
        <nav class="pages">{{#previous}}<a href="{{previous}}" id="previous" rel="prev">← Newer</a>{{/previous}}
        {{#next}}<a href="{{next}}" id="next" rel="next">Older →</a>{{/next}}</nav>
        {{> footer}}
        """
}
