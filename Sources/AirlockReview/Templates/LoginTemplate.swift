extension ReviewTemplates {
    static let login = """
        {{> header}}{{#message}}<p class="problem" id="problem">{{message}}</p>{{/message}}
        <form method="post" action="/login" id="login">
        <input type="hidden" name="form_token" value="{{formToken}}">
        <label>Reviewer token <input type="password" name="token" id="token" autocomplete="off" required></label>
        <button type="submit" id="sign-in">Sign in</button>
        </form>
        <p class="note">Scripts may also send <code>Authorization: Bearer &lt;token&gt;</code>.</p>
        {{> footer}}
        """
}
