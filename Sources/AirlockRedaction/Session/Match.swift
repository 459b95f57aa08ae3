/// A resolved match: a byte span and the rule (and dictionary value, for terms) that produced it.
struct Match {
    var start: Int
    var end: Int
    var rule: Int32
    var value: Int32
}
