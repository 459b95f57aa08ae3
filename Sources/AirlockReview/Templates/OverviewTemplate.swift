extension ReviewTemplates {
    static let overview = """
        {{> header}}<section id="chains"><h2>Chain verification</h2><table><thead><tr><th>Directory</th><th>Status</th>
        <th>Last checkpoint</th><th>Signed by</th><th>Detail</th></tr></thead><tbody>
        {{#chains}}<tr class="{{state}}"><td>{{directory}}</td><td class="state">{{state}}</td><td>{{checkpoint}}</td>
        <td>{{keys}}</td><td>{{detail}}</td></tr>{{/chains}}
        </tbody></table></section>
        <section id="days"><h2>Per vendor and day (UTC)</h2>
        <table><thead><tr><th>Day</th><th>Vendor</th><th>Requests</th><th>Forwarded</th><th>Blocked</th><th>Refused (error)</th>
        <th>Bytes that left</th><th>Findings by rule</th><th>Findings by label</th></tr></thead><tbody>
        {{#days}}<tr><td>{{day}}</td><td><a href="/decisions?{{query}}">{{vendor}}</a></td><td class="n">{{requests}}</td>
        <td class="n">{{forwarded}}</td><td class="n">{{blocked}}</td><td class="n">{{error}}</td><td class="n">{{bytes}}</td>
        <td>{{#rules}}<span class="tag">{{name}} × {{count}}</span> {{/rules}}</td>
        <td>{{#labels}}<span class="tag">{{name}} × {{count}}</span> {{/labels}}</td></tr>{{/days}}
        </tbody></table>{{#more}}<p class="note">{{more}}</p>{{/more}}</section>
        <p class="note">{{records}} decisions indexed in {{buildTime}}.</p>
        {{> footer}}
        """
}
