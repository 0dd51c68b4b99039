// Package matching decides which open invoice an incoming bank payment pays
// when its reference is not a clean invoice number: the rules of issue 13,
// item 2, as pure functions over data a store can read from SQL.
//
// [Match] takes one [Payment] and the invoices that could be meant (the
// open ones, and recently paid ones so that a reference naming a paid
// invoice is recognised) and returns a [Decision]: either [Matched], to be
// applied without finance, or [Candidates], finance's worklist entry with
// the invoices ranked. Both carry the rule and the evidence in words for the
// audit log.
//
// The rules, tried in this order; the first that finds anything decides:
//
//   - [RuleExactReference] (confidence 1): an invoice number or RF
//     reference appears in the reference text, ignoring case, spaces and
//     punctuation, as a whole word. Several named open invoices whose open
//     amounts sum to the payment are matched as a split.
//   - [RuleRFCorrected] (0.97): an RF reference in the text fails its check
//     and exactly one open invoice's RF is one typing error from it.
//   - [RuleNumberCorrected] (0.95): an invoice number in the text is one
//     typing error from exactly one open invoice's number, and the amount
//     pays it (equal, or short by at most the fee tolerance).
//   - [RulePayerAmount] (0.95; 0.92 when short by a fee): the payer's
//     account belongs to exactly one customer, who has exactly one open
//     invoice of that amount.
//   - [RulePayerSum] (0.92): the payment equals the sum of exactly one set
//     of two to [Config.MaxSplitParts] of that customer's open invoices.
//   - [RuleNameAmount] (0.85): no account given, or one on file for no
//     customer; the payer's name, with
//     case, punctuation and legal forms removed, equals (or nearly equals)
//     exactly one customer's name, who has exactly one open invoice of that
//     amount. Below the default threshold: finance confirms it.
//
// A decision whose confidence is below [Config.AutoApply] becomes
// [Candidates]. Only invoices in the payment's currency are ever matched.
// A payer paying another customer's invoice by its reference is matched
// by the reference, with the payer's customer named in the evidence. A
// reference naming a paid invoice, or one in another currency, and an
// account or name shared by several customers, make any decision
// [Candidates]. docs/design.md, "Matching payments", has the whole table.
package matching
