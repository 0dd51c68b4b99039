// Package order holds the B2B order domain: lifecycle statuses, quotes and
// their lines, the customer's commercial terms, and the rules that decide
// prices, approvals, credit, due dates and payment matching.
//
// Everything here is pure: no HTTP, SQL or Temporal. The workflow, the
// activities, the store and the API all speak these types, and the rules are
// table-tested on their own.
package order
