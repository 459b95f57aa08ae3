extension ReviewTemplates {
    static let exposure = """
        {{> header}}<form method="get" action="/exposure" id="exposure-vendor"><label>Vendor <select name="vendor">
        {{#vendors}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/vendors}}
        </select></label> <button type="submit">Show</button></form>
        {{#vendor}}<h2>Labels that left, per day (UTC)</h2>
        <table id="labels"><thead><tr><th>Day</th><th>Requests</th><th>Labels (matches)</th></tr></thead><tbody>
        {{#days}}<tr><td>{{day}}</td><td class="n">{{requests}}</td>
        <td>{{#labels}}<span class="tag">{{name}} × {{count}}</span> {{/labels}}</td></tr>{{/days}}</tbody></table>
        <h2>Distinct pseudonyms and hashes</h2>
        <p class="note">Counted by a keyed fingerprint of each token (the key is made when the console starts and never
        leaves it); tokens are not shown. {{scanned}}</p>
        <table id="pseudonyms"><thead><tr><th>Label</th><th>Distinct</th><th>Occurrences</th></tr></thead><tbody>
        {{#pseudonyms}}<tr><td>{{label}}</td><td class="n">{{distinct}}</td><td class="n">{{occurrences}}</td></tr>{{/pseudonyms}}
        </tbody></table>{{/vendor}}
        {{> footer}}
        """
}
