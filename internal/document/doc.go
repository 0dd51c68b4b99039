// Package document builds the buyer's commercial documents, invoices and
// credit notes, from the order's domain types, and renders them: as a
// printable HTML page ([Document.HTML]) and as a UBL 2.1 XML document
// ([Document.UBL]) with the core fields of EN 16931, which accounts-payable
// systems import.
//
// # Snapshots
//
// A [Document] is a snapshot taken at issue: the seller's and the buyer's
// names and addresses, the lines, the tax and the totals as they were when
// the invoice or credit note was issued. The store keeps it as it was built;
// a later change of the customer's address or the seller's bank account
// does not change an issued document.
//
// # Arithmetic
//
// Amounts are money.Money in minor units; no float touches them. A built
// document satisfies the EN 16931 sums ([Document.Check]):
//
//   - BR-CO-10: LineTotal is the sum of the line nets;
//   - BR-CO-13: Net (the tax-exclusive amount) is LineTotal less the
//     document-level Allowance (the quote's discount);
//   - BR-CO-15: Gross (the tax-inclusive amount, also the payable amount)
//     is Net plus Tax;
//   - BR-CO-17: Tax is Net at TaxRateBP, rounded half away from zero, to
//     within one minor unit (a credit note split from a gross amount may
//     be a cent off); none under reverse charge or at a zero rate.
//
// # Tax categories
//
// The UNCL 5305 category follows the customer's terms: AE (reverse charge,
// exemption reason VATEX-EU-AE) for an intra-EU reverse-charge customer, S
// (standard rate) when a rate is charged, G (export outside the EU,
// VATEX-EU-G) for a buyer outside the EU at no VAT, and Z (zero rated)
// otherwise.
//
// The package knows nothing of HTTP, SQL or Temporal.
package document
