extension ReviewTemplates {
    static let record = """
        {{> header}}<p class="reason" id="reason">Reason: <strong>{{reason}}</strong></p>
        <table id="fields"><tbody>{{#fields}}<tr><th>{{name}}</th><td>{{value}}</td></tr>{{/fields}}</tbody></table>
        <h2>Findings</h2>{{^findings}}<p class="note">None.</p>{{/findings}}
        <table id="findings">{{#findings}}<tr><td>{{id}}</td><td>{{label}}</td><td>{{action}}</td><td class="n">{{count}}</td>
        <td>{{#paths}}<code class="path">{{.}}</code> {{/paths}}</td></tr>{{/findings}}</table>
        <h2>Body as it left</h2>{{#bodyNote}}<p class="note" id="body-note">{{bodyNote}}</p>{{/bodyNote}}
        {{#hasBody}}<p class="note">Placeholders are <mark class="placeholder">marked</mark>, pseudonyms and hashes
        <mark class="pseudonym">marked</mark>. Bytes that are not UTF-8 show as �.</p>
        <pre id="body">{{#segments}}{{> segment}}{{/segments}}</pre>{{/hasBody}}
        {{> footer}}
        """

    /// One piece of a stored body: a mark around a placeholder or pseudonym, plain text otherwise (one line: the
    /// body is preformatted, so no whitespace may come between pieces).
    static let segment =
        #"{{#placeholder}}<mark class="placeholder">{{text}}</mark>{{/placeholder}}"#
        + #"{{#pseudonym}}<mark class="pseudonym">{{text}}</mark>{{/pseudonym}}{{#plain}}{{text}}{{/plain}}"#
}
