// Package customer holds the rules that follow a customer between orders:
// a bounded summary of what and when the customer orders (Summary), and
// pure functions over it that say when a product's next order is expected
// (ExpectedNext), when its reorder reminder is due (ReminderAt), when a
// regular customer has gone quiet (DormantAt) and when an unanswered quote
// is nudged (NudgeAt). The customer workflow keeps the summary and calls
// these; nothing here knows Temporal, SQL or HTTP.
//
// The summary is bounded so that a customer of many years carries a few
// kilobytes through continue-as-new: per product the last MaxIntervals
// intervals and quantities, at most MaxProducts products (the least
// recently ordered is dropped), and the customer's own last intervals.
package customer
